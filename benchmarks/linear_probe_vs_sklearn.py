#!/usr/bin/env python
"""lipeval's linear probe vs scikit-learn: agreement at the same λ, and the speed of the whole λ search.

    python benchmarks/linear_probe_vs_sklearn.py [--scale small|default] [--features model,pixels,randproj]
                                                 [--sets background,shape,colour,count,shapes_present]
                                                 [--workdir DIR] [--threads N]

Data: the synthetic suite's probe sets (`lipeval synth`, reused when WORKDIR/data already holds the same
scale), each set's train split carved into train + validation exactly as the linear-probe kind does (20 % per
class, seed 0), scored on its test split. Features, per set:

* ``model``: pre-projection features of a randomly initialised `lipeval-tiny-vit` (seed 0), through lipeval's
  own embedder, the path a real run takes (128-d);
* ``pixels``: the image down-sampled to 16x16, RGB in [0, 1] (768-d; strongly correlated coordinates, so an
  ill-conditioned problem);
* ``randproj``: 32x32 RGB pixels through a fixed Gaussian random projection to 1,024-d and a ReLU (random
  features; the least linearly separable of the three).

For each (set, features):

1. the whole search, timed: lipeval (`search.search_lambda`, warm-started, preconditioned L-BFGS, float64;
   the median of three runs, since it is short and noise weighs more) vs the same parametric search run with
   scikit-learn's ``LogisticRegression(C=1/λ, max_iter=1000)`` at its defaults (tol 1e-4), each fit from zero
   as the CLIP paper's setup does (one-vs-rest for the multi-label set), on the same float64 features; each
   then refits at its chosen λ on train + val and scores test;
2. agreement at the same λ: at λ = 1e-4, 1e-2, 1, 1e2 and at both tools' chosen λ, the test score of
   lipeval's fit (its defaults: tol 1e-4, max_iter 1,000) minus that of scikit-learn fitted (a) with its
   defaults (the same tol and max_iter) and (b) close to the exact minimiser (tol 1e-6, max_iter 5,000; the
   JSON records its iteration count). The table's "vs converged" column counts only the λ where (b) did
   converge within 5,000 iterations; at the others (small λ on unnormalised features) neither solution is
   pinned down at the test-score level, so the table says instead whether lipeval's solution reaches a
   lower value of the objective both tools minimise than (b) does.

Both tools run in this process, one after the other, with the same thread settings; the machine's load
average is printed with the results, since other work on the machine slows both. Results go to
WORKDIR/linear_probe_vs_sklearn.json and a Markdown table on stdout.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

SETS = {  # name -> (reader, folder under synthetic/)
    "background": ("image_folder", "folder/background"),
    "shape": ("image_folder", "folder/shape"),
    "colour": ("image_folder", "folder/colour"),
    "count": ("image_folder", "folder/count"),
    "shapes_present": ("wds", "wds/shapes_present"),
}
AGREEMENT = [64, 48, 32, 16]  # λ = 1e2, 1, 1e-2, 1e-4 (grid indices); plus both tools' chosen λ
CONVERGED_MAX_ITER = 5000
CONVERGED_TOL = 1e-6
LIPEVAL_REPEATS = 3  # lipeval's search is timed as the median of this many runs; scikit-learn's once


def load_split(root: Path, reader: str, split: str):
    from lipeval.datasets import get_reader

    return get_reader(reader)(root, split=split)


def pixel_features(images, size: int) -> np.ndarray:
    from PIL import Image

    return np.stack([np.asarray(images.load(i).resize((size, size), Image.BILINEAR), dtype=np.float64).ravel() / 255
                     for i in range(len(images))])


def features(kind: str, data, embedder) -> np.ndarray:
    if kind == "model":
        return embedder.images(data.images, features="pre_proj").double().numpy()
    if kind == "pixels":
        return pixel_features(data.images, 16)
    if kind == "randproj":
        x = pixel_features(data.images, 32)
        proj = np.random.default_rng(0).normal(size=(x.shape[1], 1024)) / np.sqrt(x.shape[1])
        return np.maximum((x - 0.5) @ proj, 0)
    raise ValueError(kind)


def sklearn_model(lam: float, multilabel: bool, tol: float = 1e-4, max_iter: int = 1000):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    lr = LogisticRegression(C=1.0 / lam, tol=tol, max_iter=max_iter)
    return OneVsRestClassifier(lr) if multilabel else lr


def sklearn_scores(model, x: np.ndarray, n_classes: int):
    import torch

    s = model.decision_function(x)
    classes = getattr(model, "classes_", None)
    if s.ndim == 1:  # binary: the logit of classes_[1]
        out = np.full((len(x), n_classes), -np.inf)
        out[:, classes[0]], out[:, classes[1]] = 0.0, s
        return torch.from_numpy(out)
    if classes is not None and s.shape[1] != n_classes and not isinstance(classes[0], np.ndarray):
        out = np.full((len(x), n_classes), -np.inf)
        out[:, classes] = s
        return torch.from_numpy(out)
    return torch.from_numpy(s)


def run_pair(name: str, feats: dict, labels: dict, n_classes: int, multilabel: bool) -> dict:
    import torch

    from lipeval.kinds.linear_probe import search, solver
    from lipeval.kinds.linear_probe.evaluate import probe_metrics

    metric = "mAP_11pt" if multilabel else "acc1"
    score = lambda s, y: probe_metrics(s, y, multilabel, "pessimistic")[metric]  # noqa: E731
    t = {k: torch.from_numpy(v) for k, v in feats.items()}
    x_fit = np.concatenate([feats["train"], feats["val"]])
    y_fit = np.concatenate([labels["train"], labels["val"]])

    # 1. the whole search, lipeval (median of LIPEVAL_REPEATS runs: it is short, so noise weighs more) then
    # scikit-learn (once)
    lip_runs = []
    for _ in range(LIPEVAL_REPEATS):
        t0 = time.perf_counter()
        res, fits = search.search_lambda(t["train"], labels["train"], t["val"], labels["val"], n_classes, score)
        best = fits[res.best]
        final = solver.fit_logistic(torch.from_numpy(x_fit), y_fit, n_classes, res.lam,
                                       init=(best.weight, best.bias))
        lip_runs.append(time.perf_counter() - t0)
    lip_seconds = statistics.median(lip_runs)
    lip_test = score(final.scores(t["test"]), labels["test"])
    lip_iters = sum(fits[i].n_iter for i in res.order) + final.n_iter

    sk_iters = []

    def sk_eval(i):
        m = sklearn_model(search.LAMBDAS[i], multilabel).fit(feats["train"], labels["train"])
        sk_iters.append(_n_iter(m))
        return score(sklearn_scores(m, feats["val"], n_classes), labels["val"])

    t0 = time.perf_counter()
    sk_res = search.search_indices(sk_eval)
    sk_final = sklearn_model(sk_res.lam, multilabel).fit(x_fit, y_fit)
    sk_seconds = time.perf_counter() - t0
    sk_test = score(sklearn_scores(sk_final, feats["test"], n_classes), labels["test"])

    # 2. agreement at the same λ (fits on train + val, scored on test), and which fit is nearer the minimum
    agreement = []
    x_fit_t = torch.from_numpy(x_fit)
    for i in sorted(set(AGREEMENT) | {res.best, sk_res.best}):
        lam = search.LAMBDAS[i]
        ours = solver.fit_logistic(x_fit_t, y_fit, n_classes, lam)
        a = score(ours.scores(t["test"]), labels["test"])
        d = sklearn_model(lam, multilabel).fit(x_fit, y_fit)
        c = sklearn_model(lam, multilabel, tol=CONVERGED_TOL, max_iter=CONVERGED_MAX_ITER).fit(x_fit, y_fit)
        agreement.append({
            "lambda": lam, "lipeval": a, "lipeval_iter": ours.n_iter, "lipeval_converged": ours.converged,
            "sklearn_default": score(sklearn_scores(d, feats["test"], n_classes), labels["test"]),
            "sklearn_default_iter": _n_iter(d),
            "sklearn_converged": score(sklearn_scores(c, feats["test"], n_classes), labels["test"]),
            "sklearn_converged_iter": _n_iter(c),
            "sklearn_converged_reached": _n_iter(c) < CONVERGED_MAX_ITER,
            # the objective both tools minimise, at each solution (lower is nearer the minimiser)
            "objective_lipeval": objective(ours.weight, ours.bias, x_fit_t, y_fit, n_classes, lam),
            "objective_sklearn_converged": objective(*_coefficients(c, y_fit, n_classes), x_fit_t, y_fit, n_classes,
                                                     lam),
        })
    return {
        "set": name, "metric": metric, "n_train": len(labels["train"]), "n_val": len(labels["val"]),
        "n_test": len(labels["test"]), "dim": feats["train"].shape[1], "n_classes": n_classes,
        "lipeval": {"seconds": lip_seconds, "seconds_runs": lip_runs, "lambda": res.lam, "val": res.scores[res.best],
                    "test": lip_test, "fits": len(res.order) + 1, "iterations": lip_iters},
        "sklearn": {"seconds": sk_seconds, "lambda": sk_res.lam, "val": sk_res.scores[sk_res.best], "test": sk_test,
                    "fits": len(sk_res.order) + 1, "iterations": int(sum(sk_iters) + _n_iter(sk_final))},
        "speed_ratio": sk_seconds / lip_seconds,
        "agreement": agreement,
    }


def objective(weight, bias, x, y, n_classes: int, lam: float) -> float:
    """lipeval's (= scikit-learn's) objective, mean loss + λ/(2N)·||W||², at the solution (weight, bias)."""
    from lipeval.kinds.linear_probe import search, solver

    return solver.objective(np.asarray(weight), np.asarray(bias), x, y, n_classes, lam)


def _coefficients(model, y, n_classes: int):
    """(weight, bias) of a fitted scikit-learn model, rows in the order of lipeval's fitted columns."""
    import torch

    from lipeval.kinds.linear_probe import search, solver

    if hasattr(model, "estimators_"):  # one-vs-rest: the columns with positives and negatives
        _, cols, _ = solver.problem_of(torch.as_tensor(y), n_classes)
        est = [model.estimators_[int(c)] for c in cols]
        return np.stack([e.coef_[0] for e in est]), np.array([e.intercept_[0] for e in est])
    return model.coef_, model.intercept_


def _n_iter(model) -> int:
    if hasattr(model, "estimators_"):
        return int(max(int(np.max(e.n_iter_)) for e in model.estimators_))
    return int(np.max(model.n_iter_))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", default="default", choices=["tiny", "small", "default"])
    ap.add_argument("--features", default="model,pixels,randproj")
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--workdir", help="folder for the suite, the embedding cache and the JSON (default: a new temp "
                                      "folder)")
    ap.add_argument("--threads", type=int, default=0, help="torch and BLAS/OpenMP threads (0: leave as is)")
    args = ap.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from threadpoolctl import threadpool_limits

    from lipeval.cache import EmbeddingCache
    from lipeval.embed import Embedder
    from lipeval.kinds.linear_probe.evaluate import carve_validation
    from lipeval.models.adapter import load_model
    from lipeval.synthetic import MARKER, generate

    warnings.filterwarnings("ignore")  # scikit-learn's ConvergenceWarning is expected at small λ; it is counted
    if args.threads:
        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="lipeval-probe-vs-sklearn-"))
    data = work / "data"
    marker = data / "synthetic" / MARKER
    if not (marker.is_file() and json.loads(marker.read_text()).get("scale") == args.scale):
        generate(data, seed=0, scale=args.scale)
    embedder = Embedder(load_model("open_clip:lipeval-tiny-vit", seed=0), EmbeddingCache(work / "cache"), 256)
    warm = torch.randn(40, 4, dtype=torch.float64)  # first-call import costs of both tools, outside the timings
    from lipeval.kinds.linear_probe import search, solver

    solver.fit_logistic(warm, np.arange(40) % 3, 3, 1.0)
    sklearn_model(1.0, False).fit(warm.numpy(), np.arange(40) % 3)

    load_before = os.getloadavg()
    results = []
    for set_name in args.sets.split(","):
        reader, folder = SETS[set_name]
        root = data / "synthetic" / folder
        train, test = load_split(root, reader, "train"), load_split(root, reader, "test")
        tr, va = carve_validation(train.labels, 0.2, 0)
        for kind in args.features.split(","):
            x_train, x_test = features(kind, train, embedder), features(kind, test, embedder)
            feats = {"train": x_train[tr], "val": x_train[va], "test": x_test}
            labels = {"train": train.labels[tr], "val": train.labels[va], "test": test.labels}
            r = run_pair(set_name, feats, labels, len(train.classnames), train.multilabel)
            r["features"] = kind
            results.append(r)
            print(f"{set_name}/{kind}: lipeval {r['lipeval']['seconds']:.2f}s, scikit-learn "
                  f"{r['sklearn']['seconds']:.2f}s (x{r['speed_ratio']:.1f})", file=sys.stderr, flush=True)
    env = {"torch_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(), "load_before": load_before,
           "load_after": os.getloadavg(), "scale": args.scale}
    (work / "linear_probe_vs_sklearn.json").write_text(json.dumps({"env": env, "results": results}, indent=1))
    print(table(results, env))
    return 0


def table(results: list[dict], env: dict) -> str:
    pct = lambda v: f"{100 * v:.2f}"  # noqa: E731
    lines = [
        f"scale {env['scale']}; torch threads {env['torch_threads']} of {env['cpu_count']} CPUs; load average "
        f"{env['load_before'][0]:.1f} before, {env['load_after'][0]:.1f} after",
        "",
        "| set / features | N train/val/test, dim | lipeval s (fits, iters) | scikit-learn s (fits, iters) | speed-up "
        "| λ lipeval / sklearn | test lipeval / sklearn | max abs Δ same λ: vs default, vs converged "
        "| λ where sklearn did not converge in 5,000 iterations: lipeval's objective lower |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lp, sk = r["lipeval"], r["sklearn"]
        d_def = max(abs(a["lipeval"] - a["sklearn_default"]) for a in r["agreement"])
        reached = [a for a in r["agreement"] if a["sklearn_converged_reached"]]
        d_con = max((abs(a["lipeval"] - a["sklearn_converged"]) for a in reached), default=float("nan"))
        stuck = [a for a in r["agreement"] if not a["sklearn_converged_reached"]]
        lower = sum(a["objective_lipeval"] <= a["objective_sklearn_converged"] for a in stuck)
        lines.append(
            f"| {r['set']} / {r['features']} | {r['n_train']}/{r['n_val']}/{r['n_test']}, {r['dim']} "
            f"| {lp['seconds']:.2f} ({lp['fits']}, {lp['iterations']}) | {sk['seconds']:.2f} ({sk['fits']}, "
            f"{sk['iterations']}) | {r['speed_ratio']:.1f}x | {lp['lambda']:.3g} / {sk['lambda']:.3g} "
            f"| {pct(lp['test'])} / {pct(sk['test'])} ({r['metric']}) | {100 * d_def:.2f} / {100 * d_con:.2f} pts "
            f"| {lower} of {len(stuck)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
