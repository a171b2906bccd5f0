"""The demo's report: leaderboard (Markdown + CSV) and figures through lipeval.report, and a plain-language
reading with a per-task table beside chance.

The reading states measured numbers and two checks, computed from the records; it never
claims an effect the numbers do not show:

  1. the short-caption model scores lower than every long-caption model on every long-text
     retrieval set, and at least LONG_GAP points lower on their mean;
  2. every model is far above chance — at least FAR_FACTOR x chance — on short-caption
     retrieval and on zero-shot classification (the mean over the zero-shot tasks, whose
     chance levels differ); the weakest single zero-shot result is named next to it.
"""
from __future__ import annotations

from pathlib import Path

from lipeval.aggregation import defined, group_value, main_value

LONG_GAP = 0.10  # points (as a fraction) by which the short-caption model must trail on long-text retrieval
FAR_FACTOR = 3.0  # "far above chance": at least this multiple of the chance level

SHORT_MODEL = "clip_short"
LONG_MODELS = ("clip_long", "lotlip")


def chance_value(rec: dict | None) -> float | None:
    """The chance level of a record's main metric, or None when it has none."""
    if not rec:
        return None
    c = (rec.get("chance") or {}).get(rec.get("main_metric"))
    return defined(c) if isinstance(c, (int, float)) else None


def family(task: str) -> str:
    """The reading's grouping of synthetic tasks."""
    name = task.split("/", 1)[-1]
    if name.startswith("long_"):
        return "long-text retrieval"
    if name == "retrieval":
        return "short-caption retrieval"
    if name.startswith("zeroshot_"):
        return "zero-shot classification"
    return "other"


def table_rows(records: dict[str, dict[str, dict]], models: list[str]) -> list[dict]:
    """One row per task: task, family, main metric, chance, one value per model (fractions)."""
    tasks = sorted({t for recs in records.values() for t in recs})
    rows = []
    for t in tasks:
        first = next((records[m][t] for m in models if t in records[m]), None)
        rows.append({"task": t, "family": family(t), "metric": first.get("main_metric", "") if first else "",
                     "chance": chance_value(first), **{m: main_value(records[m].get(t)) for m in models}})
    return rows


def family_means(rows: list[dict], models: list[str]) -> list[dict]:
    """One row per family: the group value (lipeval.aggregation) of its tasks per model, and of their chance
    levels; `counts` says per model how many tasks have a value."""
    out = []
    for fam in ("long-text retrieval", "short-caption retrieval", "zero-shot classification"):
        members = [r for r in rows if r["family"] == fam]
        if not members:
            continue
        values = {m: group_value([r[m] for r in members]) for m in models}
        row = {"task": f"mean: {fam}", "family": fam, "metric": f"mean of {len(members)}",
               "chance": group_value([r["chance"] for r in members]).mean}
        row.update({m: v.mean for m, v in values.items()})
        row["counts"] = {m: v.count for m, v in values.items()}
        out.append(row)
    return out


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def _value(row: dict, model: str) -> str:
    """A model's value in a row as printed; a blank family mean says how many of its tasks have a value."""
    v = row[model]
    counts = row.get("counts")
    return f"{_pct(v)} ({counts[model]})" if v is None and counts else _pct(v)


def markdown_table(rows: list[dict], models: list[str]) -> str:
    lines = ["| task | main metric | chance | " + " | ".join(models) + " |",
             "|---|---|---:|" + "---:|" * len(models)]
    for r in rows:
        vals = [r[m] for m in models]
        best = max((v for v in vals if v is not None), default=None)
        cells = [f"**{_pct(v)}**" if v is not None and v == best and len(models) > 1 else _value(r, m)
                 for m, v in zip(models, vals)]
        lines.append(f"| {r['task']} | {r['metric']} | {_pct(r['chance'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def checks(rows: list[dict], models: list[str]) -> list[tuple[bool, str]]:
    """The two measured checks of the module docstring, each (passed, sentence)."""
    out = []
    long_rows = [r for r in rows if r["family"] == "long-text retrieval"]
    longs = [m for m in LONG_MODELS if m in models]
    if SHORT_MODEL in models and longs and long_rows:
        ok, parts = True, []
        for m in longs:
            short_mean = group_value([r[SHORT_MODEL] for r in long_rows]).mean
            other_mean = group_value([r[m] for r in long_rows]).mean
            if short_mean is None or other_mean is None:
                ok = False
                parts.append(f"{m}: missing results")
                continue
            every = all(r[SHORT_MODEL] < r[m] for r in long_rows)
            gap = other_mean - short_mean
            ok &= every and gap >= LONG_GAP
            parts.append(f"{m} {_pct(other_mean)} vs {SHORT_MODEL} {_pct(short_mean)} (gap {100 * gap:.1f} points, "
                         f"{'lower on every set' if every else 'NOT lower on every set'})")
        out.append((ok, f"{SHORT_MODEL} trails the long-caption models on long-text retrieval "
                        f"(mean main metric over {len(long_rows)} sets; needs every set lower and a gap of at least "
                        f"{100 * LONG_GAP:.0f} points): " + "; ".join(parts)))
    retrieval = [r for r in rows if r["family"] == "short-caption retrieval"]
    zeroshot = [r for r in rows if r["family"] == "zero-shot classification"]
    if retrieval or zeroshot:
        targets = [(r["task"], r) for r in retrieval]
        if zeroshot:
            mean = {m: group_value([r[m] for r in zeroshot]).mean for m in ["chance", *models]}
            targets.append((f"zero-shot classification (mean of {len(zeroshot)})", mean))
        misses = []
        for name, r in targets:
            for m in models:
                v, c = r[m], r["chance"]
                if v is None or c is None or v < FAR_FACTOR * c:
                    misses.append(f"{m} on {name} ({_pct(v)} vs chance {_pct(c)})")
        what = ([f"each short-caption retrieval set ({len(retrieval)})"] if retrieval else []) + (
            [f"the mean of the {len(zeroshot)} zero-shot classification tasks"] if zeroshot else [])
        text = (f"every model far above chance (at least {FAR_FACTOR:g}x chance) on " + " and on ".join(what) + ": "
                + ("yes" if not misses else "NOT for " + "; ".join(misses)))
        weakest = min(((r[m] / r["chance"], m, r) for r in zeroshot for m in models
                       if r[m] is not None and r["chance"]), default=None, key=lambda x: x[0])
        if weakest:
            ratio, m, r = weakest
            text += (f". Weakest single zero-shot result (shown, not checked): {m} on {r['task']}, {_pct(r[m])} vs "
                     f"chance {_pct(r['chance'])} ({ratio:.1f}x)")
        out.append((not misses, text))
    return out


def reading(rows: list[dict], means: list[dict], models: list[str], setup: str) -> str:
    """Plain-language summary built from the measured numbers."""
    by_family = {r["family"]: r for r in means}
    lines = ["# What the demo measured", "", setup, ""]
    lr = by_family.get("long-text retrieval")
    if lr:
        vals = ", ".join(f"{m} {_value(lr, m)}" for m in models)
        lines.append(f"- **Long-text retrieval** (captions that describe every object, relation and the background; "
                     f"mean R@1 of both directions over {lr['metric'].split()[-1]} sets): {vals} "
                     f"(chance {_pct(lr['chance'])}).")
    sr = by_family.get("short-caption retrieval")
    if sr:
        vals = ", ".join(f"{m} {_value(sr, m)}" for m in models)
        lines.append(f"- **Short-caption retrieval** (alt-text-like captions naming the main object): {vals} "
                     f"(chance {_pct(sr['chance'])}).")
    zs = [r for r in rows if r["family"] == "zero-shot classification"]
    if zs:
        parts = [f"{r['task'].split('_', 1)[-1]}: " + ", ".join(f"{m} {_pct(r[m])}" for m in models)
                 + f" (chance {_pct(r['chance'])})" for r in zs]
        lines.append("- **Zero-shot classification** — " + "; ".join(parts) + ".")
    lines += ["", "## Per task", "",
              "Main metric per synthetic task, in %, with its chance level; best per row in bold.", "",
              markdown_table(rows + means, models)]
    lines += ["", "## Checks", ""]
    results = checks(rows, models)
    for ok, text in results:
        lines.append(f"- [{'x' if ok else ' '}] {text}")
    lines += ["", "## Reading", ""]
    long_check = results[0] if results and "long-text" in results[0][1] else None
    if long_check and long_check[0]:
        lines.append("The model trained on short captions only learned what short captions say — the main "
                     "object — and little else, so it cannot tell apart images whose long descriptions differ in "
                     "the other objects, their relations or the background. Both models that saw long captions "
                     "retrieve the right image from a long description far more often. That is the effect the "
                     "long-caption papers study, measured here rather than assumed.")
    elif long_check:
        lines.append("The expected long-caption effect did NOT show clearly in this run: see the first check. "
                     "The numbers above are what was measured.")
    if SHORT_MODEL in models:
        ahead = [r for r in means if r["family"] != "long-text retrieval" and r[SHORT_MODEL] is not None
                 and all(r[m] is not None and r[SHORT_MODEL] > r[m] for m in models if m != SHORT_MODEL)]
        if ahead:
            parts = [f"{r['family']} ({', '.join(f'{m} {_value(r, m)}' for m in models)})" for r in ahead]
            lines.append(f"The trade-off also runs the other way: {SHORT_MODEL} is ahead on " + " and ".join(parts)
                         + ", tasks about the main object that short captions name.")
    far = [c for c in results if "chance" in c[1]]
    if far and far[0][0]:
        lines.append("All three models learned the basics: they are far above chance on short-caption retrieval "
                     "and zero-shot classification, so the long-text gap is not a model that failed to train.")
    elif far:
        lines.append("Not every model is far above chance on the short tasks (second check): part of the gap may "
                     "be under-training rather than what the captions teach.")
    lines += ["", "Synthetic-suite numbers describe lipeval's shapes world, not any real benchmark."]
    return "\n".join(lines) + "\n"


def write_leaderboard(out: Path, models: list[str]) -> None:
    """leaderboard.md / leaderboard.csv (one row per model, one column per task) and figures/ (bars per group,
    long- vs short-text retrieval, loss curves), through the same code as `lipeval export` and `lipeval plot`."""
    from lipeval.report import markdown
    from lipeval.report.plots import figures_of, save
    from lipeval.report.table import write_csv

    lb, figs, _ = figures_of([out / m for m in models] + [p for p in [out / "training"] if p.is_dir()])
    (out / "leaderboard.md").write_text(markdown.render(lb), encoding="utf-8")
    write_csv(lb, out / "leaderboard.csv")
    save(figs, out / "figures")


def write_report(out: Path, records: dict[str, dict[str, dict]], models: list[str], setup: str) -> dict:
    """Write the leaderboard, the figures and reading.md (per-task table with chance, checks, reading) to
    `out`; return the checks, rows and reading."""
    rows = table_rows(records, models)
    means = family_means(rows, models)
    write_leaderboard(out, models)
    text = reading(rows, means, models, setup)
    (out / "reading.md").write_text(text, encoding="utf-8")
    return {"checks": checks(rows, models), "rows": rows, "means": means, "reading": text}
