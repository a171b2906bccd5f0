"""ARO VG-Relation / VG-Attribution readers on tiny fixtures in the official JSON format."""
from __future__ import annotations

import json

import pytest

from lipeval.datasets import get_reader
from lipeval.datasets.aro import read_vg_attribution, read_vg_relation, symmetric_relations
from lipeval.errors import DataError, DataMissing


def _item(image, box, true, false, **extra):
    x, y, w, h = box
    return {"image_path": image, "bbox_x": x, "bbox_y": y, "bbox_w": w, "bbox_h": h,
            "true_caption": true, "false_caption": false, **extra}


@pytest.fixture
def aro(tmp_path, fx):
    root = tmp_path / "aro"
    fx.write_image(root / "images" / "2343.jpg", (200, 10, 10), size=20)
    fx.write_image(root / "images" / "77.jpg", (10, 200, 10), size=20)
    rel = [
        _item("2343.jpg", (2, 3, 10, 6), "the horse is eating the grass", "the grass is eating the horse",
              relation_name="eating"),
        _item("77.jpg", (0, 0, 20, 20), "the cup is on the table", "the table is on the cup", relation_name="on"),
        _item("2343.jpg", (2, 3, 10, 6), "the man is near the horse", "the horse is near the man",
              relation_name="near"),  # same image and box: one cropped image
        _item("2343.jpg", (15, 15, 10.5, 10), "the sky is above the sea", "the sea is above the sky",
              relation_name="above"),  # the box reaches past the border: PIL pads
    ]
    att = [
        _item("77.jpg", (1, 1, 5, 5), "the white dog and the black cat", "the black dog and the white cat",
              attributes=["white", "black"]),
        _item("2343.jpg", (1, 1, 5, 5), "the red car and the blue sky", "the blue car and the red sky",
              attributes=["red", "blue"]),
    ]
    fx.write_json(root / "visual_genome_relation.json", rel)
    fx.write_json(root / "visual_genome_attribution.json", att)
    return root


def test_vg_relation_records(aro):
    data = read_vg_relation(aro)
    assert data.options[0] == ["the grass is eating the horse", "the horse is eating the grass"]  # [false, true]
    assert data.answer == [1, 1, 1, 1]
    assert data.groups == ["eating", "on", "near", "above"] and data.group_label == "relation"
    assert data.case_image == [0, 1, 0, 2]  # repeated (image, box) shares one cropped image
    assert data.images.ids == ["2343.jpg#2,3,10,6", "77.jpg#0,0,20,20", "2343.jpg#15,15,10.5,10"]
    assert data.reference_rule == "argmax"
    assert data.macro_exclude == symmetric_relations() and "near" in data.macro_exclude
    assert read_vg_relation(aro, exclude_symmetric=False).macro_exclude == frozenset()


def test_images_are_cropped_to_the_box(aro):
    images = read_vg_relation(aro).images
    first = images.load(0)
    assert first.size == (10, 6) and first.getpixel((0, 0))[0] > 150
    past = images.load(2)  # x 15..25.5 of a 20-px image: PIL rounds the box (25.5 -> 26) and pads with black
    assert past.size == (11, 10)
    assert past.getpixel((9, 9)) == (0, 0, 0) and past.getpixel((0, 0))[0] > 150
    assert images.subset(1).ids == images.ids[:1]
    assert images.fingerprint() != read_vg_attribution(aro).images.fingerprint()


def test_vg_attribution_records(aro):
    data = get_reader("aro_vg_attribution")(aro, min_items=25)
    assert data.groups == ["white_black", "red_blue"] and data.group_label == "attribute_pair"
    assert data.macro_min_items == 25
    assert data.options[1] == ["the blue car and the red sky", "the red car and the blue sky"]


def test_symmetric_relation_list_is_the_notebook_list():
    sym = symmetric_relations()
    assert len(sym) == 157
    assert {"adjusting", "attached to", "bigger than", "by", "of", "near", "next to", "with", "beside",
            "on the side of", "around"} <= sym
    assert not {"on", "eating", "above", "below", "left of", "right of", "wearing"} & sym


def test_limit_keeps_the_cases_of_the_first_images(aro):
    data = read_vg_relation(aro).limit(1)
    assert data.case_image == [0, 0] and data.groups == ["eating", "near"] and len(data.images) == 1


def test_missing_files_are_data_missing(tmp_path):
    with pytest.raises(DataMissing, match="visual_genome_relation.json"):
        read_vg_relation(tmp_path / "aro")
    (tmp_path / "aro").mkdir()
    (tmp_path / "aro" / "visual_genome_relation.json").write_text("[]")
    with pytest.raises(DataMissing, match="images"):
        read_vg_relation(tmp_path / "aro")


@pytest.mark.parametrize("mutate,message", [
    (lambda items: items[1].pop("true_caption"), r"item \[1\]: field 'true_caption'"),
    (lambda items: items[0].update(bbox_w=0), "width 0"),
    (lambda items: items[0].update(bbox_x="3"), "'bbox_x' must be a number"),
    (lambda items: items[2].update(relation_name=None), "'relation_name'"),
    (lambda items: items[0].update(image_path="missing.jpg"), "missing.jpg"),
])
def test_malformed_items_name_the_field(aro, mutate, message):
    path = aro / "visual_genome_relation.json"
    items = json.loads(path.read_text())
    mutate(items)
    path.write_text(json.dumps(items))
    with pytest.raises(DataError, match=message):
        read_vg_relation(aro)


def test_attribution_needs_two_attributes(aro):
    path = aro / "visual_genome_attribution.json"
    items = json.loads(path.read_text())
    items[0]["attributes"] = ["white"]
    path.write_text(json.dumps(items))
    with pytest.raises(DataError, match="'attributes' must be a list of two strings"):
        read_vg_attribution(aro)
    path.write_text('{"not": "a list"}')
    with pytest.raises(DataError, match="expected a JSON list"):
        read_vg_attribution(aro)
