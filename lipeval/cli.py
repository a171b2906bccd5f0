"""The `lipeval` command line: synth, tasks, run, train, demo, export, plot, compare.

Heavy imports (torch, open_clip) happen inside the commands that need them, so
`lipeval tasks` answers quickly.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from lipeval import __version__
from lipeval.cli_support import add_include_path, positive_int, run_command
from lipeval.errors import ConfigError


def _protocol_pairs(items: list[str]) -> dict:
    out = {}
    for it in items or []:
        key, sep, value = it.partition("=")
        if not sep or not key:
            raise ConfigError(f"--protocol {it!r}: expected KEY=VALUE")
        out[key.strip()] = value
    return out


def _long_text_mode(args) -> dict:
    """`--long-text-mode M` is the protocol override long_text_mode=M (absent when not given)."""
    mode = getattr(args, "long_text_mode", None)
    return {"long_text_mode": mode} if mode else {}


def _env_path(value: str | None, env: str, flag: str, required: bool = True) -> Path | None:
    v = value or os.environ.get(env)
    if not v:
        if required:
            raise ConfigError(f"{flag}: not given and ${env} is not set")
        return None
    return Path(v)


def cmd_synth(args) -> int:
    from lipeval.synthetic import generate

    suite = generate(args.out, seed=args.seed, scale=args.scale, image_size=args.image_size)
    print(f"wrote the synthetic suite (scale {args.scale}, seed {args.seed}) to {suite}")
    return 0


def cmd_tasks(args) -> int:
    from lipeval.registry import load_registry, validate

    if args.validate:
        problems = validate()
        for p in problems:
            print(p, file=sys.stderr)
        print(f"task configs checked: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        return 1 if problems else 0
    tasks, groups = load_registry()
    if args.group:
        if args.group not in groups:
            import difflib

            close = difflib.get_close_matches(args.group, list(groups), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ConfigError(f"--group: unknown group {args.group!r}{hint}")
        selected = [tasks[n] for n in groups[args.group].members]
        groups = {args.group: groups[args.group]}
    else:
        selected = list(tasks.values())
    if args.json:
        print(json.dumps({
            "tasks": [{"name": t.name, "kind": t.kind, "main_metric": t.main_metric, "version": t.version,
                       "groups": list(t.groups), "folder": t.folder, "reader": t.reader,
                       "description": t.description, "display": t.display or t.name, "family": t.family,
                       "source": t.source, "user": t.user} for t in selected],
            "groups": [{"name": g.name, "aggregate": g.aggregate, "members": list(g.members),
                        "description": g.description} for g in groups.values()],
        }, indent=2))
        return 0
    rows = [("task", "kind", "main metric", "version", "data-root folder")]
    rows += [(t.name + (" *" if t.user else ""), t.kind, t.main_metric, str(t.version), t.folder + "/")
             for t in selected]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    print("\ngroups: " + ", ".join(f"{g.name} ({len(g.members)})" for g in groups.values()))
    print("ad hoc: wds/NAME (clip-benchmark webdataset folder), folder/NAME (ImageFolder + classnames.txt)")
    if any(t.user for t in selected):
        print("* your own task files (--include-path / $LIPEVAL_INCLUDE)")
    return 0


def _run_tasks(opts, task_names: list[str]) -> int:
    from lipeval.registry import load_registry, resolve
    from lipeval.runner import Runner
    from lipeval.summary import summary_table

    tasks = resolve(task_names)
    records = Runner(opts).run(tasks)
    _, groups = load_registry()
    print()
    print(summary_table(records, groups))
    print(f"\nresults: {opts.out}")
    return 1 if any(r["status"] == "failed" for r in records) else 0


def _run_options(args):
    from lipeval.runner import RunOptions

    return RunOptions(
        model=args.model, data_root=_env_path(args.data_root, "LIPEVAL_DATA", "--data-root"),
        out=Path(args.out), cache_dir=_env_path(args.cache_dir, "LIPEVAL_CACHE", "--cache-dir", required=False),
        device=args.device, precision=args.precision, batch_size=args.batch_size, workers=args.workers,
        limit=args.limit, redo=args.redo, seed=args.seed, trust_checkpoint=args.trust_checkpoint,
        protocol=_protocol_pairs(args.protocol) | _long_text_mode(args),
    )


def cmd_run(args) -> int:
    return _run_tasks(_run_options(args), [t for t in args.tasks.split(",")])


def cmd_demo(args) -> int:
    """Train three tiny models on the synthetic suite, score them, report (the README's first command)."""
    from lipeval.demo import run_demo

    return run_demo(Path(args.out), quick=args.quick)


def cmd_train(args) -> int:
    """The companion trainer (lipeval.train): CLIP, LiT, LoTLIP."""
    from lipeval.train.cli import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lipeval", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"lipeval {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="show library log messages")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("synth", help="write the synthetic suite in the official formats")
    s.add_argument("--out", required=True, help="folder to write into (the suite goes to OUT/synthetic)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--scale", choices=["tiny", "small", "default"], default="default")
    s.add_argument("--image-size", type=positive_int, default=64)
    s.set_defaults(func=cmd_synth)

    t = sub.add_parser("tasks", help="list tasks and groups (fast, no torch)")
    add_include_path(t)
    t.add_argument("--group", help="only the members of this group")
    t.add_argument("--json", action="store_true", help="machine-readable output")
    t.add_argument("--validate", action="store_true", help="check every task config")
    t.set_defaults(func=cmd_tasks)

    r = sub.add_parser("run", help="evaluate a model on tasks and groups")
    add_include_path(r)
    r.add_argument("--model", required=True, help="open_clip:ARCH[/PRETRAINED], local-dir:PATH, hf-hub:ORG/NAME or PATH")
    r.add_argument("--tasks", required=True, help="comma-separated task and group names, wds/NAME, folder/NAME")
    r.add_argument("--data-root", help="data root (default: $LIPEVAL_DATA)")
    r.add_argument("--out", required=True, help="folder for the result records (one JSON per task)")
    r.add_argument("--cache-dir", help="embedding cache (default: $LIPEVAL_CACHE; none when unset)")
    r.add_argument("--device", default="auto", help="auto | cpu | cuda")
    r.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32")
    r.add_argument("--batch-size", type=positive_int, default=256)
    r.add_argument("--workers", type=int, default=0, help="image decoding worker processes")
    r.add_argument("--limit", type=positive_int, help="use only the first N images of each task (marked)")
    r.add_argument("--redo", action="store_true", help="recompute tasks that are already done")
    r.add_argument("--seed", type=int, default=0, help="seed (random-init models)")
    r.add_argument("--trust-checkpoint", action="store_true", help="allow full unpickling of .pt/.bin files")
    r.add_argument("--protocol", action="append", metavar="KEY=VALUE",
                   help="override a protocol option, e.g. tie_policy=optimistic (recorded in every result)")
    r.add_argument("--long-text-mode", choices=["reference", "subcaption_mean"],
                   help="retrieval text encoding: reference (default; one embedding per caption, truncated at the "
                        "model's context length) or subcaption_mean (NON-REFERENCE: mean of per-sentence "
                        "embeddings); same as --protocol long_text_mode=...")
    r.set_defaults(func=cmd_run)

    tr = sub.add_parser("train", help="train CLIP / LiT / LoTLIP with the companion trainer")
    from lipeval.train.cli import add_arguments

    add_arguments(tr).set_defaults(func=cmd_train)

    d = sub.add_parser("demo", help="train CLIP (short captions), CLIP (long captions) and LoTLIP on the synthetic "
                                    "suite, score all three on every synthetic task, write a leaderboard")
    d.add_argument("--out", default="lipeval-demo", help="output folder (default: lipeval-demo)")
    d.add_argument("--quick", action="store_true", help="a smaller world and shorter training (a few minutes)")
    d.set_defaults(func=cmd_demo)

    from lipeval.report.cli import add_commands  # export, plot, compare (no torch)

    add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(message)s")
    def command() -> int:
        from lipeval.registry import include_paths, set_include_paths

        set_include_paths(getattr(args, "include_path", None) or [])
        include_paths()  # a missing folder is a usage error before anything runs
        return args.func(args)

    return run_command(command, "lipeval", "interrupted; finished results are on disk, a re-run resumes")


if __name__ == "__main__":
    sys.exit(main())
