#!/usr/bin/env python
"""Time and peak memory of GPR1200 scoring (every image against all images) on random embeddings.

    python benchmarks/gpr1200_scoring.py [--n 12000] [--dim 512] [--chunk 1024] [--policy pessimistic]

Embeddings are L2-normalised Gaussian vectors in GPR1200's layout (categories of 10, six domains). The
script prints the seconds `average_precisions` + `gpr_metrics` take and the process's peak resident memory
before and after scoring (the N x D embeddings themselves are 24 MB at 12,000 x 512). Run it once per tie
policy; `reference` sorts every row with argsort, the others count with searchsorted.
"""
from __future__ import annotations

import argparse
import resource
import time

import torch


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=12000)
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--chunk", type=int, default=1024)
    p.add_argument("--policy", default="pessimistic", choices=["pessimistic", "optimistic", "reference"])
    p.add_argument("--leave-one-out", action="store_true")
    args = p.parse_args()

    from lipeval.metrics.gpr import average_precisions, gpr_metrics

    g = torch.Generator().manual_seed(0)
    feats = torch.nn.functional.normalize(torch.randn(args.n, args.dim, generator=g), dim=1)
    cats = (torch.arange(args.n) // 10) % 1200
    before = _peak_mib()
    t0 = time.perf_counter()
    aps = average_precisions(feats, cats, tie_policy=args.policy, leave_one_out=args.leave_one_out,
                             chunk_size=args.chunk)
    metrics = gpr_metrics(aps.numpy(), cats.numpy())
    seconds = time.perf_counter() - t0
    print(f"n={args.n} dim={args.dim} chunk={args.chunk} policy={args.policy} "
          f"leave_one_out={args.leave_one_out} threads={torch.get_num_threads()}")
    print(f"scoring: {seconds:.2f} s; peak RSS {before:.0f} MiB before, {_peak_mib():.0f} MiB after")
    print(f"mAP = {metrics['mAP']:.5f} (random embeddings)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
