"""SugarCrepe and GPR1200 readers on tiny fixtures in their official formats."""
from __future__ import annotations

import json

import pytest

from lipeval.datasets.gpr1200 import read_gpr1200
from lipeval.datasets.sugarcrepe import SUBSETS, read_sugarcrepe
from lipeval.errors import ConfigError, DataError, DataMissing

# swap_obj's real keys are not contiguous; the file order is kept
ITEMS = {
    "0": {"filename": "000000222235.jpg", "caption": "A cat swats at the plant.",
          "negative_caption": "A plant swats at the cat."},
    "7": {"filename": "000000480021.jpg", "caption": "A man waves at two men.",
          "negative_caption": "Two men wave at a man."},
    "3": {"filename": "000000222235.jpg", "caption": "A cat on a mat.", "negative_caption": "A mat on a cat."},
}


@pytest.fixture
def data_root(tmp_path, fx):
    for name in ("000000222235.jpg", "000000480021.jpg"):
        fx.write_image(tmp_path / "coco" / "val2017" / name)
    fx.write_json(tmp_path / "sugarcrepe" / "swap_obj.json", ITEMS)
    return tmp_path


def test_sugarcrepe_records(data_root):
    data = read_sugarcrepe(data_root / "sugarcrepe", "swap_obj")
    assert data.options == [[v["caption"], v["negative_caption"]] for v in ITEMS.values()]  # file key order
    assert data.answer == [0, 0, 0] and data.reference_rule == "strict" and data.groups is None
    assert data.case_image == [0, 1, 0]
    assert data.images.ids == ["000000222235.jpg", "000000480021.jpg"]
    assert data.images.root == data_root / "sugarcrepe" / "../coco/val2017"


def test_sugarcrepe_reads_the_repository_layout_too(data_root):
    (data_root / "sugarcrepe" / "data").mkdir()
    (data_root / "sugarcrepe" / "swap_obj.json").rename(data_root / "sugarcrepe" / "data" / "swap_obj.json")
    assert len(read_sugarcrepe(data_root / "sugarcrepe", "swap_obj").options) == 3


def test_sugarcrepe_missing_and_malformed(data_root):
    with pytest.raises(DataMissing, match="add_att.json"):
        read_sugarcrepe(data_root / "sugarcrepe", "add_att")
    with pytest.raises(ConfigError, match="unknown SugarCrepe subset"):
        read_sugarcrepe(data_root / "sugarcrepe", "swap_rel")
    with pytest.raises(DataMissing, match="val2017"):
        read_sugarcrepe(data_root / "sugarcrepe", "swap_obj", images_dir="../coco/val2014")
    path = data_root / "sugarcrepe" / "swap_obj.json"
    bad = dict(ITEMS)
    bad["7"] = {"filename": "000000480021.jpg", "caption": "A man."}
    path.write_text(json.dumps(bad))
    with pytest.raises(DataError, match="item '7' field 'negative_caption'"):
        read_sugarcrepe(data_root / "sugarcrepe", "swap_obj")
    bad["7"] = {"filename": "000000000009.jpg", "caption": "A man.", "negative_caption": "A woman."}
    path.write_text(json.dumps(bad))
    with pytest.raises(DataError, match="000000000009.jpg"):
        read_sugarcrepe(data_root / "sugarcrepe", "swap_obj")
    path.write_text("[]")
    with pytest.raises(DataError, match="expected a JSON object"):
        read_sugarcrepe(data_root / "sugarcrepe", "swap_obj")
    assert len(SUBSETS) == 7


@pytest.fixture
def gpr(tmp_path, fx):
    root = tmp_path / "gpr1200"
    for name in ("1000_face_b.jpg", "12_z.jpg", "1000_face_a.jpg", "2_x_y.jpg", "12_a.jpg", "450_s.jpg"):
        fx.write_image(root / "images" / name)
    (root / "images" / ".DS_Store").write_text("")
    return root


def test_gpr1200_order_and_categories(gpr):
    data = read_gpr1200(gpr)
    assert data.images.ids == ["2_x_y.jpg", "12_a.jpg", "12_z.jpg", "450_s.jpg", "1000_face_a.jpg",
                               "1000_face_b.jpg"]
    assert data.categories == [2, 12, 12, 450, 1000, 1000]
    assert data.limit(2).categories == [2, 12]


def test_gpr1200_missing_and_malformed(gpr, tmp_path):
    with pytest.raises(DataMissing, match="images"):
        read_gpr1200(tmp_path / "nothing")
    (gpr / "images" / "readme.txt").write_text("x")
    with pytest.raises(DataError, match="readme.txt"):
        read_gpr1200(gpr)
    (gpr / "images" / "readme.txt").unlink()
    (gpr / "images" / "1200_x.jpg").write_text("x")
    with pytest.raises(DataError, match="category id 1200"):
        read_gpr1200(gpr)
