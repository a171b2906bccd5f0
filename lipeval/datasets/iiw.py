"""IIW (ImageInWords) long-text retrieval, as LoTLIP defines it (docs/protocols.md §B.1).

Layout under the task folder:

    DOCCI_Test/data.jsonl   IIW-400/data.jsonl   DCI_Test/data.jsonl     (the IIW release's annotation files)
    docci/<image>           docci_aar/<image>    dci/<image>             (images of each subset, in that order)

612 images = DOCCI_Test (100) + IIW-400 (400) + DCI_Test (112), concatenated in that order, one
caption each: the `IIW` field (DOCCI_Test's `DOCCI` field is not used). The image name is the
`image` field, else `image/key`; LoTLIP appends ".jpg" when the name does not contain ".jpg".

DOCCI file-name fallback: LoTLIP's preparation script copies a DOCCI image whose `test` name is
missing from its `train` name. When `<subset folder>/<name>` does not exist but the name with
"test" replaced by "train" does, that file is read instead.

The DCI_Test images are also DCI images (with other text): IIW and DCI overlap by 112 images.
"""
from __future__ import annotations

from pathlib import Path

from lipeval.datasets.files import read_jsonl
from lipeval.datasets.records import FileImages, RetrievalData, require_dir, require_file
from lipeval.errors import DataError

# annotation folder -> image folder, in LoTLIP's order
SUBSETS: dict[str, str] = {"DOCCI_Test": "docci", "IIW-400": "docci_aar", "DCI_Test": "dci"}
LAYOUT = "iiw/{DOCCI_Test,IIW-400,DCI_Test}/data.jsonl + iiw/{docci,docci_aar,dci}/<images>"
RECORD_SHAPE = '{"IIW": "<description>", "image": "<file>.jpg"} or {"IIW": ..., "image/key": "<name>"}'


def image_name(rec: dict, path: Path, line: int) -> str:
    """`image`, else `image/key`, with ".jpg" appended when the name does not contain it (LoTLIP)."""
    for key in ("image", "image/key"):
        if key in rec:
            name = rec[key]
            if not isinstance(name, str) or not name.strip():
                raise DataError(f"{path}: line {line}: {key!r} must be a non-empty string, got {name!r}")
            return name if ".jpg" in name else name + ".jpg"
    raise DataError(f"{path}: line {line} has neither 'image' nor 'image/key'; expected {RECORD_SHAPE}")


def _resolve(root: Path, folder: str, name: str) -> str:
    """Relative path of the image, applying the DOCCI test -> train file-name fallback."""
    rel = f"{folder}/{name}"
    if not (root / rel).is_file():
        alt = f"{folder}/{name.replace('test', 'train')}"
        if alt != rel and (root / alt).is_file():
            return alt
    return rel


def _read_subset(root: Path, subset: str, folder: str) -> tuple[list[str], list[str]]:
    path = require_file(root / subset / "data.jsonl", LAYOUT)
    images, texts = [], []
    for line, rec in read_jsonl(path, f"an object {RECORD_SHAPE}", top=dict):
        name = image_name(rec, path, line)
        if "IIW" not in rec:
            raise DataError(f"{path}: line {line} ({name}) has no 'IIW' field; expected {RECORD_SHAPE}")
        text = rec["IIW"]
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{path}: line {line} ({name}): 'IIW' must be a non-empty string, got {text!r}")
        images.append(_resolve(root, folder, name))
        texts.append(text)
    if not images:
        raise DataError(f"{path}: no records")
    return images, texts


def read_iiw(root: Path, expected: dict[str, int] | None = None) -> RetrievalData:
    """Read the three IIW subsets in LoTLIP's order; one caption (`IIW`) per image.

    `expected` maps subset -> record count (100 / 400 / 112 for the release): another count is a
    DataError, so a partial copy never gives a number. Errors: a missing folder or data.jsonl ->
    DataMissing; a bad line, a missing field or a missing image -> DataError naming the file.
    """
    root = Path(root)
    require_dir(root, LAYOUT)
    images, texts = [], []
    for subset, folder in SUBSETS.items():
        imgs, txts = _read_subset(root, subset, folder)
        if expected is not None and subset in expected and len(imgs) != expected[subset]:
            raise DataError(
                f"{root / subset / 'data.jsonl'}: {len(imgs)} records; IIW's {subset} has {expected[subset]}"
            )
        images.extend(imgs)
        texts.extend(txts)
    files = FileImages(root, images)
    files.check_exist(f"{root}/{{{','.join(SUBSETS)}}}/data.jsonl")
    return RetrievalData(files, texts, list(range(len(texts))), source=str(root))
