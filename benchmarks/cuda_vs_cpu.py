#!/usr/bin/env python
"""lipeval on a CUDA GPU against the CPU: the same numbers, and how fast the linear probe's solver is there.

    python benchmarks/cuda_vs_cpu.py [--scale small] [--workdir DIR] [--model SPEC]

Needs a CUDA device (exit 2 without one). Steps:

1. `lipeval synth` writes the suite; `lipeval run --tasks synthetic` runs four times as subprocesses: on the
   CPU, on CUDA with an empty cache, on CUDA again with the filled cache (a new output folder), and on CUDA
   with `--precision bf16`.
2. Per task, the main metric of each run is printed next to the CPU's; the script checks that the cached
   CUDA run reproduces the cold one exactly and embedded nothing, and counts the tasks whose fp32 CUDA
   metrics differ from the CPU's at all (fp32 on CUDA is strict fp32, `lipeval.models.adapter.strict_fp32`,
   so only summation order differs; bf16 is expected to move numbers).
3. The largest absolute difference between CPU and CUDA embeddings of 256 images and 128 captions, with
   lipeval's strict fp32 and with PyTorch's default settings (TF32 in cuDNN convolutions).
4. The probe's λ search (`search.search_lambda`, float64) on seeded Gaussian-class problems of growing size
   on CUDA and on the CPU (the CPU only up to 10,000 samples): seconds, chosen λ, validation score.

Exit status: 0 when the cached CUDA run reproduces the cold one; 1 otherwise; 2 when a step could not run.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from steps import PY, StepFailed, make_suite, records, timed

MODEL = "open_clip:lipeval-tiny-vit"
PROBE_SIZES = [(800, 128, 6), (10_000, 768, 100), (50_000, 1024, 100)]  # (samples, dim, classes)


def log(msg: str) -> None:
    print(f"[cuda_vs_cpu] {msg}", flush=True)


def embedding_differences(model: str, data: Path) -> dict:
    import torch
    import torch.nn.functional as F
    from PIL import Image

    from lipeval.models.adapter import load_model

    files = sorted((data / "synthetic" / "coco" / "val2014").iterdir())[:256]
    cpu, gpu = load_model(model, device="cpu"), load_model(model, device="cuda")
    x = torch.stack([cpu.preprocess(Image.open(f).convert("RGB")) for f in files])
    e_cpu = cpu.encode_images(x)
    with torch.no_grad():
        default = F.normalize(gpu.model.encode_image(x.cuda()).float(), dim=-1).cpu()
    texts = ["a red circle on a striped background", "two blue squares left of a green star"] * 64
    return {"images_strict_fp32": float((e_cpu - gpu.encode_images(x)).abs().max()),
            "images_default_tf32": float((e_cpu - default).abs().max()),
            "texts_strict_fp32": float((cpu.encode_texts(texts) - gpu.encode_texts(texts)).abs().max())}


def probe_speed() -> list[dict]:
    import torch

    from lipeval.kinds.linear_probe import search, solver
    from lipeval.kinds.linear_probe.evaluate import probe_metrics

    g = torch.Generator().manual_seed(0)
    score = lambda s, y: probe_metrics(s, y, False, "pessimistic")["acc1"]  # noqa: E731
    rows = []
    for n, d, k in PROBE_SIZES:
        means = torch.randn(k, d, generator=g, dtype=torch.float64) * 0.3

        def draw(m):
            y = torch.randint(0, k, (m,), generator=g)
            return means[y] + torch.randn(m, d, generator=g, dtype=torch.float64), y

        (x_tr, y_tr), (x_va, y_va) = draw(n), draw(n // 4)
        row = {"n": n, "d": d, "k": k}
        for dev in ("cuda", "cpu"):
            if dev == "cpu" and n > 10_000:
                continue
            a, ya, b, yb = (t.to(dev) for t in (x_tr, y_tr, x_va, y_va))
            solver.fit_logistic(a[:50], ya[:50], k, 1.0)  # first-call costs outside the timing
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            res, fits = search.search_lambda(a, ya, b, yb, k, score)
            torch.cuda.synchronize()
            row[dev] = {"seconds": time.perf_counter() - t0, "lambda": res.lam, "val": res.scores[res.best],
                        "iterations": sum(f.n_iter for f in fits.values())}
        rows.append(row)
        log(f"probe {n}x{d}, {k} classes: " + ", ".join(f"{dev} {row[dev]['seconds']:.2f}s" for dev in ("cuda", "cpu")
                                                        if dev in row))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", default="small", choices=("tiny", "small", "default"))
    ap.add_argument("--workdir", help="folder for data, caches and outputs (default: a new temp folder)")
    ap.add_argument("--model", default=MODEL)
    args = ap.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        log("no CUDA device: nothing to compare")
        return 2
    work = Path(args.workdir or tempfile.mkdtemp(prefix="lipeval-cuda-vs-cpu-")).resolve()
    data, logs = work / "data", work / "logs"
    runs = {"cpu": ["--device", "cpu", "--cache-dir", str(work / "cache_cpu")],
            "cuda": ["--device", "cuda", "--cache-dir", str(work / "cache_cuda")],
            "cuda_cached": ["--device", "cuda", "--cache-dir", str(work / "cache_cuda")],
            "cuda_bf16": ["--device", "cuda", "--precision", "bf16", "--cache-dir", str(work / "cache_bf16")]}
    try:
        make_suite(data, args.scale, log)
        seconds = {}
        for tag, extra in runs.items():
            cmd = [PY, "-m", "lipeval", "run", "--model", args.model, "--tasks", "synthetic", "--data-root", str(data),
                   "--out", str(work / f"out_{tag}"), "--redo", *extra]
            seconds[tag] = timed(cmd, logs / f"{tag}.log", f"lipeval run ({tag})")
            log(f"{tag}: {seconds[tag]:.1f} s")
        recs = {tag: records(work / f"out_{tag}") for tag in runs}
    except StepFailed as e:
        log(f"FAILED: {e}")
        return 2
    print(f"\n| task | main metric | {' | '.join(runs)} |\n|---|---|{'---|' * len(runs)}")
    for task, rec in recs["cpu"].items():
        m = rec["main_metric"]
        cells = [f"{100 * recs[t][task]['metrics'][m]:.2f}" if recs[t].get(task, {}).get("metrics") else "-"
                 for t in runs]
        print(f"| {task} | {m} | {' | '.join(cells)} |")
    differ = [t for t in recs["cpu"] if recs["cpu"][t]["metrics"] != recs["cuda"].get(t, {}).get("metrics")]
    problems = [t for t in recs["cuda"] if recs["cuda"][t]["metrics"] != recs["cuda_cached"].get(t, {}).get("metrics")]
    embedded = [t for t, r in recs["cuda_cached"].items()
                if r["timing"].get("embed_images", 0) or r["timing"].get("embed_texts", 0)]
    print(f"\nwall seconds: {', '.join(f'{t} {s:.1f}' for t, s in seconds.items())}")
    print(f"fp32 CUDA metrics differ from the CPU's in {len(differ)} of {len(recs['cpu'])} tasks: {differ}")
    print(f"embedding differences: {embedding_differences(args.model, data)}")
    rows = probe_speed()
    (work / "cuda_vs_cpu.json").write_text(json.dumps({"seconds": seconds, "differ": differ, "probe": rows}, indent=1))
    for p in problems + [f"{t} embedded in the cached run" for t in embedded]:
        print(f"PROBLEM: {p}")
    return 1 if problems or embedded else 0


if __name__ == "__main__":
    sys.exit(main())
