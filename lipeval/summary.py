"""The plain-text summary table printed at the end of `lipeval run`, with group averages."""
from __future__ import annotations

import math

from lipeval.aggregation import group_value, main_value
from lipeval.registry import Group


def _pct(x) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.2f}"


def group_means(records: list[dict], groups: dict[str, Group]) -> list[tuple[str, float | None, int, int]]:
    """(group, value, members with a value, members in scope) for each group the run touched.

    The members in scope are those the run asked for (those with a record); the value follows
    lipeval.aggregation (None unless every one of them has a value)."""
    by_task = {r["task"]: r for r in records}
    out = []
    for g in groups.values():
        members = [m for m in g.members if m in by_task]
        if members:
            v = group_value([main_value(by_task[m]) for m in members])
            out.append((g.name, v.mean, v.have, v.scope))
    return out


def summary_table(records: list[dict], groups: dict[str, Group]) -> str:
    rows = [("task", "status", "main metric", "value %", "chance %", "seconds")]
    for r in records:
        m = r.get("main_metric", "")
        value = r["metrics"].get(m) if r["status"] == "ok" else None
        chance = (r.get("chance") or {}).get(m)
        secs = "cached" if r.get("_cached") else f"{(r.get('timing') or {}).get('total', 0):.1f}"
        rows.append((r["task"], r["status"], m, _pct(value), _pct(chance), secs))
    for name, mean, have, scope in group_means(records, groups):
        rows.append((f"[group] {name}", f"{have}/{scope} with a value", "mean of main", _pct(mean), "", ""))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {r['task']}: {r['error']}" for r in records if r["status"] != "ok"]
    if any((r.get("dataset") or {}).get("synthetic") for r in records):
        notes.append("  synthetic-suite results measure lipeval's shapes world, not any real benchmark")
    return "\n".join(lines + (["", "notes:"] + notes if notes else []))
