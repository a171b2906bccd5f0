"""ShareGPT4V reader (LoTLIP's SAM 10k file and Long-CLIP's full captioner file) and the JSON-prefix parser."""
from __future__ import annotations

import json

import pytest

from lipeval.datasets.json_prefix import first_elements
from lipeval.datasets.sharegpt4v import read_sharegpt4v
from lipeval.errors import ConfigError, DataError, DataMissing


def _rec(i: int, source: str = "sam/images") -> dict:
    return {
        "id": f"sa_{i}",
        "image": f"{source}/sa_{i}.jpg",
        "conversations": [
            {"from": "human", "value": "<image>\nWhat is in the image?"},
            {"from": "gpt", "value": f"Image {i} shows a street.\n\nThe sky is blue. It is 3.5 km long."},
        ],
    }


@pytest.fixture
def sv(tmp_path, fx):
    root = tmp_path / "sharegpt4v"
    records = [_rec(i) for i in range(5)]
    fx.write_json(root / "share4v_sam_10k.json", records)
    full = [_rec(10, "coco/train2017"), _rec(11, "llava/llava_pretrain/images/00001"), *records]
    (root / "full.json").write_text(json.dumps(full))  # one line, no indentation
    for r in full:
        fx.write_image(root / r["image"])
    return root


def test_first_n_records_in_file_order(sv):
    data = read_sharegpt4v(sv, n_records=3)
    assert data.images.ids == ["sam/images/sa_0.jpg", "sam/images/sa_1.jpg", "sam/images/sa_2.jpg"]
    # the raw caption: preprocessing is a protocol option of the task, not the reader's business
    assert data.texts[1] == "Image 1 shows a street.\n\nThe sky is blue. It is 3.5 km long."
    assert data.text_image == [0, 1, 2]
    assert read_sharegpt4v(sv).texts == read_sharegpt4v(sv, n_records=5).texts  # None = every record


def test_longclip_file_mixes_sources(sv):
    data = read_sharegpt4v(sv, annotation="full.json", n_records=2)
    assert data.images.ids == ["coco/train2017/sa_10.jpg", "llava/llava_pretrain/images/00001/sa_11.jpg"]


def test_images_dir(sv, fx):
    fx.write_image(sv / "imgs" / "sam/images/sa_0.jpg")
    assert read_sharegpt4v(sv, n_records=1, images_dir="imgs").images.root == sv / "imgs"


def test_too_few_records_and_bad_n(sv):
    with pytest.raises(DataError, match="5 records, but this set is the first 1000"):
        read_sharegpt4v(sv, n_records=1000)
    with pytest.raises(ConfigError, match="n_records"):
        read_sharegpt4v(sv, n_records=0)


def test_missing_file_is_data_missing(sv):
    with pytest.raises(DataMissing, match="share-captioner"):
        read_sharegpt4v(sv, annotation="share-captioner_coco_lcs_sam_1246k_1107.json")


@pytest.mark.parametrize("change, message", [
    (lambda r: r.pop("image"), r"record \[1\] needs a non-empty string 'image'"),
    (lambda r: r.update(conversations=[r["conversations"][0]]),
     r"record \[1\] \(sam/images/sa_1.jpg\) needs 'conversations'"),
    (lambda r: r["conversations"][1].update(value=""), r"conversations\[1\].value must be a non-empty string"),
    (lambda r: r["conversations"][1].pop("value"), r"conversations\[1\].value must be a non-empty string"),
])
def test_malformed_record_names_file_and_index(sv, fx, change, message):
    records = [_rec(i) for i in range(3)]
    change(records[1])
    fx.write_json(sv / "share4v_sam_10k.json", records)
    for n in (None, 3):
        with pytest.raises(DataError, match=message):
            read_sharegpt4v(sv, n_records=n)


def test_not_a_list_and_missing_image(sv):
    (sv / "share4v_sam_10k.json").write_text('{"image": "x"}')
    with pytest.raises(DataError, match="expected a JSON list"):
        read_sharegpt4v(sv)
    with pytest.raises(DataError, match="must start with"):
        read_sharegpt4v(sv, n_records=1)
    (sv / "share4v_sam_10k.json").write_text(json.dumps([_rec(0), _rec(99)]))
    with pytest.raises(DataError, match="sa_99.jpg"):
        read_sharegpt4v(sv)


# -- first_elements: the same elements as json.loads(...)[:n], parsing only that far ------------------------------

VALUES = [{"a": [1, 2, {"b": "x, ]}"}]}, 12345678901234567890, -1.5e3, "str \"q\" \\ \u00e9", True, None, [], {}]


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 20])
def test_prefix_equals_full_parse(tmp_path, indent, chunk):
    path = tmp_path / "v.json"
    path.write_text(json.dumps(VALUES, indent=indent, ensure_ascii=False), encoding="utf-8")
    for n in range(len(VALUES) + 2):
        assert first_elements(path, n, chunk=chunk) == VALUES[:n]


def test_prefix_does_not_read_past_n(tmp_path):
    path = tmp_path / "v.json"
    path.write_text('[{"ok": 1}, {"ok": 2}, {"broken": ')  # malformed after the second element
    assert first_elements(path, 2, chunk=4) == [{"ok": 1}, {"ok": 2}]
    with pytest.raises(DataError, match=r"element \[2\] is not valid JSON"):
        first_elements(path, 3, chunk=4)


@pytest.mark.parametrize("text, message", [
    ("", "must start with"),
    ("[1, ", r"ends early, in element \[1\]"),
    ("[1, 2", r"after element \[1\], got 'end of file'"),
    ("[1 2]", r"expected ',' or '\]' after element \[0\]"),
    ("[1,, 2]", r"element \[1\] is not valid JSON"),
])
def test_prefix_malformed(tmp_path, text, message):
    path = tmp_path / "v.json"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        first_elements(path, 5, chunk=2)


def test_prefix_bom_and_empty_list(tmp_path):
    path = tmp_path / "v.json"
    path.write_bytes(b"\xef\xbb\xbf [ ] ")
    assert first_elements(path, 3) == []
