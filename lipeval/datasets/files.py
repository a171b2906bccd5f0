"""Finding and reading the annotation files of a data set: UTF-8 text, JSON and JSON lines, one error policy.

Every reader parses its annotation files through these functions, so a missing file is always a
`DataMissing` and an unreadable or malformed one always a `DataError`, each naming the file (and the
line, for JSON lines) and what the file should hold (`layout`, in words: "a JSON list of records
{...}"). What the parsed values must look like beyond their top-level type is the reader's business.
A reader that accepts several annotation files (COCO's two official forms ...) finds the one present
with `find_annotation` / `first_present`.
"""
from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from lipeval.errors import DataError, DataMissing


@contextlib.contextmanager
def read_errors(path: Path, layout: str) -> Iterator[None]:
    """Turn the errors of opening `path` and decoding it as UTF-8 into lipeval's, naming the file and layout."""
    try:
        yield
    except FileNotFoundError:
        raise DataMissing(f"expected file {path} ({layout})") from None
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text ({e}); expected {layout}") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e} (expected {layout})") from None


def read_text(path: Path, layout: str, newline: str | None = None) -> str:
    """The text of a UTF-8 file (a leading byte-order mark dropped); `newline` as for `open`."""
    with read_errors(path, layout), open(path, encoding="utf-8-sig", newline=newline) as f:
        return f.read()


def read_json(path: Path, layout: str, top: type | None = None) -> Any:
    """The parsed content of the JSON file `path`; with `top` (list or dict), the top-level value must be one.

    Errors: no file -> DataMissing; not UTF-8, invalid JSON (with the parser's line and column) or another
    top-level type -> DataError.
    """
    text = read_text(path, layout)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg} "
                        f"(expected {layout})") from None
    if top is not None and not isinstance(value, top):
        raise DataError(f"{path}: expected {layout}, got a JSON {type(value).__name__}")
    return value


def read_jsonl(path: Path, layout: str, top: type | None = None) -> list[tuple[int, Any]]:
    """(line number, parsed value) for every non-blank line of the JSON-lines file `path`.

    `layout` says what each line holds; with `top`, every value must be of that type. Errors as for
    `read_json`, naming the line.
    """
    out = []
    for n, line in enumerate(read_text(path, layout).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}: line {n} is not valid JSON ({e.msg} at column {e.colno}); "
                            f"expected {layout}") from None
        if top is not None and not isinstance(value, top):
            raise DataError(f"{path}: line {n} is a JSON {type(value).__name__}; expected {layout}")
        out.append((n, value))
    return out


def first_present(root: Path, names: Sequence[str]) -> str | None:
    """The first of `names` (paths relative to `root`, in order of preference) that is a file, else None."""
    return next((name for name in names if (Path(root) / name).is_file()), None)


def find_annotation(root: Path, annotation: str | None, accepted: Mapping[str, str], what: str,
                    layout: str) -> Path:
    """The annotation file to read: `root/annotation` when the task names one, else the first present of
    `accepted` ({file name: its format}, in order of preference).

    Errors: the named file, or every accepted one, missing -> DataMissing naming them, `what` (the data
    set's annotation, e.g. "COCO Karpathy") and the layout.
    """
    root = Path(root)
    if annotation is not None:
        path = root / annotation
        if not path.is_file():
            raise DataMissing(f"annotation file {path} not found (expected layout {layout})")
        return path
    name = first_present(root, list(accepted))
    if name is None:
        options = " or ".join(f"{n} ({form})" for n, form in accepted.items())
        raise DataMissing(f"no {what} annotation in {root}: expected {options}; expected layout {layout}")
    return root / name
