"""Command line of the trainer, shared by `lipeval train` and `python -m lipeval.train`.

    lipeval train --config FILE [--out DIR] [--max-steps N] [--resume] [--data DIR] [KEY=VALUE ...]
    torchrun --nproc_per_node N -m lipeval.train --config FILE [...]
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from lipeval.cli_support import positive_int, run_command


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--config", required=True, help="YAML config (see train/configs/)")
    p.add_argument("--out", help="run folder (default: runs/<config name>)")
    p.add_argument("--max-steps", type=positive_int, help="stop after this many steps (the schedule is unchanged)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its newest checkpoint")
    p.add_argument("--data", help="data root holding synthetic/ (default: data.root, else generate the suite)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config overrides, e.g. schedule.steps=50")
    return p


def quiet_cpu_threads() -> None:
    """Let idle OpenMP threads sleep instead of spinning (set before torch loads; the user's value wins).

    On a CPU shared with other processes, spinning threads slow small-batch training by an
    order of magnitude; with nothing else running the cost is negligible.
    """
    import os

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def run(args) -> int:
    quiet_cpu_threads()
    from .config import load_config
    from .trainer import train

    overrides = list(args.overrides or [])
    if args.data:
        overrides.append(f"data.root={args.data}")
    cfg = load_config(args.config, overrides)
    out = Path(args.out) if args.out else Path("runs") / cfg["name"]
    train(cfg, out, max_steps=args.max_steps, resume=args.resume)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = add_arguments(argparse.ArgumentParser(prog="lipeval.train", description="the lipeval companion trainer"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(message)s")
    return run_command(lambda: run(args), "lipeval train", "interrupted; resume with --resume")
