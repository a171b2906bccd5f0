"""COCO Karpathy reader on tiny fixtures in both official forms."""
from __future__ import annotations

import json

import pytest

from lipeval.datasets import get_reader
from lipeval.datasets.coco import read_coco_karpathy
from lipeval.errors import DataError, DataMissing

# Image ids deliberately not sorted in list order; annotations listed out of id order.
IMAGES = [(42, "COCO_val2014_000000000042.jpg"), (7, "COCO_val2014_000000000007.jpg"), (100, "COCO_val2014_000000000100.jpg")]
ANNS = (
    [(30 + k, 42, f"forty-two caption {k}") for k in (4, 0, 3, 1, 2, 6, 5)]  # 7 captions
    + [(10 + k, 7, f"seven caption {k}") for k in (2, 1, 0, 5, 4, 3)]  # 6 captions
    + [(50 + k, 100, f"hundred caption {k}, with a comma") for k in range(5)]  # 5 captions
)


@pytest.fixture
def coco(tmp_path, fx):
    root = tmp_path / "coco"
    for n, (_, name) in enumerate(IMAGES):
        fx.write_image(root / "val2014" / name, (n * 60, 0, 0))
    fx.write_json(root / "coco_test_karpathy.json", fx.coco_captions_json(IMAGES, ANNS))
    return root


def write_blip(root, fx, captions_of: dict[str, list[str]] | None = None):
    """The BLIP/ALBEF file for the same data (captions in annotation-id order)."""
    if captions_of is None:
        captions_of = {name: [c for a, im, c in sorted(ANNS) if im == i] for i, name in IMAGES}
    entries = [{"image": f"val2014/{name}", "caption": caps} for name, caps in captions_of.items()]
    return fx.write_json(root / "coco_karpathy_test.json", entries)


def test_coco_captions_format(coco):
    data = read_coco_karpathy(coco)
    assert data.images.ids == [f"val2014/{name}" for _, name in IMAGES]
    assert len(data.texts) == 18 and data.text_image == [0] * 7 + [1] * 6 + [2] * 5
    assert data.texts[:7] == [f"forty-two caption {k}" for k in range(7)]  # annotation-id order
    assert data.texts[7:13] == [f"seven caption {k}" for k in range(6)]
    assert data.texts[13] == "hundred caption 0, with a comma"
    assert data.source.endswith("coco_test_karpathy.json")
    assert data.images.load(1).size == (8, 8)


def test_registry_finds_reader():
    assert get_reader("coco_karpathy") is read_coco_karpathy


def test_torchvision_order_quirk(coco):
    data = read_coco_karpathy(coco, quirk_torchvision_order=True)
    assert [i.split("_")[-1] for i in data.images.ids] == ["000000000007.jpg", "000000000042.jpg", "000000000100.jpg"]
    assert data.texts[:6] == [f"seven caption {k}" for k in (2, 1, 0, 5, 4, 3)]  # file order
    assert data.text_image == [0] * 6 + [1] * 7 + [2] * 5


def test_blip_format_gives_identical_records(coco, fx):
    a = read_coco_karpathy(coco)
    write_blip(coco, fx)
    b = read_coco_karpathy(coco, annotation="coco_karpathy_test.json")
    assert (a.images.ids, a.texts, a.text_image) == (b.images.ids, b.texts, b.text_image)
    (coco / "coco_test_karpathy.json").unlink()
    c = read_coco_karpathy(coco)  # autodetected
    assert c.source.endswith("coco_karpathy_test.json")
    assert (c.images.ids, c.texts, c.text_image) == (a.images.ids, a.texts, a.text_image)


def test_prefers_coco_captions_file(coco, fx):
    write_blip(coco, fx, {f"val2014/{IMAGES[0][1]}": ["only one"]})
    assert len(read_coco_karpathy(coco).texts) == 18


def test_limit(coco):
    sub = read_coco_karpathy(coco).limit(2)
    assert len(sub.images) == 2 and len(sub.texts) == 13 and max(sub.text_image) == 1


def test_missing_annotation_is_data_missing(tmp_path):
    with pytest.raises(DataMissing) as e:
        read_coco_karpathy(tmp_path)
    msg = str(e.value)
    assert "coco_test_karpathy.json" in msg and "coco_karpathy_test.json" in msg and "val2014/" in msg
    with pytest.raises(DataMissing, match="other.json"):
        read_coco_karpathy(tmp_path, annotation="other.json")


def test_malformed_json_names_file_and_position(coco):
    (coco / "coco_test_karpathy.json").write_text('{"images": [\n  {"id": 1,\n  ]}')
    with pytest.raises(DataError, match=r"coco_test_karpathy\.json: invalid JSON at line 3, column 3"):
        read_coco_karpathy(coco)


@pytest.mark.parametrize(
    "mutate, expect",
    [
        (lambda d: d.pop("annotations"), r"has no key 'annotations'.*\"image_id\""),
        (lambda d: d["images"][1].pop("file_name"), r"images\[1\] has no key 'file_name'"),
        (lambda d: d["annotations"][3].pop("caption"), r"annotations\[3\] has no key 'caption'"),
        (lambda d: d["annotations"][0].update(image_id=999), r"annotations\[0\].*image_id 999, which is not in 'images'"),
        (lambda d: d["annotations"][2].update(caption="  "), r"annotations\[2\].*empty caption"),
        (lambda d: d["images"].append({"id": 5, "file_name": "x.jpg"}), r"1 image\(s\).*no caption.*x\.jpg"),
        (lambda d: d["images"].append({"id": 7, "file_name": "y.jpg"}), r"image id 7 appears twice"),
        (lambda d: d["annotations"][1].update(id=34), r"annotation id 34 appears twice"),
        (lambda d: d.update(images={}), r"key 'images' must be a list"),
    ],
)
def test_bad_coco_captions_content(coco, mutate, expect):
    path = coco / "coco_test_karpathy.json"
    d = json.loads(path.read_text())
    mutate(d)
    path.write_text(json.dumps(d))
    with pytest.raises(DataError, match=expect) as e:
        read_coco_karpathy(coco)
    assert "coco_test_karpathy.json" in str(e.value)


@pytest.mark.parametrize(
    "entries, expect",
    [
        ({"image": "x"}, r"without keys 'images' and 'annotations'.*or a BLIP list"),
        ("just a string", r"top level is a JSON str"),
        ([{"image": "val2014/a.jpg"}], r"entry \[0\] has no key 'caption'"),
        ([{"image": "val2014/a.jpg", "caption": ["ok", ""]}], r"entry \[0\].*empty caption"),
        ([{"image": "val2014/a.jpg", "caption": []}], r"no captions.*val2014/a\.jpg"),
        ([{"image": "val2014/a.jpg", "caption": [3]}], r"'caption' must be a list of strings"),
    ],
)
def test_bad_blip_content(tmp_path, fx, entries, expect):
    fx.write_json(tmp_path / "coco_karpathy_test.json", entries)
    with pytest.raises(DataError, match=expect) as e:
        read_coco_karpathy(tmp_path)
    assert "coco_karpathy_test.json" in str(e.value)


def test_missing_image_file(coco):
    (coco / "val2014" / IMAGES[2][1]).unlink()
    with pytest.raises(DataError, match=r"1 of 3 images listed in .*coco_test_karpathy\.json are missing.*000000000100"):
        read_coco_karpathy(coco)


def test_images_dir_option(coco):
    (coco / "val2014").rename(coco / "imgs")
    data = read_coco_karpathy(coco, images_dir="imgs")
    assert data.images.ids[0] == f"imgs/{IMAGES[0][1]}"


def test_corrupt_image_fails_on_load(coco):
    (coco / "val2014" / IMAGES[0][1]).write_bytes(b"not a jpeg")
    data = read_coco_karpathy(coco)  # reading the annotation does not decode images
    with pytest.raises(DataError, match=r"cannot decode image file .*000000000042\.jpg"):
        data.images.load(0)
