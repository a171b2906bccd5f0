"""Webdataset shards (the open_clip convention) as a deterministic, rank- and worker-split stream.

A sample is one image (the first of `jpg`, `jpeg`, `png`, `webp`, `bmp`) plus its captions: `txt` (a single
caption, field name "txt") and/or `json` (any caption fields, e.g. short_captions and
long_caption). Text views read fields exactly as for a manifest.

Each epoch the shard list is shuffled with a generator seeded by (seed, epoch), and stream
s = rank * workers + worker reads shards s, s + S, s + 2S, ... (S = ranks x workers); when
its shards run out it starts the next epoch on its own, so no rank ever waits on another.
Caption draws are seeded by (seed, epoch, stream, sample index). A resumed run replays the
stream and skips the batches already trained on, so it continues exactly.
"""
from __future__ import annotations

import io
import json
import random

import numpy as np
import torch
from PIL import Image

from lipeval.datasets.image_files import image_fields
from lipeval.errors import ConfigError, DataError

from .data import draw_text, sample_seed

IMAGE_FIELDS = image_fields()


def expand_shards(pattern) -> list[str]:
    from webdataset.shardlists import expand_urls

    shards = expand_urls(pattern) if isinstance(pattern, str) else [str(p) for p in pattern]
    if not shards:
        raise ConfigError(f"data.shards {pattern!r}: matches no shard")
    return shards


def sample_record(sample: dict) -> dict:
    """A webdataset sample (raw bytes per extension) -> {'image': bytes, caption fields ...}."""
    record = {}
    if "json" in sample:
        record.update(json.loads(sample["json"]))
    if "txt" in sample:
        raw = sample["txt"]
        record["txt"] = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
    for ext in IMAGE_FIELDS:
        if ext in sample:
            record["__image__"] = sample[ext]
            break
    else:
        raise DataError(f"webdataset sample {sample.get('__key__', '?')} has no image ({', '.join(IMAGE_FIELDS)})")
    return record


class WdsStream(torch.utils.data.IterableDataset):
    def __init__(self, shards: list[str], views: list[dict], transform, augment: bool, seed: int, rank: int,
                 world: int):
        self.shards, self.views, self.transform, self.augment = shards, views, transform, augment
        self.seed, self.rank, self.world = seed, rank, world

    def __iter__(self):
        import webdataset as wds

        info = torch.utils.data.get_worker_info()
        workers, worker = (info.num_workers, info.id) if info else (1, 0)
        streams = self.world * workers
        stream = self.rank * workers + worker
        if len(self.shards) < streams:
            raise ConfigError(f"data.shards: {len(self.shards)} shards for {streams} readers (ranks x workers); "
                              "give at least one shard per reader")
        epoch = 0
        while True:
            order = list(self.shards)
            random.Random(self.seed * 1_000_003 + epoch).shuffle(order)
            mine = order[stream::streams]
            ds = wds.WebDataset(mine, shardshuffle=False, nodesplitter=None, workersplitter=None, empty_check=False)
            for i, sample in enumerate(ds):
                record = sample_record(sample)
                rng = np.random.default_rng([self.seed, epoch, stream, i])
                texts = [draw_text(record, v, rng) for v in self.views]
                if self.augment:
                    torch.manual_seed(sample_seed(self.seed, epoch, stream, i))
                with Image.open(io.BytesIO(record["__image__"])) as im:
                    image = self.transform(im.convert("RGB"))
                yield image, texts
            epoch += 1


class _Batches:
    """The first `stop - start` batches after skipping `start` batches of a loader."""

    def __init__(self, loader, start: int, stop: int):
        self.loader, self.start, self.stop = loader, start, stop

    def __len__(self) -> int:
        return max(0, self.stop - self.start)

    def __iter__(self):
        it = iter(self.loader)
        for _ in range(self.start):
            next(it)
        for _ in range(len(self)):
            yield next(it)


def webdataset_loader(pattern, views, transform, augment, collate, seed, global_batch, info, start, stop, workers):
    if global_batch % info.world_size:
        raise ConfigError(f"schedule.batch_size {global_batch} must be divisible by the {info.world_size} ranks")
    stream = WdsStream(expand_shards(pattern), views, transform, augment, seed, info.rank, info.world_size)
    loader = torch.utils.data.DataLoader(stream, batch_size=global_batch // info.world_size, collate_fn=collate,
                                         num_workers=workers)
    return _Batches(loader, start, stop)
