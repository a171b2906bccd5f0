"""The synthetic ARO / SugarCrepe / Order / GPR1200 sets: real hard negatives, official formats, end to end."""
from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from lipeval.datasets import get_reader
from lipeval.registry import load_registry, resolve
from lipeval.runner import Runner, RunOptions
from lipeval.synthetic.compositional import OPPOSITE, jittered, sugarcrepe_items, vg_items
from lipeval.synthetic.world import COLOURS, SHAPES, relations_between, sample_scenes

MENTION = re.compile(rf"\b({'|'.join(COLOURS)}) ({'|'.join(SHAPES)})\b")
CELL = re.compile(r"\b(\w+) (\w+) in the ((?:top|middle|bottom) (?:left|centre|right)|centre|top centre|"
                  r"bottom centre)")


@pytest.fixture(scope="module")
def scenes():
    return sample_scenes(np.random.default_rng(5), 300)


def _by_name(scene):
    return {(o.colour, o.shape): o for o in scene.objects}


def test_vg_relation_and_attribution_negatives_are_false(scenes):
    relation, attribution = vg_items(scenes, 64)
    by_id = {f"{s.id:06d}.jpg": s for s in scenes}
    assert len(relation) > 300 and len(attribution) > 200
    pattern = re.compile(r"the (\w+) (\w+) is (left of|right of|above|below) the (\w+) (\w+)")
    for item in relation:
        objs = _by_name(by_id[item["image_path"]])
        t = pattern.fullmatch(item["true_caption"]).groups()
        f = pattern.fullmatch(item["false_caption"]).groups()
        a, b = objs[t[:2]], objs[t[3:]]
        assert t[2] == f[2] == item["relation_name"]
        assert item["relation_name"] in relations_between(a.cell, b.cell)
        assert item["relation_name"] not in relations_between(objs[f[:2]].cell, objs[f[3:]].cell)
        x, y, w, h = (item[k] for k in ("bbox_x", "bbox_y", "bbox_w", "bbox_h"))
        assert w == h > 0 and 0 <= x and x + w <= 64 and 0 <= y and y + h <= 64
        for o in (a, b):  # the box holds both objects
            assert x <= (o.cx - o.radius) * 64 and (o.cx + o.radius) * 64 <= x + w
    for item in attribution:
        objs = _by_name(by_id[item["image_path"]])
        true = MENTION.findall(item["true_caption"])
        false = MENTION.findall(item["false_caption"])
        assert all(m in objs for m in true) and not all(m in objs for m in false)
        assert item["attributes"] == sorted(c for c, _ in true) == [c for c, _ in true]


def test_sugarcrepe_negatives_are_false(scenes):
    items = sugarcrepe_items(scenes, np.random.default_rng(0))
    assert set(items) == {"add_att", "add_obj", "replace_att", "replace_obj", "replace_rel", "swap_att",
                          "swap_obj"}
    by_file = {f"{s.id:012d}.jpg": s for s in scenes}
    for subset, doc in items.items():
        assert len(doc) > 50, subset
        for key, item in doc.items():
            s = by_file[item["filename"]]
            assert int(key) == scenes.index(s)
            objs = _by_name(s)
            pos, neg = item["caption"], item["negative_caption"]
            assert pos != neg and " a o" not in pos + neg and " a e" not in neg  # articles agree
            assert all(m in objs for m in MENTION.findall(pos)), (subset, pos)
            if subset == "replace_rel":
                rel = re.search(r"is (left of|right of|above|below) the", pos).group(1)
                assert neg == pos.replace(f"is {rel} the", f"is {OPPOSITE[rel]} the")
                a, b = (objs[m] for m in MENTION.findall(pos))
                assert rel in relations_between(a.cell, b.cell)
                assert OPPOSITE[rel] not in relations_between(a.cell, b.cell)
            elif subset == "swap_obj":
                placed = [((c, sh), cell) for c, sh, cell in CELL.findall(neg)]
                assert any(objs[name].cell != cell for name, cell in placed)
            elif subset == "add_att":
                assert any(m not in objs for m in MENTION.findall(neg))
            else:
                assert not all(m in objs for m in MENTION.findall(neg)), (subset, neg)
    assert list(items["swap_att"]) != [str(k) for k in range(len(items["swap_att"]))]  # non-contiguous ids


def test_jitter_keeps_the_configuration(scenes):
    rng = np.random.default_rng(0)
    s = scenes[0]
    j = jittered(s, rng)
    assert [(o.shape, o.colour, o.size, o.cell, o.radius) for o in j.objects] == \
        [(o.shape, o.colour, o.size, o.cell, o.radius) for o in s.objects]
    assert j.background == s.background and j.seed != s.seed
    assert [(o.cx, o.cy) for o in j.objects] != [(o.cx, o.cy) for o in s.objects]


def test_the_suite_reads_through_the_official_readers(synth_root):
    suite = synth_root / "synthetic"
    tasks, groups = load_registry()
    mine = ["synthetic/aro_vg_relation", "synthetic/aro_vg_attribution", "synthetic/aro_order",
            "synthetic/gpr1200"] + [f"synthetic/sugarcrepe_{s}" for s in ("add_att", "add_obj", "replace_att",
                                                                          "replace_obj", "replace_rel",
                                                                          "swap_att", "swap_obj")]
    assert set(mine) <= set(groups["synthetic"].members)
    for name in mine:
        t = tasks[name]
        data = get_reader(t.reader)(synth_root / t.folder, **t.args)
        assert len(data.images) > 0, name
    gpr = get_reader("gpr1200")(suite / "gpr1200")
    cats = np.array(gpr.categories)
    assert (np.bincount(cats)[np.unique(cats)] == 10).all()
    assert sorted({c // 200 for c in cats}) == [0, 1, 2, 3, 4, 5]  # one background kind per GPR1200 domain
    order = get_reader("aro_coco_order")(suite / "coco")
    assert order.extra["perturbations"].endswith("aro_order_perturbations.json")
    assert len(order.options) == 5 * len(order.images)


def test_synthetic_tasks_end_to_end(synth_root, tmp_path):
    names = ["synthetic/aro_vg_relation", "synthetic/aro_order", "synthetic/sugarcrepe_swap_att", "synthetic/gpr1200"]
    opts = RunOptions(model="open_clip:lipeval-tiny-rn", data_root=synth_root, out=tmp_path / "out", cache_dir=None,
                      batch_size=64, limit=6)
    recs = Runner(opts, log=lambda *_: None).run(resolve(names))
    assert [r["status"] for r in recs] == ["ok"] * 4, [r["error"] for r in recs]
    for r in recs:
        assert 0 <= r["metrics"][r["main_metric"]] <= 1 and r["main_metric"] in r["chance"]
        assert r["dataset"]["synthetic"] is True and r["limit"] == 6
    assert recs[0]["protocol"]["identical_options"] == "score" and recs[0]["main_metric"] == "macro_accuracy"
    assert recs[1]["info"]["n_cases"] == 30 and "artifacts" not in recs[1]["info"]  # a limited run hands none back
    assert set(recs[3]["metrics"]) == {"mAP", "mAP_landmarks", "mAP_inat", "mAP_sketch", "mAP_instre",
                                       "mAP_sop", "mAP_faces"}


def test_generated_perturbations_are_written_next_to_the_result(synth_root, tmp_path, monkeypatch, fake):
    from lipeval.datasets import aro_order
    from lipeval.synthetic.compositional import tag, tokenize

    data = tmp_path / "data"
    shutil.copytree(synth_root / "synthetic" / "coco", data / "synthetic" / "coco")
    shutil.copy(synth_root / "synthetic" / "lipeval_synthetic.json", data / "synthetic")
    (data / "synthetic" / "coco" / "aro_order_perturbations.json").unlink()  # force generation
    monkeypatch.setattr(aro_order, "load_language_tools", lambda hint="": (tag, tokenize, {"tagger": "test"}))
    runner = Runner(RunOptions(model="none", data_root=data, out=tmp_path / "out"), log=lambda *_: None)
    runner._embedder = fake.embedder()
    (rec,) = runner.run(resolve(["synthetic/aro_order"]))
    assert rec["status"] == "ok", rec["error"]
    assert rec["info"]["artifacts"] == ["synthetic__aro_order.perturbations.json"]
    assert rec["info"]["perturbations"] == "generated" and rec["info"]["generator"] == {"tagger": "test"}
    written = json.loads((tmp_path / "out" / "synthetic__aro_order.perturbations.json").read_text())
    shipped = json.loads((synth_root / "synthetic" / "coco" / "aro_order_perturbations.json").read_text())
    assert written["cases"] == shipped["cases"] and written["seed"] == 1 and written["max_words"] == 30


def test_real_tasks_without_data_or_tagger_are_skipped(synth_root, tmp_path, monkeypatch):
    import sys

    from lipeval.datasets.order_perturbations import INSTALL

    data = tmp_path / "data"
    shutil.copytree(synth_root / "synthetic" / "coco", data / "coco")  # no suite marker: reads as real data
    (data / "coco" / "aro_order_perturbations.json").unlink()
    monkeypatch.setitem(sys.modules, "spacy", None)
    names = ["aro/vg_relation", "aro/coco_order", "aro/flickr30k_order", "sugarcrepe/swap_obj", "gpr1200"]
    runner = Runner(RunOptions(model="none", data_root=data, out=tmp_path / "out"), log=lambda *_: None)
    recs = {r["task"]: r for r in runner.run(resolve(names))}
    assert all(r["status"] == "skipped" for r in recs.values()), {k: r["error"] for k, r in recs.items()}
    assert runner._adapter is None  # nothing was loaded
    assert "visual_genome_relation.json" in recs["aro/vg_relation"]["error"]
    assert INSTALL in recs["aro/coco_order"]["error"]
    assert "flickr30k_test.json" in recs["aro/flickr30k_order"]["error"]
    assert "swap_obj.json" in recs["sugarcrepe/swap_obj"]["error"]
    assert "gpr1200/images" in recs["gpr1200"]["error"]


def test_groups_hold_aro_sugarcrepe_categories_and_gpr1200():
    from lipeval.summary import group_means

    _, groups = load_registry()
    assert set(groups["compositionality"].members) == {
        "aro/vg_relation", "aro/vg_attribution", "aro/coco_order", "aro/flickr30k_order",
        *(f"sugarcrepe/{s}" for s in ("add_att", "add_obj", "replace_att", "replace_obj", "replace_rel",
                                      "swap_att", "swap_obj"))}
    assert set(groups["sugarcrepe_replace"].members) == {"sugarcrepe/replace_att", "sugarcrepe/replace_obj",
                                                         "sugarcrepe/replace_rel"}
    assert set(groups["sugarcrepe_swap"].members) == {"sugarcrepe/swap_att", "sugarcrepe/swap_obj"}
    assert set(groups["sugarcrepe_add"].members) == {"sugarcrepe/add_att", "sugarcrepe/add_obj"}
    assert groups["image_retrieval"].members == ("gpr1200",)
    recs = [{"task": f"sugarcrepe/{s}", "status": "ok", "main_metric": "accuracy", "metrics": {"accuracy": v}}
            for s, v in (("swap_att", 0.6), ("swap_obj", 0.8), ("add_obj", 0.9))]
    means = {name: mean for name, mean, _, _ in group_means(recs, groups)}
    assert means["sugarcrepe_swap"] == pytest.approx(0.7) and means["sugarcrepe_add"] == pytest.approx(0.9)
