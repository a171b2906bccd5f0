#!/usr/bin/env python
"""lipeval vs clip-benchmark, side by side on one tiny model and the synthetic suite.

    python benchmarks/vs_clip_benchmark.py [--scale small] [--workdir DIR] [--checkpoint PATH]

Steps (all on this machine; the device is whatever both tools pick, CPU when there is no GPU):

1. `lipeval synth` writes the synthetic suite under WORKDIR/data (reused when the marker says
   the same scale); a seeded random-init `lipeval-tiny-rn` is saved to a safetensors file, unless
   `--checkpoint` names one (e.g. a trained model), so both tools load identical weights.
2. The `shape` test split is converted with clip-benchmark's own
   `clip_benchmark.webdataset_builder.convert_dataset` (image bytes copied as-is, class names and
   templates from the set's txt files) to WORKDIR/data/wds/synthetic_shape, which both tools read.
3. clip-benchmark's `eval` runs in a subprocess on `mscoco_captions` (the synthetic COCO folder)
   and `wds/synthetic_shape`, through a `python -c` wrapper that first registers lipeval's configs
   with open_clip (clip-benchmark could not build the tiny architecture otherwise).
4. `lipeval run` evaluates `synthetic/retrieval` and `wds/synthetic_shape` with a fresh cache
   (first run) and again into a new output folder with the same cache (cached re-run), then once
   more (cached) with `--protocol tie_policy=reference`, clip-benchmark's tie handling.
5. Metric pairs are compared: clip-benchmark `image_retrieval_recall@k` = lipeval
   `text_to_image_R@k`, `text_retrieval_recall@k` = `image_to_text_R@k`, and `acc1`, `acc5`,
   `mean_per_class_recall` by name.
6. A table of the pairs and the wall times (each tool timed as a whole subprocess; clip-benchmark
   has no embedding cache, so its second run is a plain repeat) is printed.

Exit status: 0 when every pair agrees within --tol (lipeval with tie_policy=reference), the
default-policy values differ from them only where ties can explain it (never above), and the
cached re-run reproduced the first run exactly; 1 otherwise; 2 when a step could not run.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from steps import PY, StepFailed, make_suite, save_random_checkpoint, timed

WDS_NAME = "synthetic_shape"
CLASS_SET = "shape"
KS = (1, 5, 10)

# (clip-benchmark task file, clip-benchmark metric, lipeval task, lipeval metric)
PAIRS = [("mscoco_captions", f"image_retrieval_recall@{k}", "synthetic/retrieval", f"text_to_image_R@{k}") for k in KS]
PAIRS += [("mscoco_captions", f"text_retrieval_recall@{k}", "synthetic/retrieval", f"image_to_text_R@{k}") for k in KS]
PAIRS += [(WDS_NAME, m, f"wds/{WDS_NAME}", m) for m in ("acc1", "acc5", "mean_per_class_recall")]

# The clip-benchmark wrapper: register lipeval's tiny configs with open_clip, then hand the
# remaining arguments to clip-benchmark's own command line.
CB_WRAPPER = (
    "import sys, open_clip; open_clip.add_model_config(sys.argv[1]); "
    "from clip_benchmark.cli import main; sys.argv = ['clip_benchmark'] + sys.argv[2:]; sys.exit(main())"
)


def log(msg: str) -> None:
    print(f"[vs_clip_benchmark] {msg}", flush=True)


# -- 2. webdataset conversion with clip-benchmark's converter ---------------------------------

def _nonblank_lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def convert_class_set(folder: Path, out: Path) -> int:
    """ImageFolder `folder/test` -> clip-benchmark webdataset `out`; returns the sample count."""
    from torchvision.datasets import ImageFolder

    from clip_benchmark.webdataset_builder import convert_dataset, path_to_bytes

    if out.exists():
        shutil.rmtree(out)
    # loader = identity: samples are (file path, label); convert_dataset copies the file bytes
    ds = ImageFolder(str(folder / "test"), loader=lambda p: p)
    classnames = _nonblank_lines(folder / "classnames.txt")
    templates = _nonblank_lines(folder / "templates.txt")
    if len(classnames) != len(ds.classes):
        raise StepFailed(f"{folder}: {len(classnames)} class names for {len(ds.classes)} class folders")
    ds.classes = classnames  # label i = i-th sorted class folder = line i of classnames.txt
    ds.templates = templates
    chatter = io.StringIO()  # the converter's progress bar, shard messages and worker-count warnings
    with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        convert_dataset(ds, "test", str(out), transform=path_to_bytes, verbose=False)
    return len(ds)


# -- 3./4. the two tools ------------------------------------------------------------------------

def run_clip_benchmark(ckpt: Path, arch: str, cb_root: Path, out: Path, batch_size: int, logs: Path,
                       tag: str) -> float:
    from lipeval.models import CONFIG_DIR

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    cmd = [PY, "-c", CB_WRAPPER, str(CONFIG_DIR), "eval",
           "--dataset", "mscoco_captions", f"wds/{WDS_NAME}",
           "--dataset_root", str(cb_root / "{dataset}"),
           "--split", "test",
           "--model", arch, "--pretrained", str(ckpt),
           "--recall_k", *[str(k) for k in KS],
           "--no_amp", "--batch_size", str(batch_size), "--num_workers", "0",
           "--output", str(out / "{dataset}.json")]
    return timed(cmd, logs / f"clip_benchmark_{tag}.log", f"clip-benchmark eval ({tag})")


def run_lipeval(ckpt: Path, arch: str, data: Path, out: Path, cache: Path, batch_size: int, logs: Path, tag: str,
                protocol: list[str] = ()) -> float:
    if out.exists():
        shutil.rmtree(out)
    # open_clip:ARCH/PRETRAINED; an absolute checkpoint path keeps its leading slash
    cmd = [PY, "-m", "lipeval", "run", "--model", f"open_clip:{arch}/{ckpt}",
           "--tasks", f"synthetic/retrieval,wds/{WDS_NAME}", "--data-root", str(data),
           "--out", str(out), "--cache-dir", str(cache), "--batch-size", str(batch_size), "--workers", "0"]
    for p in protocol:
        cmd += ["--protocol", p]
    return timed(cmd, logs / f"lipeval_{tag}.log", f"lipeval run ({tag})")


def read_cb(out: Path) -> dict[str, dict]:
    res = {}
    for name in ("mscoco_captions", WDS_NAME):
        path = out / f"{name}.json"
        if not path.is_file():
            raise StepFailed(f"clip-benchmark wrote no {path}")
        res[name] = json.loads(path.read_text())["metrics"]
    return res


def read_lipeval(out: Path) -> dict[str, dict]:
    res = {}
    for path in sorted(out.glob("*.json")):
        rec = json.loads(path.read_text())
        if "task" not in rec or "metrics" not in rec:
            continue
        if rec.get("status") != "ok":
            raise StepFailed(f"lipeval task {rec['task']} ended with status {rec.get('status')}: {rec.get('error')}")
        res[rec["task"]] = rec
    for task in ("synthetic/retrieval", f"wds/{WDS_NAME}"):
        if task not in res:
            raise StepFailed(f"lipeval wrote no record for {task} in {out}")
    return res


# -- 5./6. comparison and report ---------------------------------------------------------------

def _f(x) -> str:
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.6f}"


def compare(cb: dict, lv_ref: dict, lv_def: dict, lv_cached: dict, tol: float) -> tuple[list[str], list[str]]:
    """Table rows and a list of problems (empty = agreement)."""
    problems, notes = [], []
    header = ("clip-benchmark metric", "lipeval metric", "clip-benchmark", "lipeval(ref)", "lipeval(def)", "|diff ref|", "check")
    rows = [header]
    for cb_task, cb_metric, lv_task, lv_metric in PAIRS:
        a = cb[cb_task].get(cb_metric)
        b = lv_ref[lv_task]["metrics"].get(lv_metric)
        d = lv_def[lv_task]["metrics"].get(lv_metric)
        ok = a is not None and b is not None and (abs(a - b) <= tol or (math.isnan(a) and math.isnan(b)))
        diff = abs(a - b) if a is not None and b is not None else float("nan")
        mark = "ok" if ok else "DIFF"
        if not ok:
            problems.append(f"{cb_task}:{cb_metric}={_f(a)} vs lipeval {lv_task}:{lv_metric}={_f(b)} "
                            "(tie_policy=reference)")
        if d is not None and b is not None and abs(d - b) > tol:
            if d > b + tol:
                problems.append(f"lipeval default-policy {lv_task}:{lv_metric}={_f(d)} is above the reference "
                                f"value {_f(b)}; ties counted as misses can only lower it")
            else:
                mark += " (ties)"
                notes.append(f"{lv_task}:{lv_metric}: default policy {_f(d)} vs reference {_f(b)}; "
                             "the default counts a tie with a negative as a miss, topk breaks it by position")
        rows.append((f"{cb_task}:{cb_metric}", lv_metric, _f(a), _f(b), _f(d), f"{diff:.1e}", mark))
    for task, rec in lv_def.items():
        if lv_cached[task]["metrics"] != rec["metrics"]:
            problems.append(f"lipeval cached re-run changed {task}'s metrics: {rec['metrics']} -> "
                            f"{lv_cached[task]['metrics']}")
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines + ([""] + notes if notes else []), problems


def shared_captions(ann_file: Path) -> tuple[int, int]:
    """(caption strings used by more than one image, captions carrying such a string)."""
    images: dict[str, set] = {}
    anns = json.loads(ann_file.read_text())["annotations"]
    for a in anns:
        images.setdefault(a["caption"], set()).add(a["image_id"])
    shared = {c for c, ids in images.items() if len(ids) > 1}
    return len(shared), sum(1 for a in anns if a["caption"] in shared)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", choices=["tiny", "small", "default"], default="small", help="synthetic suite size")
    p.add_argument("--workdir", help="folder for data, weights, outputs and logs (default: a new temp folder)")
    p.add_argument("--checkpoint", help="safetensors/pt checkpoint of --arch to use instead of a random init")
    p.add_argument("--arch", default="lipeval-tiny-rn", help="open_clip architecture (lipeval's configs included)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random-init model")
    p.add_argument("--batch-size", type=int, default=64, help="batch size for both tools")
    p.add_argument("--tol", type=float, default=1e-6, help="largest accepted |difference| of a metric pair")
    p.add_argument("--json", help="also write the numbers and times to this JSON file")
    args = p.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"

    work = Path(args.workdir or tempfile.mkdtemp(prefix="lipeval-vs-cb-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    data, logs = work / "data", work / "logs"
    log(f"work folder: {work}")
    try:
        make_suite(data, args.scale, log)
        if args.checkpoint:
            ckpt = Path(args.checkpoint).resolve()
            if not ckpt.is_file():
                raise StepFailed(f"--checkpoint {ckpt}: no such file")
            model_desc = f"{args.arch} from {ckpt}"
        else:
            ckpt = work / "model" / f"{args.arch}-seed{args.seed}.safetensors"
            save_random_checkpoint(ckpt, args.arch, args.seed, log)
            model_desc = f"{args.arch}, random init (seed {args.seed})"

        n = convert_class_set(data / "synthetic" / "folder" / CLASS_SET, data / "wds" / WDS_NAME)
        log(f"converted folder/{CLASS_SET}/test ({n} images) to {data / 'wds' / WDS_NAME} with clip-benchmark's "
            "convert_dataset")

        # clip-benchmark resolves --dataset_root per dataset: root/{dataset} with 'wds/' stripped
        cb_root = work / "cb_roots"
        if cb_root.exists():
            shutil.rmtree(cb_root)
        cb_root.mkdir()
        (cb_root / "mscoco_captions").symlink_to(data / "synthetic" / "coco", target_is_directory=True)
        (cb_root / WDS_NAME).symlink_to(data / "wds" / WDS_NAME, target_is_directory=True)

        cache = work / "lipeval_cache"
        if cache.exists():
            shutil.rmtree(cache)
        t = {}
        log("clip-benchmark, run 1 ...")
        t["cb1"] = run_clip_benchmark(ckpt, args.arch, cb_root, work / "out_cb1", args.batch_size, logs, "run1")
        log(f"  {t['cb1']:.2f} s")
        log("lipeval, first run (empty cache) ...")
        t["lv1"] = run_lipeval(ckpt, args.arch, data, work / "out_lv1", cache, args.batch_size, logs, "run1")
        log(f"  {t['lv1']:.2f} s")
        log("clip-benchmark, run 2 ...")
        t["cb2"] = run_clip_benchmark(ckpt, args.arch, cb_root, work / "out_cb2", args.batch_size, logs, "run2")
        log(f"  {t['cb2']:.2f} s")
        log("lipeval, cached re-run ...")
        t["lv2"] = run_lipeval(ckpt, args.arch, data, work / "out_lv2", cache, args.batch_size, logs, "run2")
        log(f"  {t['lv2']:.2f} s")
        log("lipeval, cached, --protocol tie_policy=reference ...")
        t["lv_ref"] = run_lipeval(ckpt, args.arch, data, work / "out_lv_ref", cache, args.batch_size, logs,
                                  "reference", ["tie_policy=reference"])
        log(f"  {t['lv_ref']:.2f} s")

        cb1, cb2 = read_cb(work / "out_cb1"), read_cb(work / "out_cb2")
        lv1, lv2, lv_ref = read_lipeval(work / "out_lv1"), read_lipeval(work / "out_lv2"), read_lipeval(work / "out_lv_ref")
    except StepFailed as e:
        print(f"vs_clip_benchmark: {e}", file=sys.stderr)
        return 2

    lines, problems = compare(cb1, lv_ref, lv1, lv2, args.tol)
    shared, involved = shared_captions(data / "synthetic" / "coco" / "coco_test_karpathy.json")
    if shared:
        lines.append(f"(the COCO test file has {shared} caption strings shared by more than one image, {involved} "
                     "captions in all: identical texts get identical embeddings, so an image's caption ties exactly "
                     "with the same caption of another image in image -> text retrieval)")
    if cb2 != cb1:
        problems.append("clip-benchmark's two runs gave different metrics")
    retr = lv1["synthetic/retrieval"]["dataset"]
    cls = lv1[f"wds/{WDS_NAME}"]["dataset"]
    print()
    print(f"model: {model_desc}; data: synthetic suite, scale {args.scale} "
          f"(retrieval {retr.get('n_images')} images / {retr.get('n_texts')} captions; "
          f"{CLASS_SET} classification {cls.get('n_images', n)} images); batch size {args.batch_size}; "
          f"device: each tool's default")
    print("lipeval(ref) = --protocol tie_policy=reference (compared, tolerance "
          f"{args.tol:g}); lipeval(def) = default tie policy (pessimistic)")
    print("retrieval recall is order-free: the order in which either tool reads images and captions "
          "does not change it")
    print()
    print("\n".join(lines))
    print()
    trows = [("run", "clip-benchmark s", "lipeval s", "clip-benchmark / lipeval"),
             ("first run (lipeval: empty cache)", f"{t['cb1']:.2f}", f"{t['lv1']:.2f}", f"{t['cb1'] / t['lv1']:.2f}x"),
             ("re-run (lipeval: cached embeddings)", f"{t['cb2']:.2f}", f"{t['lv2']:.2f}", f"{t['cb2'] / t['lv2']:.2f}x")]
    widths = [max(len(r[i]) for r in trows) for i in range(4)]
    for i, r in enumerate(trows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print(f"(wall clock of each whole subprocess, model load and imports included; clip-benchmark has no "
          f"embedding cache, so its re-run repeats the work; lipeval cached with tie_policy=reference: "
          f"{t['lv_ref']:.2f} s)")
    cached = all(rec["timing"].get("embed_images") == 0 and rec["timing"].get("embed_texts") == 0
                 for rec in lv2.values())
    print(f"lipeval re-run served every embedding from the cache: {'yes' if cached else 'NO (embedding time > 0)'}")
    print(f"\nlogs and outputs: {work}")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "scale": args.scale, "model": model_desc, "times_s": t,
            "clip_benchmark": cb1, "lipeval_default": {k: v["metrics"] for k, v in lv1.items()},
            "lipeval_reference": {k: v["metrics"] for k, v in lv_ref.items()}, "problems": problems,
        }, indent=2))
    if problems:
        print("\nDISAGREEMENT:")
        for pr in problems:
            print(f"  - {pr}")
        return 1
    print("\nall metric pairs agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
