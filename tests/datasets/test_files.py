"""The shared annotation-file loaders: every failure names the file, the line where there is one, and the layout."""
from __future__ import annotations

import pytest

from lipeval.datasets.files import read_json, read_jsonl, read_text
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
