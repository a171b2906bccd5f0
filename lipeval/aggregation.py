"""The group average: the one rule every report (run summary, export table, demo reading) follows.

A group's value is the unweighted mean of the main metrics of the group's members in scope
(the members the run asked for, the members a table shows, the tasks of a demo family); it
exists only when every member in scope has a finished (status ok) result with a defined
(non-NaN) main metric; otherwise it is blank, and the output says how many of the members
in scope have a value (e.g. "3/22").

All-or-nothing, because a mean over whichever members happened to finish compares runs on
different sets of tasks and reads like a number it is not. Pure and torch-free, so listing
and reporting stay light.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class GroupValue:
    """A group's value over its members in scope: the mean, or None when blank."""

    mean: float | None
    have: int  # members in scope with a value
    scope: int  # members in scope

    @property
    def count(self) -> str:
        """How many members in scope have a value, as the outputs print it: "3/22"."""
        return f"{self.have}/{self.scope}"


def defined(value: float | None) -> float | None:
    """The value as a float, or None when it is absent or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def main_value(record: dict | None) -> float | None:
    """A member's value: the record's main metric when it finished (status ok) and is defined, else None."""
    if not record or record.get("status") != "ok":
        return None
    return defined((record.get("metrics") or {}).get(record.get("main_metric")))


def group_value(values: Sequence[float | None]) -> GroupValue:
    """The rule of the module docstring, given one value per member in scope (None or NaN: no value)."""
    have = [v for v in map(defined, values) if v is not None]
    mean = sum(have) / len(have) if have and len(have) == len(values) else None
    return GroupValue(mean, len(have), len(values))
