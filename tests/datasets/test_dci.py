"""DCI reader on a fixture in the release's layout (splits.json + annotations + photos)."""
from __future__ import annotations

import pytest

from lipeval.datasets.dci import read_dci
from lipeval.errors import DataError, DataMissing

# Key order is train, valid, test as in the release; LoTLIP concatenates in that order.
SPLITS = {"train": ["sa_3.json", "sa_1.json"], "valid": ["sa_7.json"], "test": ["sa_2.json"]}


def _ann(n: int) -> dict:
    return {
        "image": f"sa_{n}.jpg",
        "short_caption": f"Photo {n}.",
        "extra_caption": f"Detail one of {n}. Detail two of {n}.",
        "mask_data": {"0": {"idx": 0, "label": "thing", "caption": "a thing", "parent": -1, "requirements": []}},
        "mask_keys": ["0"],
        "summaries": {"base": ["short"]},
    }


@pytest.fixture
def dci(tmp_path, fx):
    base = tmp_path / "dci" / "densely_captioned_images"
    fx.write_json(base / "splits.json", SPLITS)
    for names in SPLITS.values():
        for name in names:
            n = int(name[3:-5])
            fx.write_json(base / "annotations" / name, _ann(n))
            fx.write_image(base / "photos" / f"sa_{n}.jpg", (n * 30, 0, 0))
    return tmp_path / "dci"


def test_all_splits_in_key_order_with_short_newline_extra(dci):
    data = read_dci(dci)
    assert data.images.ids == ["photos/sa_3.jpg", "photos/sa_1.jpg", "photos/sa_7.jpg", "photos/sa_2.jpg"]
    assert data.texts[0] == "Photo 3.\nDetail one of 3. Detail two of 3."
    assert data.text_image == [0, 1, 2, 3]
    assert data.source.endswith("splits.json")
    assert read_dci(dci, expected_images=4).texts == data.texts


def test_expected_count_guards_a_partial_copy(dci):
    with pytest.raises(DataError, match="lists 4 annotations; the DCI release has 7805"):
        read_dci(dci, expected_images=7805)


def test_missing_layout_is_data_missing(tmp_path, dci):
    with pytest.raises(DataMissing, match="densely_captioned_images"):
        read_dci(tmp_path / "nowhere")
    (dci / "densely_captioned_images" / "splits.json").unlink()
    with pytest.raises(DataMissing, match="splits.json"):
        read_dci(dci)


@pytest.mark.parametrize("splits, message", [
    ("not json", "invalid JSON at line 1"),
    (["sa_1.json"], "expected a non-empty JSON object"),
    ({"train": "sa_1.json"}, "split 'train' must be a list of annotation file names"),
    ({"train": ["sa_1.json"], "test": ["sa_1.json"]}, "listed twice"),
    ({"train": [], "test": []}, "every split is empty"),
    ({"train": ["sa_9.json"]}, r"sa_9.json is listed in splits.json but missing"),
])
def test_malformed_splits(dci, fx, splits, message):
    path = dci / "densely_captioned_images" / "splits.json"
    if isinstance(splits, str):
        path.write_text(splits)
    else:
        fx.write_json(path, splits)
    with pytest.raises(DataError, match=message):
        read_dci(dci)


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("extra_caption"), "sa_1.json: no key 'extra_caption'"),
    (lambda a: a.update(image=None), "key 'image' must be a string"),
    (lambda a: a.update(short_caption="", extra_caption=" "), "both short_caption and extra_caption are empty"),
])
def test_malformed_annotation_names_file_and_key(dci, fx, change, message):
    ann = _ann(1)
    change(ann)
    fx.write_json(dci / "densely_captioned_images" / "annotations" / "sa_1.json", ann)
    with pytest.raises(DataError, match=message):
        read_dci(dci)


def test_missing_photo_is_named(dci):
    (dci / "densely_captioned_images" / "photos" / "sa_7.jpg").unlink()
    with pytest.raises(DataError, match="photos/sa_7.jpg"):
        read_dci(dci)
