"""CLIP_benchmark's webdataset layout (as written by `clip_benchmark.webdataset_builder`).

    root/
        <split>/nshards.txt          number of shards n; shards are <split>/0.tar .. <split>/{n-1}.tar
        <split>/0.tar ...
        classnames.txt               one class name per line, line i = label i   (classification)
        zeroshot_classification_templates.txt   one template with {c} per line (classification)
        dataset_type.txt             "retrieval" | "multilabel"; absent or anything else = classification

A sample is the run of consecutive tar members sharing a key (the member path up to the first
dot of its file name, as webdataset groups them; `__...__` members are skipped). Its image is the
first of the fields webp/png/jpg/jpeg (CLIP_benchmark's order), then bmp; its target is `cls` (an
integer label), `npy` (a 0/1 vector for multilabel) or `txt` (captions, one per line, for retrieval).

Reading: the shards are scanned once for member headers and the small target fields; image bytes
are not read then. Images are served by random access: `load(i)` seeks to the member's data offset
in its shard and decodes it. This needs uncompressed `.tar` shards, which is what
`convert_dataset` writes. Without `nshards.txt` every `<split>/*.tar` is used, in numeric order.
Captions are split with `str.splitlines` and not unescaped (CLIP_benchmark writes a newline
inside a caption as a literal backslash-n and reads it back that way).
"""
from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path
from typing import Sequence

import numpy as np

from lipeval.datasets.folder import check_templates, read_lines
from lipeval.datasets.image_files import image_fields
from lipeval.datasets.records import (ClassificationData, ImageSet, RetrievalData, files_fingerprint, require_dir,
                                      require_file)
from lipeval.errors import DataError, DataMissing

IMAGE_FIELDS = image_fields(("webp", "png", "jpg", "jpeg"))  # CLIP_benchmark's to_tuple(["webp", "png", ...]) order
TARGET_FIELDS = ("cls", "npy", "txt")
_KEY_RE = re.compile(r"^((?:.*/|)[^.]+)[.]([^/]*)$")
_META_RE = re.compile(r"__[^/]*__($|/)")
TEMPLATES_NAME = "zeroshot_classification_templates.txt"
LAYOUT = (
    "<root>/{<split>/nshards.txt + <split>/0.tar.., classnames.txt, "
    "zeroshot_classification_templates.txt, dataset_type.txt}"
)


def _decode_image(data: bytes, where: str):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataError(f"cannot decode image {where}: {e}") from None


class TarImages(ImageSet):
    """Images stored as members of uncompressed tar shards, read by seeking to their data."""

    def __init__(self, shards: Sequence[Path], ids: Sequence[str], members: Sequence[tuple[int, int, int, str]]):
        """`members[i]` = (shard index, data offset, size, field name) of image i."""
        super().__init__(ids)
        self.shards = [Path(s) for s in shards]
        self.members = list(members)

    def _where(self, i: int) -> str:
        shard, _, _, field = self.members[i]
        return f"{self.ids[i]}.{field} in {self.shards[shard]}"

    def _read(self, f, i: int):
        _, offset, size, _ = self.members[i]
        f.seek(offset)
        data = f.read(size)
        if len(data) != size:
            raise DataError(f"image {self._where(i)} is truncated ({len(data)} of {size} bytes)")
        return _decode_image(data, self._where(i))

    def load(self, i: int):
        path = self.shards[self.members[i][0]]
        try:
            with open(path, "rb") as f:
                return self._read(f, i)
        except FileNotFoundError:
            raise DataError(f"shard file not found: {path}") from None

    def compute_fingerprint(self) -> str:
        """The shards (`files_fingerprint`: names, sizes, sampled bytes) and where each image sits in them."""
        return files_fingerprint([(s.name, s) for s in self.shards],
                                 extra=[f"{k}:{m}" for k, m in zip(self.ids, self.members)])

    def subset(self, n: int) -> "TarImages":
        return TarImages(self.shards, self.ids[:n], self.members[:n])


def _shard_paths(split_dir: Path) -> list[Path]:
    nshards_path = split_dir / "nshards.txt"
    if nshards_path.is_file():
        text = nshards_path.read_text(encoding="utf-8", errors="replace").strip()
        try:
            n = int(text)
        except ValueError:
            raise DataError(f"{nshards_path}: expected the number of shards, got {text!r}") from None
        if n < 1:
            raise DataError(f"{nshards_path}: number of shards must be >= 1, got {n}")
        shards = [split_dir / f"{i}.tar" for i in range(n)]
        missing = [s.name for s in shards if not s.is_file()]
        if missing:
            raise DataError(
                f"{nshards_path} says {n} shards (0.tar..{n - 1}.tar) but {len(missing)} are missing "
                f"from {split_dir}: {', '.join(missing[:3])}"
            )
        return shards
    shards = list(split_dir.glob("*.tar"))
    if not shards:
        raise DataMissing(f"no shards in {split_dir}: expected nshards.txt and 0.tar.. ({LAYOUT})")
    return sorted(shards, key=lambda p: (0, int(p.stem), "") if p.stem.isdigit() else (1, 0, p.stem))


def _index_shard(path: Path) -> list[tuple[str, dict]]:
    """[(key, {field: (offset, size) for images | bytes for targets | None})] in member order."""
    samples: list[tuple[str, dict]] = []
    try:
        with tarfile.open(path, "r:") as tf:
            for m in tf:
                if not m.isreg() or _META_RE.match(m.name):
                    continue
                match = _KEY_RE.match(m.name)
                if not match:
                    continue
                key, field = match.group(1), match.group(2).lower()
                if not samples or samples[-1][0] != key:
                    samples.append((key, {}))
                fields = samples[-1][1]
                if field in fields:
                    raise DataError(f"shard {path}: sample {key} has two '{field}' members")
                if field in IMAGE_FIELDS:
                    fields[field] = (m.offset_data, m.size)
                elif field in TARGET_FIELDS:
                    fields[field] = tf.extractfile(m).read()
                else:
                    fields[field] = None
    except tarfile.ReadError as e:
        with open(path, "rb") as f:
            magic = f.read(6)
        if magic.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"\x28\xb5\x2f\xfd")):
            raise DataError(
                f"cannot read shard {path}: it is compressed; CLIP_benchmark shards are uncompressed .tar files "
                "(read by seeking to each image)"
            ) from None
        raise DataError(f"cannot read shard {path} as a tar file ({e}); is it truncated or not a tar?") from None
    except (tarfile.TarError, EOFError) as e:
        raise DataError(f"cannot read shard {path}: {e}") from None
    return samples


def _classnames(path: Path) -> list[str]:
    """Line i = class i; trailing blank lines are dropped, any other blank line is an error."""
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8-sig").splitlines()]
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e})") from None
    while lines and not lines[-1]:
        lines.pop()
    for n, line in enumerate(lines, start=1):
        if not line:
            raise DataError(f"{path}: line {n} is blank, but line i names class i (no blank lines allowed)")
    if not lines:
        raise DataError(f"{path}: no class names")
    return lines


def read_wds(root: Path, split: str = "test") -> RetrievalData | ClassificationData:
    """Read a CLIP_benchmark webdataset folder; the kind comes from dataset_type.txt.

    Returns RetrievalData ("retrieval"), ClassificationData with (N, C) labels ("multilabel"), or
    ClassificationData with (N,) labels (otherwise). Image ids are the sample keys.

    Errors: missing split folder, shards, classnames.txt or templates file -> DataMissing; bad
    nshards.txt, unreadable/truncated shards, samples without an image or target, duplicate keys,
    bad labels, class count mismatches, templates without `{c}` -> DataError.
    """
    root = Path(root)
    split_dir = require_dir(root / split, LAYOUT)
    shards = _shard_paths(split_dir)
    type_path = root / "dataset_type.txt"
    dataset_type = type_path.read_text(encoding="utf-8").strip().lower() if type_path.is_file() else "classification"
    kind = dataset_type if dataset_type in ("retrieval", "multilabel") else "classification"
    target = {"retrieval": "txt", "multilabel": "npy", "classification": "cls"}[kind]

    ids: list[str] = []
    members: list[tuple[int, int, int, str]] = []
    targets: list[bytes] = []
    where: list[str] = []
    seen: dict[str, Path] = {}
    for shard_no, shard in enumerate(shards):
        for key, fields in _index_shard(shard):
            if key in seen:
                raise DataError(f"sample key {key} appears twice (in {seen[key]} and {shard})")
            seen[key] = shard
            image_field = next((f for f in IMAGE_FIELDS if f in fields), None)
            if image_field is None:
                raise DataError(
                    f"shard {shard}: sample {key} has no image (fields {sorted(fields)}; expected one of "
                    f"{', '.join(IMAGE_FIELDS)})"
                )
            if target not in fields:
                raise DataError(
                    f"shard {shard}: sample {key} has no '{target}' field (fields {sorted(fields)}); "
                    f"{type_path.name} says {dataset_type!r}, read as {kind}"
                )
            offset, size = fields[image_field]
            ids.append(key)
            members.append((shard_no, offset, size, image_field))
            targets.append(fields[target])
            where.append(f"shard {shard}: sample {key}")
    if not ids:
        raise DataError(f"{split_dir}: the shards hold no samples")

    images = TarImages(shards, ids, members)
    source = str(split_dir)
    extra = {"dataset_type": kind, "shards": [str(s) for s in shards]}

    if kind == "retrieval":
        texts: list[str] = []
        text_image: list[int] = []
        for i, raw in enumerate(targets):
            try:
                caps = raw.decode("utf-8").splitlines()
            except UnicodeDecodeError as e:
                raise DataError(f"{where[i]}: 'txt' is not UTF-8 ({e})") from None
            if not caps:
                raise DataError(f"{where[i]}: 'txt' holds no captions")
            if any(not c.strip() for c in caps):
                raise DataError(f"{where[i]}: 'txt' has an empty caption line")
            texts.extend(caps)
            text_image.extend([i] * len(caps))
        return RetrievalData(images, texts, text_image, source=source)

    classnames = _classnames(require_file(root / "classnames.txt", LAYOUT))
    templates_path = require_file(root / TEMPLATES_NAME, LAYOUT)
    templates = check_templates(read_lines(templates_path), templates_path)

    if kind == "multilabel":
        rows = []
        for i, raw in enumerate(targets):
            try:
                v = np.load(io.BytesIO(raw), allow_pickle=False)
            except (ValueError, OSError, EOFError) as e:
                raise DataError(f"{where[i]}: 'npy' is not a numpy array file ({e})") from None
            if v.ndim != 1 or len(v) != len(classnames):
                raise DataError(
                    f"{where[i]}: 'npy' label has shape {v.shape}, expected ({len(classnames)},) "
                    f"= the number of names in classnames.txt"
                )
            if not np.isin(v, (0, 1)).all():
                raise DataError(f"{where[i]}: 'npy' label must hold only 0 and 1, got {np.unique(v)[:5]}")
            rows.append(v.astype(np.int64))
        labels = np.stack(rows)
    else:
        vals = []
        for i, raw in enumerate(targets):
            try:
                vals.append(int(raw))
            except ValueError:
                raise DataError(f"{where[i]}: 'cls' must be an integer label, got {raw[:20]!r}") from None
        labels = np.asarray(vals, dtype=np.int64)
        bad = np.flatnonzero((labels < 0) | (labels >= len(classnames)))
        if len(bad):
            raise DataError(
                f"{where[bad[0]]}: label {labels[bad[0]]} outside 0..{len(classnames) - 1} "
                f"({len(classnames)} names in {root / 'classnames.txt'})"
            )
    return ClassificationData(images, labels, classnames, templates, source=source, extra=extra)
