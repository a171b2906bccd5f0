"""IIW reader on fixtures in the IIW release's data.jsonl format, with LoTLIP's quirks."""
from __future__ import annotations

import json

import pytest

from lipeval.datasets.iiw import read_iiw
from lipeval.errors import DataError, DataMissing

DOCCI = [  # DOCCI_Test records also carry a DOCCI field, which is not used
    {"IIW": "A red kettle. It sits on a stove.", "DOCCI": "NOT USED", "ex_id": "test_00001", "image": "test_00001.jpg"},
    {"IIW": "A green door.\nIt is open.", "DOCCI": "NOT USED", "ex_id": "test_00002", "image": "test_00002.jpg"},
]
AAR = [{"IIW": "A wide field.", "image/key": "aar_test_04600"}]  # image/key, no extension
DCI_TEST = [{"IIW": "A balcony destroyed by an explosion.", "ex_id": "113029-data.json", "image": "sa_1545038.jpg",
             "metrics/Comprehensiveness": 4}]


def _write_jsonl(path, rows, blank_tail=True):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + ("\n" if blank_tail else ""))


@pytest.fixture
def iiw(tmp_path, fx):
    root = tmp_path / "iiw"
    _write_jsonl(root / "DOCCI_Test" / "data.jsonl", DOCCI)
    _write_jsonl(root / "IIW-400" / "data.jsonl", AAR)
    _write_jsonl(root / "DCI_Test" / "data.jsonl", DCI_TEST)
    fx.write_image(root / "docci" / "test_00001.jpg")
    fx.write_image(root / "docci" / "train_00002.jpg")  # only the train name exists: LoTLIP's fallback
    fx.write_image(root / "docci_aar" / "aar_test_04600.jpg")
    fx.write_image(root / "dci" / "sa_1545038.jpg")
    return root


def test_subsets_in_lotlip_order_with_name_quirks(iiw):
    data = read_iiw(iiw)
    assert data.images.ids == [
        "docci/test_00001.jpg",
        "docci/train_00002.jpg",  # test -> train fallback
        "docci_aar/aar_test_04600.jpg",  # ".jpg" appended to image/key
        "dci/sa_1545038.jpg",
    ]
    assert data.texts == [r["IIW"] for r in DOCCI + AAR + DCI_TEST]
    assert "NOT USED" not in " ".join(data.texts)
    assert data.text_image == [0, 1, 2, 3]


def test_expected_counts(iiw):
    assert len(read_iiw(iiw, expected={"DOCCI_Test": 2, "IIW-400": 1, "DCI_Test": 1}).texts) == 4
    with pytest.raises(DataError, match="IIW-400/data.jsonl: 1 records; IIW's IIW-400 has 400"):
        read_iiw(iiw, expected={"DOCCI_Test": 2, "IIW-400": 400, "DCI_Test": 1})


def test_test_name_wins_when_both_exist(iiw, fx):
    fx.write_image(iiw / "docci" / "test_00002.jpg")
    assert read_iiw(iiw).images.ids[1] == "docci/test_00002.jpg"


def test_missing_subset_file_is_data_missing(tmp_path, iiw):
    with pytest.raises(DataMissing, match="iiw"):
        read_iiw(tmp_path / "absent")
    (iiw / "DCI_Test" / "data.jsonl").unlink()
    with pytest.raises(DataMissing, match="DCI_Test/data.jsonl"):
        read_iiw(iiw)


def test_missing_image_after_fallback_is_named(iiw):
    (iiw / "docci" / "train_00002.jpg").unlink()
    with pytest.raises(DataError, match="docci/test_00002.jpg"):
        read_iiw(iiw)


@pytest.mark.parametrize("rows, message", [
    (['{"IIW": "x", "image": "a.jpg"', ], "line 1 is not valid JSON"),
    ([json.dumps(["IIW", "x"])], "line 1 is a JSON list"),
    ([json.dumps({"IIW": "x"})], "line 1 has neither 'image' nor 'image/key'"),
    ([json.dumps({"image": "a.jpg", "DOCCI": "y"})], r"line 1 \(a.jpg\) has no 'IIW' field"),
    ([json.dumps({"image": "a.jpg", "IIW": ""})], "'IIW' must be a non-empty string"),
    ([json.dumps({"image/key": 7, "IIW": "x"})], "'image/key' must be a non-empty string"),
    ([], "no records"),
])
def test_malformed_lines_name_file_and_line(iiw, rows, message):
    (iiw / "IIW-400" / "data.jsonl").write_text("".join(r + "\n" for r in rows))
    with pytest.raises(DataError, match=message):
        read_iiw(iiw)
