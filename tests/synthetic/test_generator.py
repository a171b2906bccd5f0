"""The synthetic suite generator: determinism, official formats, caption and label contracts."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lipeval.errors import ConfigError
from lipeval.synthetic import CLASS_SETS, MARKER, SCALES, generate
from lipeval.synthetic.captions import long_caption_sentences
from lipeval.synthetic.render import render
from lipeval.synthetic.world import BACKGROUNDS, CELLS, COLOURS, SHAPES, SIZES, sample_scenes

TINY = SCALES["tiny"]


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _scenes(suite: Path, split: str) -> list[dict]:
    return [json.loads(line) for line in (suite / "scenes" / f"{split}.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("a"), seed=0, scale="tiny")


@pytest.fixture(scope="module")
def all_scenes(suite) -> list[dict]:
    return _scenes(suite, "train") + _scenes(suite, "test")


def test_same_seed_gives_identical_bytes(suite, tmp_path):
    again = generate(tmp_path / "b", seed=0, scale="tiny")
    assert again == tmp_path / "b" / "synthetic"
    first, second = _hashes(suite), _hashes(again)
    assert len(first) > 300
    assert first == second


def test_different_seed_differs(suite, tmp_path):
    other = _hashes(generate(tmp_path, seed=1, scale="tiny"))
    first = _hashes(suite)
    assert len(other) == len(first)  # same counts; class-folder paths follow the labels
    assert {k for k in other if not k.startswith("folder/")} == {k for k in first if not k.startswith("folder/")}
    for name in ("scenes/test.jsonl", "scenes/train.jsonl", "coco/val2014/COCO_val2014_000000000001.jpg"):
        assert other[name] != first[name]


def test_train_and_test_use_different_seeds(suite):
    train, test = _scenes(suite, "train"), _scenes(suite, "test")
    assert [s["objects"] for s in train[: len(test)]] != [s["objects"] for s in test]


def test_regenerating_replaces_a_suite_but_not_foreign_data(tmp_path):
    generate(tmp_path, seed=0, scale="tiny")
    stale = tmp_path / "synthetic" / "coco" / "val2014" / "COCO_val2014_000000099999.jpg"
    stale.write_bytes(b"stale")
    generate(tmp_path, seed=0, scale="tiny")
    assert not stale.exists()
    foreign = tmp_path / "other" / "synthetic"
    foreign.mkdir(parents=True)
    (foreign / "mine.txt").write_text("keep")
    with pytest.raises(ConfigError):
        generate(tmp_path / "other", seed=0, scale="tiny")
    assert (foreign / "mine.txt").read_text() == "keep"
    with pytest.raises(ConfigError):
        generate(tmp_path / "x", scale="huge")


def test_marker(suite):
    meta = json.loads((suite / MARKER).read_text())
    assert meta["generator"] == "lipeval.synthetic" and meta["format_version"] == 1
    assert (meta["seed"], meta["scale"], meta["image_size"]) == (0, "tiny", 64)
    assert meta["counts"]["train"] == TINY["train"] and meta["counts"]["test"] == TINY["test"]
    assert meta["vocabulary"]["shapes"] == list(SHAPES) and len(SHAPES) >= 8
    assert set(meta["vocabulary"]["colours"]) == set(COLOURS) and len(COLOURS) >= 8
    assert len(BACKGROUNDS) >= 6


@pytest.mark.parametrize("split,word,n", [("test", "val", TINY["test"]), ("train", "train", TINY["train"])])
def test_coco_captions_files(suite, split, word, n):
    from pycocotools.coco import COCO

    ann_file = suite / "coco" / f"coco_{split}_karpathy.json"
    raw = json.loads(ann_file.read_text())
    assert set(raw) == {"info", "licenses", "images", "annotations"}
    coco = COCO(str(ann_file))
    ids = sorted(coco.getImgIds())
    assert len(ids) == n
    ann_ids = [a["id"] for a in raw["annotations"]]
    assert ann_ids == sorted(ann_ids) and len(set(ann_ids)) == len(ann_ids)
    scenes = {s["id"]: s for s in _scenes(suite, split)}
    for img in coco.loadImgs(ids):
        assert img["file_name"] == f"COCO_{word}2014_{img['id']:012d}.jpg"
        caps = [a["caption"] for a in coco.loadAnns(coco.getAnnIds(imgIds=img["id"]))]
        assert len(caps) == 5 and caps == scenes[img["id"]]["short_captions"]
        path = suite / "coco" / f"{word}2014" / img["file_name"]
        assert scenes[img["id"]]["image"] == f"coco/{word}2014/{img['file_name']}"
        with Image.open(path) as im:
            assert im.format == "JPEG" and im.size == (img["width"], img["height"]) == (64, 64)


def test_image_size_is_honoured(tmp_path):
    out = generate(tmp_path, seed=3, scale="tiny", image_size=96)
    raw = json.loads((out / "coco" / "coco_test_karpathy.json").read_text())
    for img in raw["images"][:5]:
        with Image.open(out / "coco" / "val2014" / img["file_name"]) as im:
            assert im.size == (96, 96) == (img["width"], img["height"])
    png = next((out / "folder" / "shape" / "test").rglob("*.png"))
    with Image.open(png) as im:
        assert im.size == (96, 96) and im.mode == "RGB"


def _row_col(cell: str) -> tuple[int, int]:
    row = {"top": 0, "middle": 1, "centre": 1, "bottom": 2}[cell.split()[0]]
    col = {"left": 0, "centre": 1, "right": 2}[cell.split()[-1]]
    return row, col


def test_scenes_and_relations_agree_with_cells(all_scenes):
    for s in all_scenes:
        objs = s["objects"]
        assert 1 <= len(objs) <= 4
        assert len({o["cell"] for o in objs}) == len(objs)
        assert len({(o["colour"], o["shape"]) for o in objs}) == len(objs)
        if objs[0]["size"] == "small":  # the main object is never smaller than another
            assert all(o["size"] == "small" for o in objs)
        expected = set()
        for i in range(len(objs)):
            for j in range(i + 1, len(objs)):
                (ri, ci), (rj, cj) = _row_col(objs[i]["cell"]), _row_col(objs[j]["cell"])
                if ci < cj:
                    expected.add((i, "left of", j))
                if ci > cj:
                    expected.add((i, "right of", j))
                if ri < rj:
                    expected.add((i, "above", j))
                if ri > rj:
                    expected.add((i, "below", j))
        got = [tuple(r) for r in s["relations"]]
        assert len(got) == len(set(got)) and set(got) == expected
    counts = [len(s["objects"]) for s in all_scenes]
    assert set(counts) == {1, 2, 3, 4}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def test_short_captions_describe_only_the_main_object(all_scenes):
    for s in all_scenes:
        main, caps = s["objects"][0], s["short_captions"]
        assert len(caps) == 5 and len(set(caps)) == 5
        for c in caps:
            w = _words(c)
            assert main["colour"] in w and main["shape"] in w, c
            assert w & set(COLOURS) == {main["colour"]}, c
            assert w & set(SHAPES) == {main["shape"]}, c
            assert w & set(SIZES) <= {main["size"]}, c
            assert w & set(BACKGROUNDS) <= {s["background"]}, c
            named_cells = {cell for cell in CELLS if re.search(rf"\b{cell}\b", c)}
            assert named_cells <= {cell for cell in CELLS if cell in main["cell"]}, c
            assert "." not in c
        # attributes beyond colour and shape appear in some paraphrases
        joined = " | ".join(caps)
        assert main["cell"] in joined and "background" in joined and main["size"] in joined


def test_short_captions_are_not_mostly_duplicates(suite):
    test = _scenes(suite, "test")
    caps = [c for s in test for c in s["short_captions"]]
    assert len(set(caps)) > 0.7 * len(caps)


def test_long_captions_describe_every_object_relation_and_background(all_scenes):
    sentences = []
    for s in all_scenes:
        text, objs = s["long_caption"], s["objects"]
        parts = text.rstrip(".").split(". ")
        assert len(parts) == long_caption_sentences(len(objs)) >= 3
        sentences.append(len(parts))
        for o in objs:
            assert f"{o['size']} {o['colour']} {o['shape']} is in the {o['cell']}" in text or \
                f"{o['size']} {o['colour']} {o['shape']} in the {o['cell']}" in text, (o, text)
        first_object = next(p for p in parts[1:])
        assert f"{objs[0]['colour']} {objs[0]['shape']}" in first_object
        for i, rel, j in s["relations"]:
            a, b = objs[i], objs[j]
            pair = [p for p in parts if p.startswith(f"The {a['colour']} {a['shape']} is ")
                    and p.endswith(f" the {b['colour']} {b['shape']}")]
            assert len(pair) == 1 and rel in pair[0], (rel, text)
        assert s["background"] in parts[-1]
        short_words = _words(" ".join(s["short_captions"]))
        if len(objs) > 1:  # the long caption carries what the short ones lack
            assert _words(text) - short_words
    assert np.mean(sentences) >= 5


def test_class_folders(suite):
    scenes = {"train": _scenes(suite, "train")[: TINY["folder_train"]], "test": _scenes(suite, "test")}
    for name, (label, classes, _, _) in CLASS_SETS.items():
        root = suite / "folder" / name
        classnames = (root / "classnames.txt").read_text().splitlines()
        templates = (root / "templates.txt").read_text().splitlines()
        assert 3 <= len(templates) <= 6 and all("{c}" in t for t in templates)
        for split, members in scenes.items():
            folders = sorted(p.name for p in (root / split).iterdir() if p.is_dir())
            assert len(folders) == len(classnames) == len(classes)
            assert folders == sorted(classes) and classnames == folders
            files = sorted((root / split).rglob("*.png"))
            assert len(files) == len(members)
            by_id = {s["id"]: s for s in members}
            for f in files:
                s = by_id[int(f.stem)]
                expected = {"shape": s["objects"][0]["shape"], "colour": s["objects"][0]["colour"],
                            "background": s["background"]}[name]
                assert f.parent.name == expected
    # the same image bytes serve every class set
    a = sorted((suite / "folder" / "shape" / "test").rglob("*.png"))[0]
    b = next((suite / "folder" / "colour" / "test").rglob(a.name))
    assert a.read_bytes() == b.read_bytes()


def test_class_map_marks_objects_at_their_positions():
    size = 64
    for scene in sample_scenes(np.random.default_rng(7), 40):
        image, cmap = render(scene, size)
        assert image.size == (size, size) and image.mode == "RGB"
        assert cmap.shape == (size, size) and cmap.dtype == np.uint8
        assert set(np.unique(cmap)) == {0} | {1 + SHAPES.index(o.shape) for o in scene.objects}
        for obj in scene.objects:
            row, col = CELLS.index(obj.cell) // 3, CELLS.index(obj.cell) % 3
            cell = cmap[row * size // 3:(row + 1) * size // 3, col * size // 3:(col + 1) * size // 3]
            values = set(np.unique(cell)) - {0}
            assert values == {1 + SHAPES.index(obj.shape)}
            r = obj.radius * size
            area = (cell > 0).sum()
            assert 0.25 * r * r < area < 4.0 * r * r
            if obj.shape != "ring":  # a ring's centre is its hole
                assert cmap[int(obj.cy * size), int(obj.cx * size)] == 1 + SHAPES.index(obj.shape)
        # the object's colour is drawn where the class map says it is
        pixels = np.asarray(image).astype(int)
        main = scene.main
        mask = cmap == 1 + SHAPES.index(main.shape)
        colour = np.array(COLOURS[main.colour])
        assert np.median(np.abs(pixels[mask] - colour).sum(axis=1)) < 40
