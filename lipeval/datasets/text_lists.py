"""Tab-separated annotation tables (Birdsnap's species.txt, images.txt): every error names the file and line."""
from __future__ import annotations

from pathlib import Path

from lipeval.datasets.folder import read_lines
from lipeval.errors import DataError


def read_tsv(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of a tab-separated file whose first line names the fields; the `required` fields
    must be among them and non-empty in every row. Blank lines are skipped; missing trailing fields are ""."""
    lines = read_lines(path)
    if not lines:
        raise DataError(f"{path}: empty (expected a header line with the fields {', '.join(required)})")
    header = [h.strip() for h in lines[0][1].split("\t")]
    missing = [f for f in required if f not in header]
    if missing:
        raise DataError(f"{path}: header lacks field(s) {', '.join(missing)} (found {', '.join(header)})")
    rows = []
    for n, line in lines[1:]:
        cells = [c.strip() for c in line.split("\t")]
        row = dict(zip(header, cells + [""] * (len(header) - len(cells))))  # trailing empty fields
        empty = [f for f in required if not row[f]]
        if empty:
            raise DataError(f"{path}: line {n} has no value for {', '.join(empty)}")
        rows.append((n, row))
    return rows
