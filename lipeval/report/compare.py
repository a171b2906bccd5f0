"""Baseline vs candidate: the table of differences and the regression gate's verdict.

The gate fails when, for a task that finished in the baseline,
- the candidate has no finished result for it (missing, failed or skipped);
- the task version, main metric, protocol options or data size differ (not comparable);
- the main metric drops by more than its tolerance (percentage points), or becomes undefined;
- with `two_sided`, the main metric also rises by more than its tolerance (for a deterministic
  reference, where any unexplained change means something changed underneath).
Other metrics are listed for reading, never gated. Records of `--limit` runs are refused.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from lipeval.errors import ConfigError
from lipeval.report.runs import Run, read_run_folder, refuse_limited
from lipeval.report.table import value_text, signature

EPS = 1e-9  # percentage points; float noise, not a change


@dataclass
class Line:
    task: str
    metric: str
    main: bool
    base: float  # percent
    cand: float
    tolerance: float | None  # pp, main metrics only
    verdict: str  # main: ok | improved | within tolerance | REGRESSION | CHANGED | UNDEFINED | MISSING | NOT COMPARABLE

    @property
    def delta(self) -> float:
        return self.cand - self.base


@dataclass
class Comparison:
    baseline: Run
    candidate: Run
    lines: list[Line] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def load(folder: str | Path, flag: str) -> Run:
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{flag} {folder}: not a folder")
    run = read_run_folder(folder)
    if run is None:
        nested = sorted(p.parent.name for p in folder.glob("*/*.json"))
        hint = f"; it holds run folders ({', '.join(dict.fromkeys(nested))}): pass one of them" if nested else ""
        raise ConfigError(f"{flag} {folder}: no result records (the JSON files `lipeval run --out` writes){hint}")
    refuse_limited(run)
    return run


def parse_tolerances(items: list[str] | None) -> dict[str, float]:
    out = {}
    for it in items or []:
        task, sep, tol = it.rpartition("=")
        try:
            value = float(tol)
        except ValueError:
            value = -1.0
        if not sep or not task or not value >= 0:
            raise ConfigError(f"--per-task {it!r}: expected TASK=TOLERANCE in percentage points, e.g. coco_retrieval=1")
        out[task] = value
    return out


def _nan(x: float) -> bool:
    return x is None or math.isnan(x)


def compare(baseline: Run, candidate: Run, tolerance: float = 0.5, per_task: dict[str, float] | None = None,
            two_sided: bool = False) -> Comparison:
    per_task = dict(per_task or {})
    if tolerance < 0:
        raise ConfigError(f"--tolerance {tolerance}: must be >= 0 (percentage points)")
    unknown = [t for t in per_task if t not in baseline.records]
    if unknown:
        raise ConfigError(f"--per-task: {', '.join(unknown)} not in the baseline "
                          f"(its tasks: {', '.join(baseline.records)})")
    cmp = Comparison(baseline, candidate)
    for task, base in baseline.records.items():
        if base.get("status") != "ok":
            cmp.notes.append(f"{task}: baseline {base.get('status')}, not gated")
            continue
        cand = candidate.records.get(task)
        tol = per_task.get(task, tolerance)
        main = base["main_metric"]
        b_main = 100 * base["metrics"].get(main, math.nan)
        if cand is None or cand.get("status") != "ok":
            if cand is None:
                cmp.failures.append(f"{task}: missing from the candidate")
            else:
                err = str(cand.get("error") or "").splitlines()[0][:160] if cand.get("error") else ""
                cmp.failures.append(f"{task}: candidate {cand.get('status')}" + (f" ({err})" if err else ""))
            cmp.lines.append(Line(task, main, True, b_main, math.nan, tol, "MISSING"))
            continue
        sb, sc = signature(base), signature(cand)
        diff = sorted(k for k in set(sb) | set(sc) if sb.get(k) != sc.get(k))
        if diff:
            what = "; ".join(f"{k}: baseline {sb.get(k, '(absent)')}, candidate {sc.get(k, '(absent)')}" for k in diff)
            cmp.failures.append(f"{task}: not comparable ({what})")
            cmp.lines.append(Line(task, main, True, b_main, math.nan, tol, "NOT COMPARABLE"))
            continue
        metrics = [main] + [m for m in base["metrics"] if m != main]
        metrics += [m for m in cand["metrics"] if m not in metrics]
        for m in metrics:
            b = 100 * base["metrics"].get(m, math.nan)
            c = 100 * cand["metrics"].get(m, math.nan)
            is_main = m == main
            if _nan(b) and _nan(c):
                verdict = "ok"
            elif _nan(c) or _nan(b):
                verdict = "UNDEFINED" if is_main else "changed"
            elif c - b < -tol - EPS:
                verdict = "REGRESSION" if is_main else "lower"
            elif two_sided and c - b > tol + EPS:
                verdict = "CHANGED" if is_main else "higher"
            elif c - b > EPS:
                verdict = "improved" if is_main else "higher"
            elif c - b < -EPS:
                verdict = "within tolerance" if is_main else "lower"
            else:
                verdict = "ok"
            cmp.lines.append(Line(task, m, is_main, b, c, tol if is_main else None, verdict))
            if verdict == "REGRESSION":
                cmp.failures.append(f"{task}: {m} fell by {b - c:.2f} points (tolerance {tol:g})")
            elif verdict == "CHANGED":
                cmp.failures.append(f"{task}: {m} rose by {c - b:.2f} points (tolerance {tol:g}, two-sided)")
            elif verdict == "UNDEFINED":
                cmp.failures.append(f"{task}: {m} is undefined in the "
                                    + ("candidate" if _nan(c) else "baseline"))
    if not any(r.get("status") == "ok" for r in baseline.records.values()):
        cmp.failures.append(f"{baseline.path}: no finished task in the baseline, nothing to gate")
    extra = [t for t in candidate.records if t not in baseline.records]
    if extra:
        cmp.notes.append(f"candidate tasks not in the baseline (not gated): {', '.join(extra)}")
    mb, mc = baseline.model, candidate.model
    if mb.get("fingerprint") and mb.get("fingerprint") == mc.get("fingerprint"):
        cmp.notes.append(f"same model weights in both ({mb.get('fingerprint')})")
    for k in ("torch", "open_clip", "lipeval", "device", "precision"):
        eb = _env(baseline, k)
        ec = _env(candidate, k)
        if eb != ec:
            cmp.notes.append(f"env {k}: baseline {eb}, candidate {ec}")
    return cmp


def _env(run: Run, key: str) -> str:
    vals = {value_text((r.get("env") or {}).get(key)) for r in run.records.values() if r.get("status") == "ok"}
    return ", ".join(sorted(vals))


def _fmt(x: float) -> str:
    return "–" if _nan(x) else f"{x:.2f}"


def report(cmp: Comparison, all_metrics: bool = True) -> str:
    """The table of differences, the failures and the verdict line."""
    rows = [("task", "metric", "baseline %", "candidate %", "delta pp", "tolerance", "verdict")]
    for ln in cmp.lines:
        if not (ln.main or all_metrics):
            continue
        delta = "–" if _nan(ln.base) or _nan(ln.cand) else f"{ln.delta:+.2f}"
        rows.append((ln.task, ln.metric + (" (main)" if ln.main else ""), _fmt(ln.base), _fmt(ln.cand), delta,
                     "" if ln.tolerance is None else f"{ln.tolerance:g}", ln.verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = {2, 3, 4, 5}
    lines = ["  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    out = [f"baseline:  {cmp.baseline.path} ({cmp.baseline.model.get('spec', '?')})",
           f"candidate: {cmp.candidate.path} ({cmp.candidate.model.get('spec', '?')})", ""] + lines
    if cmp.notes:
        out += ["", "notes:"] + [f"  {n}" for n in cmp.notes]
    if cmp.failures:
        out += ["", "failures:"] + [f"  {f}" for f in cmp.failures]
    gated = sum(1 for ln in cmp.lines if ln.main)
    out += ["", f"compare: FAIL ({len(cmp.failures)} problem(s))" if cmp.failures else
            f"compare: PASS ({gated} main metric(s) within tolerance)"]
    return "\n".join(out) + "\n"
