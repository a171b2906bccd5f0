"""The synthetic long-text sets: written in the DCI, IIW, ShareGPT4V and Urban-1k formats, read back
through the real readers, with the scenes' long captions and the test images' bytes."""
from __future__ import annotations

import json

import pytest

from lipeval.datasets.dci import read_dci
from lipeval.datasets.iiw import read_iiw
from lipeval.datasets.sharegpt4v import read_sharegpt4v
from lipeval.datasets.urban1k import read_urban1k
from lipeval.registry import load_registry
from lipeval.synthetic.long_formats import SHAREGPT4V_FILE
from lipeval.text_preprocessing import lotlip_split


@pytest.fixture(scope="module")
def suite(synth_root):
    return synth_root / "synthetic"


@pytest.fixture(scope="module")
def scenes(suite) -> dict[int, dict]:
    rows = [json.loads(line) for line in (suite / "scenes" / "test.jsonl").read_text().splitlines()]
    return {r["id"]: r for r in rows}


def _id(path: str) -> int:
    """Scene id from a synthetic file name (sa_12.jpg, test_00012.jpg, aar_test_00012.jpg, 12.jpg)."""
    return int(path.rsplit("/", 1)[-1].split(".")[0].rsplit("_", 1)[-1])


def _check_images(data, suite):
    for k, rel in enumerate(data.images.ids):
        coco = suite / "coco" / "val2014" / f"COCO_val2014_{_id(rel):012d}.jpg"
        assert data.images.path(k).read_bytes() == coco.read_bytes()


def test_dci(suite, scenes):
    data = read_dci(suite / "long" / "dci")
    splits = json.loads((suite / "long" / "dci" / "densely_captioned_images" / "splits.json").read_text())
    assert list(splits) == ["train", "valid", "test"] and all(splits.values())
    assert len(data.texts) == len(scenes)  # every test scene, in split order
    for rel, text in zip(data.images.ids, data.texts):
        s = scenes[_id(rel)]
        assert text == f"{s['short_captions'][0]}\n{s['long_caption']}"
    _check_images(data, suite)


def test_iiw_overlaps_dci_test_split(suite, scenes):
    data = read_iiw(suite / "long" / "iiw")
    subsets = [rel.split("/")[0] for rel in data.images.ids]
    assert subsets == sorted(subsets, key=["docci", "docci_aar", "dci"].index)  # LoTLIP's subset order
    assert all(text == scenes[_id(rel)]["long_caption"] for rel, text in zip(data.images.ids, data.texts))
    aar = [json.loads(x) for x in (suite / "long" / "iiw" / "IIW-400" / "data.jsonl").read_text().splitlines()]
    assert all("image/key" in r and ".jpg" not in r["image/key"] for r in aar)
    docci = [json.loads(x) for x in (suite / "long" / "iiw" / "DOCCI_Test" / "data.jsonl").read_text().splitlines()]
    assert all(r["DOCCI"] != r["IIW"] for r in docci)
    dci_split = json.loads((suite / "long" / "dci" / "densely_captioned_images" / "splits.json").read_text())["test"]
    iiw_dci = [rel.split("/")[1] for rel in data.images.ids if rel.startswith("dci/")]
    assert iiw_dci == [n.replace(".json", ".jpg") for n in dci_split]  # the 112-image overlap, in miniature
    _check_images(data, suite)


def test_sharegpt4v_paragraphs_and_preprocessing(suite, scenes):
    data = read_sharegpt4v(suite / "long" / "sharegpt4v", annotation=SHAREGPT4V_FILE)
    assert len(data.texts) == len(scenes)
    assert any("\n\n" in t for t in data.texts)
    for rel, text in zip(data.images.ids, data.texts):
        assert lotlip_split(text) == lotlip_split(scenes[_id(rel)]["long_caption"])
    _check_images(data, suite)


def test_urban1k(suite, scenes):
    data = read_urban1k(suite / "long" / "urban1k")
    assert len(data.texts) == len(scenes)
    assert all(text == scenes[_id(rel)]["long_caption"] for rel, text in zip(data.images.ids, data.texts))
    _check_images(data, suite)


def test_long_captions_carry_what_short_ones_lack(scenes):
    for s in scenes.values():
        long = s["long_caption"]
        for o in s["objects"]:
            assert f"{o['colour']} {o['shape']}" in long and o["cell"] in long
        assert all(o["colour"] in long for o in s["objects"][1:])
        others = {f"{o['colour']} {o['shape']}" for o in s["objects"][1:]}
        assert not any(name in c for c in s["short_captions"] for name in others)


def test_tasks_and_groups():
    tasks, groups = load_registry()
    long_synth = {"synthetic/long_dci", "synthetic/long_iiw", "synthetic/long_sharegpt4v", "synthetic/long_urban1k"}
    assert long_synth <= set(groups["synthetic"].members)
    assert set(groups["long_retrieval"].members) == {
        "long/dci", "long/iiw", "long/sharegpt4v_10k", "long/sharegpt4v_1k", "long/sharegpt4v_longclip_1k",
        "long/urban1k",
    }  # real benchmarks only
    assert not long_synth & set(groups["all"].members)
    for name in groups["long_retrieval"].members:
        t = tasks[name]
        assert t.main_metric == "mean_R@1" and t.kind == "retrieval"
        expected = "newline_to_space" if name == "long/sharegpt4v_longclip_1k" else "lotlip_split"
        assert t.protocol["text_preprocessing"] == expected
    assert tasks["long/sharegpt4v_1k"].args == {"annotation": "share4v_sam_10k.json", "n_records": 1000}
    assert tasks["long/sharegpt4v_10k"].args["n_records"] == 10000
    assert tasks["long/sharegpt4v_longclip_1k"].args["annotation"] == "share-captioner_coco_lcs_sam_1246k_1107.json"
