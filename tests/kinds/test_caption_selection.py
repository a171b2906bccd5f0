"""The caption-selection kind on official-format fixtures with known scores, and parity with ARO / SugarCrepe.

Every image embeds to (1, 0) and every caption to (s, sqrt(1 - s^2)), so a caption's score is exactly the s
chosen for it here and each number below can be computed by hand.
"""
from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image

from lipeval.datasets.aro import read_vg_attribution, read_vg_relation, symmetric_relations
from lipeval.datasets.choice_records import ChoiceData
from lipeval.errors import ConfigError
from lipeval.datasets.sugarcrepe import read_sugarcrepe
from lipeval.kinds.caption_selection import CaptionSelectionOptions
from lipeval.kinds.caption_selection.evaluate import evaluate

PROTOCOL = {"tie_policy": "pessimistic", "identical_options": "skip"}


def run(data, embedder, protocol):
    """(metrics, info with chance) of the kind on `data`."""
    r = evaluate(data, embedder, CaptionSelectionOptions.parse(protocol, "test"))
    return r.metrics, {"n_images": r.n_images, "n_texts": r.n_texts, **r.info, "chance": r.chance}


@pytest.fixture
def scored(fake):
    """`scored(scores, tokenize=None)` -> the fake model behind an embedder: every image embeds to (1, 0) and
    caption t to (s, sqrt(1 - s^2)) with s = scores[t], so image . caption == s exactly."""
    def make(scores: dict[str, float], tokenize=None):
        model = fake.Model(images=lambda _: [1.0, 0.0], tokenize=tokenize,
                           texts={t: [s, math.sqrt(1 - s ** 2)] for t, s in scores.items()})
        return model, fake.embedder(model)

    return make


def _as_fake(data, fake):
    """The records with their images replaced by id-only stand-ins (the fake model gives their vectors)."""
    return replace(data, images=fake.Images(data.images.ids))


def _write_image(path, size=16):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), (90, 20, 20)).save(path)


def _vg(root, items):
    _write_image(root / "images" / "1.jpg")
    root.joinpath(items[0]).write_text(json.dumps(items[1]))


def _rel(true, false, rel, box=(0, 0, 8, 8)):
    return {"image_path": "1.jpg", "bbox_x": box[0], "bbox_y": box[1], "bbox_w": box[2], "bbox_h": box[3],
            "true_caption": true, "false_caption": false, "relation_name": rel}


# (relation, true score, false score); the last false caption equals its true caption
VG_R = [("on", .9, .2), ("on", .3, .6), ("on", .5, .5), ("next to", .8, .1), ("next to", .2, .7),
        ("eating", .7, .4), ("eating", .6, None)]


@pytest.fixture
def vg_relation(tmp_path, fake, scored):
    items, scores = [], {}
    for k, (rel, t, f) in enumerate(VG_R):
        true = f"true {k} {rel}"
        false = true if f is None else f"false {k} {rel}"
        scores[true] = t
        if f is not None:
            scores[false] = f
        items.append(_rel(true, false, rel, box=(k % 2, 0, 8, 8)))
    _vg(tmp_path / "aro", ("visual_genome_relation.json", items))
    model, emb = scored(scores)
    return _as_fake(read_vg_relation(tmp_path / "aro"), fake), emb, model


def test_vg_relation_numbers_by_hand(vg_relation):
    data, emb, _ = vg_relation
    # the task's setting (identical_options=score): the case with equal captions ties and is a miss
    m, info = run(data, emb, {**PROTOCOL, "identical_options": "score"})
    assert m["relation/on"] == pytest.approx(1 / 3)        # .9>.2 right, .3<.6 wrong, .5=.5 tie -> wrong
    assert m["relation/next to"] == pytest.approx(1 / 2)
    assert m["relation/eating"] == pytest.approx(1 / 2)
    assert m["accuracy"] == pytest.approx(3 / 7)
    assert m["macro_accuracy"] == pytest.approx((1 / 3 + 1 / 2) / 2)  # "next to" is symmetric: left out
    assert info["macro_excluded"] == ["next to"] and info["n_groups_in_macro"] == 2
    assert info["n_identical_options"] == 1 and info["chance"]["macro_accuracy"] == pytest.approx(0.5)
    # skip: the equal "negative" is no negative, so that case is correct
    m, info = run(data, emb, PROTOCOL)
    assert m["relation/eating"] == 1.0 and m["accuracy"] == pytest.approx(4 / 7)
    assert info["chance"]["relation/eating"] == pytest.approx((1.0 + 0.5) / 2)
    # optimistic: the .5 = .5 tie counts as correct
    m, _ = run(data, emb, {**PROTOCOL, "tie_policy": "optimistic"})
    assert m["relation/on"] == pytest.approx(2 / 3)
    # the reference (np.argmax over [false, true]): ties are misses, equal captions included
    m, _ = run(data, emb, {**PROTOCOL, "tie_policy": "reference"})
    assert m["accuracy"] == pytest.approx(3 / 7) and m["macro_accuracy"] == pytest.approx(5 / 12)


def test_each_distinct_option_is_embedded_once(vg_relation):
    data, emb, model = vg_relation
    run(data, emb, PROTOCOL)
    texts = model.seen
    assert len(texts) == len(set(texts)) == 13  # 7 true + 6 distinct false captions


def test_vg_attribution_min_items(tmp_path, fake, scored):
    items, scores = [], {}
    spec = [("white", "black", .8, .1), ("white", "black", .2, .3), ("white", "black", .6, .5),
            ("red", "blue", .9, .1)]
    for k, (a, b, t, f) in enumerate(spec):
        items.append({"image_path": "1.jpg", "bbox_x": 0, "bbox_y": 0, "bbox_w": 5, "bbox_h": 5,
                      "attributes": [a, b], "true_caption": f"t{k}", "false_caption": f"f{k}"})
        scores[f"t{k}"], scores[f"f{k}"] = t, f
    _vg(tmp_path / "aro", ("visual_genome_attribution.json", items))
    data = _as_fake(read_vg_attribution(tmp_path / "aro", min_items=2), fake)
    m, info = run(data, scored(scores)[1], PROTOCOL)
    assert m == {"accuracy": 0.75, "macro_accuracy": pytest.approx(2 / 3),
                 "attribute_pair/white_black": pytest.approx(2 / 3)}  # red_blue has 1 < 2 cases
    assert info["n_groups"] == 2 and info["n_groups_reported"] == 1


def test_sugarcrepe_numbers_by_hand(tmp_path, fake, scored):
    _write_image(tmp_path / "coco" / "val2017" / "000000000001.jpg")
    items = {"0": ("p0", .7, "n0", .2), "4": ("p4", .4, "n4", .4), "9": ("p9", .1, "n9", .3),
             "2": ("p2", .5, "n2", .45)}
    doc = {k: {"filename": "000000000001.jpg", "caption": p, "negative_caption": n}
           for k, (p, _, n, _) in items.items()}
    (tmp_path / "sugarcrepe").mkdir()
    (tmp_path / "sugarcrepe" / "add_obj.json").write_text(json.dumps(doc))
    scores = {s: v for p, pv, n, nv in items.values() for s, v in ((p, pv), (n, nv))}
    data = _as_fake(read_sugarcrepe(tmp_path / "sugarcrepe", "add_obj"), fake)
    emb = scored(scores)[1]
    m, info = run(data, emb, PROTOCOL)
    assert m == {"accuracy": 0.5}  # the .4 = .4 tie is a miss (strict >)
    assert info["chance"] == {"accuracy": 0.5} and info["n_cases"] == 4
    m, _ = run(data, emb, {**PROTOCOL, "tie_policy": "reference"})
    assert m == {"accuracy": 0.5}
    m, _ = run(data, emb, {**PROTOCOL, "tie_policy": "optimistic"})
    assert m == {"accuracy": 0.75}  # clip-benchmark's argmax over [pos, neg] would count the tie too


def _punctuation_words(text: str) -> list[str]:
    """A tokenizer that, like CLIP's, splits punctuation off words: "man," and "man ," are the same tokens."""
    return text.replace(",", " , ").split()


def _order_data(options, case_image, n_images, fake):
    images = fake.Images([f"{i}.jpg" for i in range(n_images)])
    return ChoiceData(images, case_image, options, [0] * len(options), reference_rule="argmax", source="order")


def test_order_cases_identity_by_tokens(fake, scored):
    options = [["a man, riding", "a man , riding", "riding man a", "a riding , man", "man a riding"],
               ["two dogs", "dogs two", "two dogs", "dogs two", "two dogs"]]
    scores = {"a man, riding": .6, "a man , riding": .6, "riding man a": .2, "a riding , man": .5,
              "man a riding": .1, "two dogs": .3, "dogs two": .3}
    data = _order_data(options, [0, 1], 2, fake)
    # a tokenizer that keeps "man," whole: the strings differ, so the equal-scoring "a man , riding" is a
    # negative and ties
    m, info = run(data, scored(scores)[1], PROTOCOL)
    assert m == {"accuracy": 0.0} and info["option_identity"] == "tokens" and info["n_identical_options"] == 2
    # with a tokenizer that splits punctuation off it is the same caption, embedded once and left out
    model, emb = scored(scores, tokenize=_punctuation_words)
    m, info = run(data, emb, PROTOCOL)
    assert m == {"accuracy": 0.5} and info["option_identity"] == "tokens" and info["n_identical_options"] == 3
    assert "a man , riding" not in model.seen
    # ARO's argmax: a tie with the original (index 0) is correct
    m, _ = run(data, emb, {**PROTOCOL, "tie_policy": "reference"})
    assert m == {"accuracy": 1.0}
    m, _ = run(data, emb, {**PROTOCOL, "identical_options": "score"})
    assert m == {"accuracy": 0.0}
    with pytest.raises(ConfigError, match="option identical_options=drop: expected one of skip, score"):
        run(data, emb, {**PROTOCOL, "identical_options": "drop"})


# --- parity with the reference definitions (docs/protocols.md §E.2, §E.3) on identical scores ---------------

def _aro_vg_reference(scores: np.ndarray, groups: list[str], min_items: int, exclude: set) -> tuple[float, float]:
    """ARO: preds = np.argmax(scores.squeeze(1), -1); correct = preds == 1; per group via np.unique, groups with
    fewer than `min_items` cases dropped; the macro mean leaves out `exclude`."""
    correct = np.argmax(scores[:, None, :].squeeze(1), axis=-1) == 1
    labels = np.array(groups)
    per = {g: correct[labels == g].mean() for g in np.unique(labels) if (labels == g).sum() >= min_items}
    return float(np.mean(correct)), float(np.mean([v for g, v in per.items() if g not in exclude]))


def _scored_data(scores: np.ndarray, answer: int, fake, scored, groups=None, rule="argmax"):
    n, n_opt = scores.shape
    options = [[f"c{c}o{j}" for j in range(n_opt)] for c in range(n)]
    table = {options[c][j]: float(scores[c, j]) for c in range(n) for j in range(n_opt)}
    images = fake.Images(["img.jpg"])
    return ChoiceData(images, [0] * n, options, [answer] * n, groups=groups, reference_rule=rule), \
        scored(table)[1]


def test_parity_with_aro_vg_relation_and_attribution(fake, scored):
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(600, 2)) / 4  # many exact ties
    rels = list(rng.choice(["on", "near", "eating", "wearing", "by", "of"], size=600))
    data, emb = _scored_data(scores, 1, fake, scored, rels)
    data.macro_exclude = symmetric_relations()
    ref_acc, ref_macro = _aro_vg_reference(scores, rels, 1, set(symmetric_relations()))
    for policy in ("reference", "pessimistic"):  # on two options the reference is the pessimistic rule
        m, _ = run(data, emb, {"tie_policy": policy, "identical_options": "score"})
        assert m["accuracy"] == pytest.approx(ref_acc, abs=1e-12)
        assert m["macro_accuracy"] == pytest.approx(ref_macro, abs=1e-12)
    pairs = list(rng.choice(["a_b", "c_d", "e_f", "g_h"], size=600, p=[.5, .45, .04, .01]))
    data, emb = _scored_data(scores, 1, fake, scored, pairs)
    data.macro_min_items = 25
    _, ref_macro = _aro_vg_reference(scores, pairs, 25, set())
    m, _ = run(data, emb, {"tie_policy": "reference", "identical_options": "score"})
    assert m["macro_accuracy"] == pytest.approx(ref_macro, abs=1e-12)
    assert set(k for k in m if k.startswith("group/")) == {f"group/{p}" for p in set(pairs)
                                                          if pairs.count(p) >= 25}


def test_parity_with_aro_order_and_sugarcrepe(fake, scored):
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 5, size=(500, 5)) / 5
    data, emb = _scored_data(scores, 0, fake, scored)
    m, _ = run(data, emb, {"tie_policy": "reference", "identical_options": "skip"})
    assert m["accuracy"] == pytest.approx(float(np.mean(np.argmax(scores, axis=-1) == 0)), abs=1e-12)
    pair = scores[:, :2]
    data, emb = _scored_data(pair, 0, fake, scored, rule="strict")
    official = float(np.mean([1 if p > n else 0 for p, n in pair]))  # main_eval.text_retrieval
    for policy in ("reference", "pessimistic"):
        m, _ = run(data, emb, {"tie_policy": policy, "identical_options": "skip"})
        assert m["accuracy"] == pytest.approx(official, abs=1e-12)
