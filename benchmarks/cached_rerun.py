#!/usr/bin/env python
"""How much faster a cached re-run of the whole synthetic group is than the first run.

    python benchmarks/cached_rerun.py [--scale default] [--repeats 3] [--workdir DIR] [--model SPEC]

1. `lipeval synth` writes the suite under WORKDIR/data (reused when the same scale is there); the model is
   `--model` or, by default, a seeded random-init `lipeval-tiny-vit` saved as an open_clip local-dir folder.
2. `lipeval run --tasks synthetic` runs as a subprocess (imports, model load and all), timed as a whole:
   - cold: empty embedding cache, new output folder;
   - cached: the filled cache, a new output folder each time (every task is scored again; what is reused
     is the embedding cache only), `--repeats` times;
   - finished: the last output folder again (finished tasks are skipped).
3. Prints the median times and the cold/cached ratio, and checks that every cached run wrote the same
   metrics, chance levels, info (timings aside) and model block as the cold run, and embedded nothing.

Exit status: 0 when the cached runs reproduce the cold run; 1 when a record differs or a cached run
embedded something; 2 when a step could not run. The ratio is reported, not gated (times are noisy).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from steps import PY, StepFailed, make_suite, random_init_state, records, timed

ARCH = "lipeval-tiny-vit"


def log(msg: str) -> None:
    print(f"[cached_rerun] {msg}", flush=True)


def save_local_dir(folder: Path, arch: str, seed: int) -> None:
    from safetensors.torch import save_file

    from lipeval.models import CONFIG_DIR

    folder.mkdir(parents=True, exist_ok=True)
    config = json.loads((CONFIG_DIR / f"{arch}.json").read_text())
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": config}))
    save_file(random_init_state(arch, seed), str(folder / "open_clip_model.safetensors"))
    log(f"saved random-init {arch} (seed {seed}) as a local-dir model in {folder}")


def run(model: str, data: Path, out: Path, cache: Path, logs: Path, tag: str) -> float:
    cmd = [PY, "-m", "lipeval", "run", "--model", model, "--tasks", "synthetic", "--data-root", str(data),
           "--out", str(out), "--cache-dir", str(cache), "--workers", "0"]
    return timed(cmd, logs / f"{tag}.log", f"lipeval run ({tag})")


def differences(cold: dict, again: dict, tag: str) -> list[str]:
    problems = []
    if set(cold) != set(again):
        problems.append(f"{tag}: tasks {sorted(set(cold) ^ set(again))} are not in both runs")
    for task in sorted(set(cold) & set(again)):
        for part in ("metrics", "chance", "info", "model"):
            a, b = (json.dumps(r[task][part], sort_keys=True) for r in (cold, again))
            if a != b:
                problems.append(f"{tag}: {task} has other {part} than the cold run")
        embedded = {s: again[task]["timing"].get(s, 0.0) for s in ("embed_images", "embed_texts")}
        if any(embedded.values()):
            problems.append(f"{tag}: {task} embedded something ({embedded})")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", default="default", choices=("tiny", "small", "default"))
    ap.add_argument("--repeats", type=int, default=3, help="cached runs to take the median of (default 3)")
    ap.add_argument("--workdir", help="folder for data, model, cache and outputs (default: a new temp folder)")
    ap.add_argument("--model", help=f"model SPEC (default: a seeded random-init {ARCH} local-dir folder)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="lipeval-cached-rerun-")).resolve()
    data, logs, cache = work / "data", work / "logs", work / "cache"
    try:
        make_suite(data, args.scale, log)
        model = args.model
        if model is None:
            model = str(work / "model")
            save_local_dir(Path(model), ARCH, args.seed)
        if cache.exists():
            shutil.rmtree(cache)
        for old in work.glob("out_*"):
            shutil.rmtree(old)
        log("cold run (empty cache) ...")
        cold_s = run(model, data, work / "out_cold", cache, logs, "cold")
        log(f"  {cold_s:.2f} s")
        cold = records(work / "out_cold", require_ok=True)
        cached_s, in_tasks, problems = [], [], []
        for i in range(1, args.repeats + 1):
            log(f"cached run {i}/{args.repeats} (new output folder) ...")
            cached_s.append(run(model, data, work / f"out_cached{i}", cache, logs, f"cached{i}"))
            log(f"  {cached_s[-1]:.2f} s")
            again = records(work / f"out_cached{i}", require_ok=True)
            in_tasks.append(sum(r["timing"]["total"] for r in again.values()))
            problems += differences(cold, again, f"cached run {i}")
        log("finished run (the last output folder again) ...")
        finished_s = run(model, data, work / f"out_cached{args.repeats}", cache, logs, "finished")
    except StepFailed as e:
        log(f"FAILED: {e}")
        return 2
    med = statistics.median(cached_s)
    print()
    print(f"synthetic group, scale {args.scale}: {len(cold)} tasks, model {model}")
    print("| run | wall s | cold / this |")
    print("|---|---|---|")
    print(f"| cold (empty cache) | {cold_s:.2f} | 1.0 |")
    print(f"| cached, new --out (median of {len(cached_s)}: {', '.join(f'{s:.2f}' for s in cached_s)}) "
          f"| {med:.2f} | {cold_s / med:.1f} |")
    print(f"| finished tasks skipped | {finished_s:.2f} | {cold_s / finished_s:.0f} |")
    print(f"\nof a cached run, {statistics.median(in_tasks):.2f} s are inside the tasks "
          "(imports on first use, reading data, scoring)")
    for p in problems:
        print(f"PROBLEM: {p}")
    print("cached runs reproduce the cold run" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
