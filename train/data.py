"""Training data: image + caption records, text views, and a step-indexed, rank-aware sampler.

A record is a dict holding an image path (`data.image_key`) and caption fields. A text
view (`data.texts[i]`) says which caption each sample contributes for that view:

    field: short_captions          a field name; when it holds a list, one item is drawn
    field: [short, long]           several fields: one field is drawn per sample (a mix)
    sentences: 3                   split into sentences (LoTLIP's split, the one the evaluation
                                   uses: lipeval.text_preprocessing) and draw a window of
                                   3 consecutive ones (the whole text when it has fewer)
    features: all                  corner-token models: EOT and every corner feature

Every random draw comes from a generator seeded by (seed, epoch, record index), and the
batch of global step s is a fixed slice of a permutation seeded by (seed, epoch), so a
resumed run sees exactly the samples an uninterrupted run would, on any number of ranks.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lipeval.errors import ConfigError, DataError
from lipeval.text_preprocessing import split_sentences


def draw_text(record: dict, view: dict, rng: np.random.Generator) -> str:
    """The caption one record contributes to one text view."""
    fields = view["field"] if isinstance(view["field"], list) else [view["field"]]
    field = fields[int(rng.integers(len(fields)))] if len(fields) > 1 else fields[0]
    if field not in record:
        raise DataError(f"record {record.get('id', '?')} has no caption field {field!r} (fields: {sorted(record)})")
    value = record[field]
    if isinstance(value, list):
        if not value:
            raise DataError(f"record {record.get('id', '?')}: caption field {field!r} is an empty list")
        value = value[int(rng.integers(len(value)))]
    text = str(value)
    n = view.get("sentences")
    if n:
        parts = split_sentences(text)
        if len(parts) > n:
            start = int(rng.integers(len(parts) - n + 1))
            parts = parts[start:start + n]
        text = ". ".join(parts)
    return text


def sample_seed(*parts: int) -> int:
    """A 63-bit seed from integers (for torch.manual_seed)."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, np.uint64)[0] >> 1)


def read_manifest(path: Path) -> list[dict]:
    """Records of a JSONL (one object per line) or CSV (header row) manifest."""
    if not path.is_file():
        raise ConfigError(f"data.manifest {path}: no such file")
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    records = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise DataError(f"{path}:{n}: not valid JSON ({e})") from None
    return records


def synthetic_manifest(root: Path) -> tuple[Path, Path]:
    """(manifest, image root) of the synthetic suite's training split under a data root."""
    suite = root / "synthetic"
    manifest = suite / "scenes" / "train.jsonl"
    if not manifest.is_file():
        raise ConfigError(f"{root}: no synthetic suite (expected {manifest}); run `lipeval synth --out {root}`")
    return manifest, suite


class CaptionDataset(torch.utils.data.Dataset):
    """Map-style dataset indexed by (record index, epoch) -> (image tensor, one text per view)."""

    def __init__(self, records: list[dict], image_root: Path, image_key: str, transform, views: list[dict],
                 seed: int, cache_images: bool = False, augment: bool = False):
        if not records:
            raise DataError("the training manifest holds no records")
        missing = [i for i, r in enumerate(records[:1000]) if image_key not in r]
        if missing:
            raise DataError(f"record {missing[0]} has no image field {image_key!r}")
        self.records, self.image_root, self.image_key = records, Path(image_root), image_key
        self.transform, self.views, self.seed, self.augment = transform, views, seed, augment
        # a random transform must run on every draw, so its images are never cached
        self._cache: dict[int, torch.Tensor] | None = {} if cache_images and not augment else None

    def __len__(self) -> int:
        return len(self.records)

    def image(self, idx: int, epoch: int = 0) -> torch.Tensor:
        if self._cache is not None and idx in self._cache:
            return self._cache[idx]
        path = self.image_root / self.records[idx][self.image_key]
        if self.augment:  # torchvision draws from torch's global generator: fix it per sample and epoch
            torch.manual_seed(sample_seed(self.seed, epoch, idx))
        try:
            with Image.open(path) as im:
                x = self.transform(im.convert("RGB"))
        except (OSError, ValueError) as e:
            raise DataError(f"cannot read training image {path}: {e}") from None
        if self._cache is not None:
            self._cache[idx] = x
        return x

    def __getitem__(self, key: tuple[int, int]):
        idx, epoch = key
        rng = np.random.default_rng([self.seed, epoch, idx])
        texts = [draw_text(self.records[idx], v, rng) for v in self.views]
        return self.image(idx, epoch), texts


class StepBatchSampler(torch.utils.data.Sampler):
    """Yields, for steps start..stop-1, this rank's slice of the global batch as (index, epoch) pairs.

    The epoch of step s is s // (n // global_batch); within an epoch the order is a
    permutation seeded by (seed, epoch); the last incomplete batch of an epoch is dropped.
    """

    def __init__(self, n: int, global_batch: int, rank: int, world: int, seed: int, start: int, stop: int):
        if global_batch % world:
            raise ConfigError(f"schedule.batch_size {global_batch} must be divisible by the {world} ranks")
        if n < global_batch:
            raise ConfigError(f"the data has {n} records, fewer than one global batch ({global_batch})")
        self.n, self.batch, self.rank, self.world = n, global_batch, rank, world
        self.seed, self.start, self.stop = seed, start, stop
        self.per_epoch = n // global_batch
        self._perm: tuple[int, torch.Tensor] | None = None

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def indices(self, step: int) -> list[tuple[int, int]]:
        epoch, k = divmod(step, self.per_epoch)
        if self._perm is None or self._perm[0] != epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = (epoch, torch.randperm(self.n, generator=g))
        local = self.batch // self.world
        lo = k * self.batch + self.rank * local
        return [(int(i), epoch) for i in self._perm[1][lo:lo + local]]

    def __iter__(self):
        for step in range(self.start, self.stop):
            yield self.indices(step)


class Collate:
    """Stack images; tokenise each text view with the model's tokenizer."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, batch):
        images = torch.stack([b[0] for b in batch])
        n_views = len(batch[0][1])
        tokens = [self.tokenizer([b[1][v] for b in batch]) for v in range(n_views)]
        return images, tokens
