"""The synthetic suite's linear-probe sets: object counts (ImageFolder) and shapes present (multi-label
webdataset), read back through the official-format readers and checked against the scene records."""
import json
import tarfile

import numpy as np

from lipeval.datasets.folder import read_image_folder
from lipeval.datasets.records import open_rgb
from lipeval.datasets.wds import read_wds
from lipeval.synthetic.probe_sets import COUNT_WORDS
from lipeval.synthetic.world import SHAPES


def _scenes(suite, split):
    return {s["id"]: s for s in map(json.loads, (suite / "scenes" / f"{split}.jsonl").read_text().splitlines())}


def test_count_set_labels_are_object_counts(synth_root):
    suite = synth_root / "synthetic"
    for split in ("train", "test"):
        data = read_image_folder(suite / "folder" / "count", split=split)
        scenes = _scenes(suite, split)
        assert data.classnames == [COUNT_WORDS[n] for n in (1, 2, 3, 4)]
        for rel, label in zip(data.images.ids, data.labels):
            assert len(scenes[int(rel.rsplit("/", 1)[1][:-4])]["objects"]) == label + 1
        shape_set = read_image_folder(suite / "folder" / "shape", split=split)
        assert sorted(p.rsplit("/", 1)[1] for p in data.images.ids) == \
            sorted(p.rsplit("/", 1)[1] for p in shape_set.images.ids)  # the same scenes as the other sets


def test_shapes_present_is_multilabel_webdataset(synth_root):
    suite = synth_root / "synthetic"
    data = read_wds(suite / "wds" / "shapes_present", split="test")
    scenes = _scenes(suite, "test")
    assert data.multilabel and data.classnames == list(SHAPES) and data.labels.shape == (len(scenes), len(SHAPES))
    for key, row in zip(data.images.ids, data.labels):
        present = {o["shape"] for o in scenes[int(key)]["objects"]}
        assert {SHAPES[j] for j in np.flatnonzero(row)} == present
    png = next((suite / "folder" / "shape" / "test").rglob(f"{data.images.ids[0]}.png"))
    assert np.array_equal(np.asarray(data.images.load(0)), np.asarray(open_rgb(png)))  # the same image bytes
    with tarfile.open(suite / "wds" / "shapes_present" / "test" / "0.tar") as tf:
        assert {m.mtime for m in tf.getmembers()} == {0} and {m.uid for m in tf.getmembers()} == {0}
