"""The plain-text summary table printed at the end of `lipeval run`, with group averages."""
from __future__ import annotations

import math

from lipeval.registry import Group


def _pct(x) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.2f}"


def group_means(records: list[dict], groups: dict[str, Group]) -> list[tuple[str, float, int, int]]:
    """(group, mean of members' main metrics over members that ran, n ran, n members) for touched groups."""
    by_task = {r["task"]: r for r in records}
    out = []
    for g in groups.values():
        members = [m for m in g.members if m in by_task]
        if not members:
            continue
        vals = [by_task[m]["metrics"].get(by_task[m]["main_metric"]) for m in members
                if by_task[m]["status"] == "ok"]
        vals = [v for v in vals if v is not None and not math.isnan(v)]
        if vals:
            out.append((g.name, sum(vals) / len(vals), len(vals), len(g.members)))
    return out


def summary_table(records: list[dict], groups: dict[str, Group]) -> str:
    rows = [("task", "status", "main metric", "value %", "chance %", "seconds")]
    for r in records:
        m = r.get("main_metric", "")
        value = r["metrics"].get(m) if r["status"] == "ok" else None
        chance = (r.get("chance") or {}).get(m)
        secs = "cached" if r.get("_cached") else f"{(r.get('timing') or {}).get('total', 0):.1f}"
        rows.append((r["task"], r["status"], m, _pct(value), _pct(chance), secs))
    for name, mean, n, total in group_means(records, groups):
        rows.append((f"[group] {name}", f"{n}/{total} ran", "mean of main", _pct(mean), "", ""))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {r['task']}: {r['error']}" for r in records if r["status"] != "ok"]
    if any((r.get("dataset") or {}).get("synthetic") for r in records):
        notes.append("  synthetic-suite results measure lipeval's shapes world, not any real benchmark")
    return "\n".join(lines + (["", "notes:"] + notes if notes else []))
