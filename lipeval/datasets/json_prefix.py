"""Read the first N elements of a top-level JSON list without parsing the rest of the file.

Long-CLIP's ShareGPT4V-1k is the first 1,000 records of a captioner file with 1.2 million
records; parsing all of it only to keep 1,000 would take minutes and gigabytes. The standard
library's `json.JSONDecoder.raw_decode` parses one element at a time from a buffer read in chunks.
"""
from __future__ import annotations

import json
from pathlib import Path

from lipeval.datasets.files import read_errors
from lipeval.errors import DataError

_WS = " \t\n\r"
MAX_ELEMENT_CHARS = 64 << 20  # an element that does not parse within this many characters is malformed


class _Buffer:
    def __init__(self, f, chunk: int):
        self.f, self.chunk = f, chunk
        self.text, self.pos, self.eof = "", 0, False

    def more(self) -> bool:
        """Append the next chunk (dropping what was consumed); False at end of file."""
        data = self.f.read(self.chunk)
        self.text, self.pos = self.text[self.pos:] + data, 0
        self.eof = not data
        return bool(data)

    def peek(self) -> str:
        """The next non-whitespace character ("" at end of file), without consuming it."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _WS:
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""


def _separator_follows(text: str, i: int) -> bool:
    """Whether the next non-whitespace character after position i is in `text` and is ',' or ']'."""
    while i < len(text) and text[i] in _WS:
        i += 1
    return i < len(text) and text[i] in ",]"


def first_elements(path: Path, n: int, layout: str = "a JSON list of records", chunk: int = 1 << 20) -> list:
    """The first `n` elements of the JSON list in `path` (all of them when the list is shorter).

    Only the part of the file up to element n is parsed; malformed JSON there is a DataError
    naming the file, the element and `layout` (what the file should hold); no file is DataMissing.
    """
    path = Path(path)
    decoder = json.JSONDecoder()
    out: list = []
    with read_errors(path, layout), open(path, encoding="utf-8-sig") as f:
        buf = _Buffer(f, chunk)
        if buf.peek() != "[":
            raise DataError(f"{path}: expected {layout} (the file must start with '[')")
        buf.pos += 1
        if buf.peek() == "]":
            return out
        while len(out) < n:
            if buf.peek() == "":
                raise DataError(f"{path}: the JSON list ends early, in element [{len(out)}]")
            can_grow = len(buf.text) - buf.pos < MAX_ELEMENT_CHARS
            try:
                value, end = decoder.raw_decode(buf.text, buf.pos)
            except json.JSONDecodeError as e:
                if can_grow and buf.more():
                    continue  # the element may run past the buffer: read on and try again
                raise DataError(f"{path}: element [{len(out)}] is not valid JSON ({e.msg}); "
                                f"expected {layout}") from None
            if not _separator_follows(buf.text, end) and can_grow and buf.more():
                continue  # a number cut by the buffer end ("-1" of "-1.5e3") parses too: read on
            out.append(value)
            buf.pos = end
            sep = buf.peek()
            if sep == "]":
                break
            if sep != ",":
                got = sep or "end of file"
                raise DataError(f"{path}: expected ',' or ']' after element [{len(out) - 1}], got {got!r}")
            buf.pos += 1
    return out
