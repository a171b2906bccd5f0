"""Other data sources: a CSV manifest, and webdataset shards (open_clip convention) with resume."""
import json

import pytest

from lipeval.train.config import load_config
from lipeval.train.metrics import read_metrics
from lipeval.train.trainer import train

BASE = ["schedule.steps=4", "schedule.warmup=1", "schedule.batch_size=8", "log.progress=false",
        "log.checkpoint_every=2", "run.threads=1"]


def _records(synth_root):
    lines = (synth_root / "synthetic" / "scenes" / "train.jsonl").read_text().splitlines()
    return [json.loads(ln) for ln in lines]


def test_csv_manifest_with_two_caption_columns(synth_root, tmp_path):
    import csv

    manifest = tmp_path / "train.csv"
    with manifest.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "alt", "description"])
        for r in _records(synth_root)[:32]:
            w.writerow([str(synth_root / "synthetic" / r["image"]), r["short_captions"][0], r["long_caption"]])
    cfg = load_config(None, BASE + ["data.source=manifest", f"data.manifest={manifest}", "data.image_key=path",
                                    "data.image_root=/", "data.texts=[{field: [alt, description]}]"])
    train(cfg, tmp_path / "run", log=lambda *_: None)
    assert len(read_metrics(tmp_path / "run")) == 4


@pytest.fixture(scope="module")
def shards(synth_root, tmp_path_factory):
    import webdataset as wds

    folder = tmp_path_factory.mktemp("shards")
    records = _records(synth_root)
    for s in range(4):
        with wds.TarWriter(str(folder / f"{s:06d}.tar")) as sink:
            for r in records[s::4]:
                image = (synth_root / "synthetic" / r["image"]).read_bytes()
                sink.write({"__key__": f"{r['id']:06d}", "jpg": image, "txt": r["short_captions"][0],
                            "json": json.dumps({"long_caption": r["long_caption"]}).encode()})
    return str(folder / "{000000..000003}.tar")


def test_webdataset_shards_train_and_resume_exactly(shards, tmp_path):
    cfg = load_config(None, BASE + ["data.source=webdataset", f"data.shards={shards}",
                                    "data.texts=[{field: txt}, {field: long_caption, sentences: 2}]"])
    train(cfg, tmp_path / "whole", log=lambda *_: None)
    train(cfg, tmp_path / "split", max_steps=2, log=lambda *_: None)
    train(cfg, tmp_path / "split", resume=True, log=lambda *_: None)
    whole, split = read_metrics(tmp_path / "whole"), read_metrics(tmp_path / "split")
    assert len(whole) == 4 and all(len(r["view_losses"]) == 2 for r in whole)
    assert [r["loss"] for r in split] == [r["loss"] for r in whole]
