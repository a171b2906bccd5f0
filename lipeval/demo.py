"""`lipeval demo`: train three tiny models on the synthetic suite, score them on it, report.

    OUT/data/            the synthetic suite (generated once)
    OUT/runs/<model>/    the trained models (run folders of lipeval.train)
    OUT/cache/           the embedding cache
    OUT/<model>/         one result record per synthetic task
    OUT/training/<model>/  each run's config, metrics log, loss curve and summary
    OUT/leaderboard.md, leaderboard.csv   one row per model (as `lipeval export` writes them)
    OUT/figures/         bars per task group, long- vs short-text retrieval, loss curves (`lipeval plot`)
    OUT/reading.md       per-task table beside chance, the two checks, a plain-language reading

The models are `clip_short` (short captions only), `clip_long` (long captions only) and
`lotlip` (corner tokens, short + long captions), from train/configs/demo_*.yaml. A re-run
reuses finished training runs and results; a changed setting retrains that model.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

MODELS = ("clip_short", "clip_long", "lotlip")

# Suite scale, and overrides of the configs' training length. `quick` trains the same models
# for fewer steps on a smaller world.
SETTINGS: dict[str, dict] = {
    "default": {"scale": "default"},
    "quick": {"scale": "small", "steps": 60, "warmup": 6},
}


def config_path(model: str) -> Path:
    import lipeval.train

    return Path(lipeval.train.__file__).parent / "configs" / f"demo_{model}.yaml"


def _ensure_suite(data: Path, scale: str, log) -> None:
    from lipeval.synthetic import MARKER, generate

    marker = data / "synthetic" / MARKER
    if marker.is_file() and json.loads(marker.read_text()).get("scale") == scale:
        return
    t0 = time.perf_counter()
    generate(data, seed=0, scale=scale)
    log(f"generated the synthetic suite (scale {scale}) in {time.perf_counter() - t0:.0f} s: {data}")


def _train(model: str, setting: dict, data: Path, runs: Path, log) -> tuple[Path, bool, dict]:
    """(run folder, trained now?, training summary); a finished run with the same config is reused."""
    from lipeval.train.checkpoint import complete_steps
    from lipeval.train.config import dump_config, load_config
    from lipeval.train.trainer import SUMMARY, train

    overrides = [f"data.root={data}"] + [f"schedule.{k}={setting[k]}" for k in ("steps", "warmup", "batch_size")
                                          if k in setting]
    cfg = load_config(config_path(model), overrides)
    steps = cfg["schedule"]["steps"]
    cfg["log"]["checkpoint_every"] = steps  # one checkpoint, at the end
    run_dir = runs / model
    summary_file = run_dir / SUMMARY
    same = (run_dir / "config.yaml").is_file() and (run_dir / "config.yaml").read_text() == dump_config(cfg)
    if same and summary_file.is_file() and json.loads(summary_file.read_text()).get("steps_done") == steps:
        log(f"{model}: trained already ({run_dir})")
        return run_dir, False, json.loads(summary_file.read_text())
    resume = same and bool(complete_steps(run_dir))
    if not same and run_dir.exists():
        shutil.rmtree(run_dir)  # a demo-owned folder holding a run with other settings
    log(f"{model}: training {steps} steps x {cfg['schedule']['batch_size']} images ...")
    return run_dir, True, train(cfg, run_dir, resume=resume, log=log)


def _evaluate(model: str, run_dir: Path, data: Path, out: Path, redo: bool, log) -> dict[str, dict]:
    from lipeval.registry import resolve
    from lipeval.runner import Runner, RunOptions

    opts = RunOptions(model=str(run_dir), data_root=data, out=out / model, cache_dir=out / "cache",
                      batch_size=256, redo=redo)
    t0 = time.perf_counter()
    records = Runner(opts, log=lambda *_: None).run(resolve(["synthetic"]))
    failed = [r for r in records if r["status"] != "ok"]
    problems = "; ".join(f"{r['task']}: {r['error']}" for r in failed)
    log(f"{model}: scored on {len(records)} synthetic tasks in {time.perf_counter() - t0:.0f} s"
        + (f" ({len(failed)} not ok: {problems})" if failed else ""))
    return {r["task"]: r for r in records}


def _copy_training(run_dir: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("config.yaml", "metrics.jsonl", "loss.png", "summary.json", "open_clip_config.json"):
        if (run_dir / name).is_file():
            shutil.copy2(run_dir / name, dest / name)


def _setup_text(setting: dict, summaries: dict[str, dict]) -> str:
    speeds = ", ".join(f"{m} {s['samples_per_s']:.0f}" for m, s in summaries.items() if s.get("samples_per_s"))
    steps = sorted({s["steps_total"] for s in summaries.values()})
    batch = sorted({s["global_batch"] for s in summaries.values()})
    return (f"Three tiny open_clip models (ResNet image tower, 64x64 images) were trained from scratch on the "
            f"synthetic shapes world (scale `{setting['scale']}`) for {'/'.join(map(str, steps))} steps of "
            f"{'/'.join(map(str, batch))} images: `clip_short` on short captions only (77 tokens), `clip_long` on long "
            f"captions only (77 tokens, so the longest captions are cut), and `lotlip` with two corner tokens in a "
            f"128-token text tower on a short caption plus a window of three long-caption sentences. Each was then "
            f"scored on every synthetic task. Training speed (samples/s): {speeds or 'reused runs'}.")


def run_demo(out: Path | str, quick: bool = False, log=print, setting: dict | None = None,
             models: tuple[str, ...] = MODELS) -> int:
    """The whole demo; returns the exit code (0: everything ran and both checks hold)."""
    from lipeval.train.cli import quiet_cpu_threads

    quiet_cpu_threads()
    from lipeval import demo_report

    out = Path(out)
    setting = setting or SETTINGS["quick" if quick else "default"]
    t_start = time.perf_counter()
    work = out / "work"
    data, runs = work / "data", work / "runs"
    out.mkdir(parents=True, exist_ok=True)
    _ensure_suite(data, setting["scale"], log)
    records, summaries = {}, {}
    trained = {}
    for m in models:
        run_dir, trained[m], summaries[m] = _train(m, setting, data, runs, log)
        _copy_training(run_dir, out / "training" / m)
    for m in models:
        records[m] = _evaluate(m, runs / m, data, out, redo=trained[m], log=log)
    report = demo_report.write_report(out, records, list(models), _setup_text(setting, summaries))
    wall = time.perf_counter() - t_start
    (out / "demo_summary.json").write_text(json.dumps({
        "setting": setting, "models": list(models), "wall_s": wall,
        "training": summaries, "checks": [{"passed": ok, "text": text} for ok, text in report["checks"]],
    }, indent=1))
    log("")
    log(demo_report.markdown_table(report["rows"] + report["means"], list(models)))
    log("")
    log(report["reading"])
    log(f"demo finished in {wall / 60:.1f} min; leaderboard, figure and reading in {out}")
    failed = any(r["status"] != "ok" for recs in records.values() for r in recs.values())
    return 0 if not failed and all(ok for ok, _ in report["checks"]) else 1
