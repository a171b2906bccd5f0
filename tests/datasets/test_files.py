"""The shared annotation-file helpers: every failure names the file, the line where there is one, and the layout."""
from __future__ import annotations

import pytest

from lipeval.datasets.files import find_annotation, first_present, read_json, read_jsonl, read_text
from lipeval.errors import DataError, DataMissing

LAYOUT = "a JSON list of records {...}"


def test_read_json_parses_and_drops_a_byte_order_mark(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(b'\xef\xbb\xbf[{"x": 1}]')
    assert read_json(path, LAYOUT, top=list) == [{"x": 1}]
    assert read_json(path, LAYOUT) == [{"x": 1}]


def test_read_json_errors_name_file_position_and_layout(tmp_path):
    path = tmp_path / "a.json"
    with pytest.raises(DataMissing, match=r"expected file .*a\.json \(a JSON list of records"):
        read_json(path, LAYOUT)
    path.write_text('[1,\n  ]')
    with pytest.raises(DataError, match=r"a\.json: invalid JSON at line 2, column 3: .*\(expected a JSON list of rec"):
        read_json(path, LAYOUT)
    path.write_text('{"x": 1}')
    with pytest.raises(DataError, match=r"a\.json: expected a JSON list of records \{\.\.\.\}, got a JSON dict"):
        read_json(path, LAYOUT, top=list)
    path.write_bytes(b'["\xff"]')
    with pytest.raises(DataError, match=r"a\.json: not UTF-8 text .*; expected a JSON list of records"):
        read_json(path, LAYOUT)
    with pytest.raises(DataError, match=r"cannot read .*: .*\(expected a JSON list of records"):
        read_json(tmp_path, LAYOUT)  # a folder


def test_read_jsonl_numbers_lines_and_skips_blank_ones(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"x": 1}\n\n  \n{"x": 2}\n')
    assert read_jsonl(path, "an object", top=dict) == [(1, {"x": 1}), (4, {"x": 2})]
    path.write_text('{"x": 1}\n\n{"x": \n')
    with pytest.raises(DataError, match=r"a\.jsonl: line 3 is not valid JSON \(.* at column 7\); expected an object"):
        read_jsonl(path, "an object")
    path.write_text('{"x": 1}\n[2]\n')
    assert read_jsonl(path, "an object") == [(1, {"x": 1}), (2, [2])]
    with pytest.raises(DataError, match=r"a\.jsonl: line 2 is a JSON list; expected an object"):
        read_jsonl(path, "an object", top=dict)


def test_read_text_keeps_newlines_when_asked(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b'image,caption\r\n1.jpg,"a\r\nb"\r\n')
    assert read_text(path, "a CSV", newline="") == 'image,caption\r\n1.jpg,"a\r\nb"\r\n'
    assert read_text(path, "a CSV") == 'image,caption\n1.jpg,"a\nb"\n'


def test_find_annotation_takes_the_named_file_or_the_first_accepted_present(tmp_path):
    accepted = {"a.json": "form A", "b.txt": "form B"}
    with pytest.raises(DataMissing, match=r"no Set annotation in .*: expected a\.json \(form A\) or b\.txt \(form B\); "
                                          r"expected layout L"):
        find_annotation(tmp_path, None, accepted, "Set", "L")
    (tmp_path / "b.txt").write_text("x")
    assert find_annotation(tmp_path, None, accepted, "Set", "L") == tmp_path / "b.txt"
    (tmp_path / "a.json").write_text("x")
    assert find_annotation(tmp_path, None, accepted, "Set", "L") == tmp_path / "a.json"
    assert find_annotation(tmp_path, "b.txt", accepted, "Set", "L") == tmp_path / "b.txt"
    with pytest.raises(DataMissing, match=r"annotation file .*other\.json not found \(expected layout L\)"):
        find_annotation(tmp_path, "other.json", accepted, "Set", "L")


def test_first_present_keeps_the_order_of_preference(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.json").write_text("{}")
    (tmp_path / "y.json").mkdir()  # a folder is not an annotation file
    assert first_present(tmp_path, ("x.json", "y.json", "data/x.json")) == "data/x.json"
    assert first_present(tmp_path, ("x.json", "y.json")) is None
