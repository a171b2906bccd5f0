#!/usr/bin/env python3
"""The regression gate: a deterministic tiny training run, evaluated and compared with the
committed reference in results/ci_reference/.

    python .ci/regression_gate.py                 # run and compare (exit 1 on any difference)
    python .ci/regression_gate.py --refresh       # rewrite the reference (a deliberate change)
    python .ci/regression_gate.py --work DIR      # keep the data, run and results in DIR

Steps, all on one CPU thread and seeded: generate the tiny synthetic suite; train the demo's
short-caption CLIP for a few steps on it; evaluate the `synthetic` group; compare with the
reference, two-sided (a rise fails like a drop, since the same run on the same code must give
the same numbers). So a change that silently alters a reader, a metric, the trainer or the
synthetic world fails. tests/report/test_ci_gate.py runs it as part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "results" / "ci_reference"
# The recipe. Changing any of it changes the numbers: refresh the reference in the same change.
SYNTH = ["--scale", "tiny", "--seed", "0"]
TRAIN_CONFIG = REPO / "train" / "configs" / "demo_clip_short.yaml"
TRAIN_OVERRIDES = ["schedule.steps=40", "schedule.warmup=4", "schedule.batch_size=32", "log.checkpoint_every=40",
                   "log.progress=false"]
TASKS = "synthetic"
TOLERANCE = "0"  # percentage points; two-sided
PLACEHOLDER = "<gate-workdir>"
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _lipeval(*args: str) -> int:
    from lipeval.cli import main

    print("+ lipeval " + " ".join(args), flush=True)
    return main(list(args))


def produce(work: Path, tasks: str = TASKS) -> Path:
    """Data, trained model and result records under `work`; returns the results folder."""
    data, run, results = work / "data", work / "run", work / "results"
    if _lipeval("synth", "--out", str(data), *SYNTH) != 0:
        raise SystemExit("gate: generating the synthetic suite failed")
    if _lipeval("train", "--config", str(TRAIN_CONFIG), "--data", str(data), "--out", str(run), *TRAIN_OVERRIDES) != 0:
        raise SystemExit("gate: training failed")
    rc = _lipeval("run", "--model", str(run), "--tasks", tasks, "--data-root", str(data), "--out", str(results),
                  "--device", "cpu", "--batch-size", "64", "--redo")
    if rc not in (0, 1):  # 1: a task failed; compare decides whether that matters
        raise SystemExit(f"gate: evaluation could not run (exit {rc})")
    return results


def refresh(results: Path, work: Path) -> None:
    """Replace the reference with `results`, machine paths replaced by a placeholder."""
    REFERENCE.mkdir(parents=True, exist_ok=True)
    for old in REFERENCE.glob("*.json"):
        old.unlink()
    prefix = str(work.resolve())
    for f in sorted(results.glob("*.json")):
        text = f.read_text(encoding="utf-8").replace(prefix, PLACEHOLDER)
        (REFERENCE / f.name).write_text(text, encoding="utf-8")
    recs = [json.loads(f.read_text()) for f in sorted(REFERENCE.glob("*.json"))]
    ok = [r["task"] for r in recs if r["status"] == "ok"]
    print(f"gate: wrote {len(recs)} records ({len(ok)} ok) to {REFERENCE.relative_to(REPO)}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--refresh", action="store_true", help="rewrite results/ci_reference from this run")
    p.add_argument("--work", help="working folder to keep (default: a temporary one, removed afterwards)")
    p.add_argument("--tasks", default=TASKS, help=f"tasks to evaluate (default {TASKS})")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # One CPU thread: the numbers of a matrix product depend on how it is split over threads,
    # and a few training steps amplify that, so the reference is only reproducible single-threaded.
    for var in THREAD_VARS:
        os.environ[var] = "1"
    import torch

    torch.set_num_threads(1)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="lipeval-gate-"))
    try:
        results = produce(work, args.tasks)
        if args.refresh:
            refresh(results, work)
            return 0
        if not REFERENCE.is_dir() or not any(REFERENCE.glob("*.json")):
            print(f"gate: no reference in {REFERENCE}; create it with --refresh", file=sys.stderr)
            return 2
        return _lipeval("compare", str(REFERENCE), str(results), "--two-sided", "--tolerance", TOLERANCE,
                        "--main-only")
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
