"""The runner: load the model once, run each task, write each result the moment it is done.

A finished task is skipped on a re-run (unless `redo`); a failing task is recorded with its
reason and the others still run; missing data makes a task `skipped`, never a download.
"""
from __future__ import annotations

import platform
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from lipeval import __version__
from lipeval.errors import ConfigError, DataError, DataMissing, LipevalError
from lipeval.kinds import KINDS, KindOptions, KindResult, KindSpec, check_overrides, get_kind, kind_for_records
from lipeval.models.spec import same_model
from lipeval.registry import TaskConfig
from lipeval.atomic import atomic_write_text
from lipeval.results import SCHEMA_VERSION, read_record, write_record

SYNTHETIC_MARKER = "lipeval_synthetic.json"


@dataclass
class RunOptions:
    model: str
    data_root: Path
    out: Path
    cache_dir: Path | None = None
    device: str = "auto"
    precision: str = "fp32"
    batch_size: int = 256
    workers: int = 0
    limit: int | None = None
    redo: bool = False
    seed: int = 0
    trust_checkpoint: bool = False
    protocol: dict = field(default_factory=dict)  # --protocol key=value overrides


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA device is available (use --device cpu or auto)")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ConfigError(f"--device {device!r}: expected auto, cpu or cuda")
    return device


def find_synthetic_marker(folder: Path, data_root: Path) -> Path | None:
    """The synthetic-suite marker in `folder` or a parent up to the data root, if any."""
    folder, data_root = folder.resolve(), data_root.resolve()
    for d in (folder, *folder.parents):
        if (d / SYNTHETIC_MARKER).is_file():
            return d / SYNTHETIC_MARKER
        if d == data_root:
            break
    return None


def task_options(task: TaskConfig, kind: KindSpec, overrides: dict) -> KindOptions:
    """The kind's defaults, then the task file's `protocol:` block, then the `--protocol` overrides this kind
    knows (one run may mix kinds; `check_overrides` has made sure every override belongs to some kind)."""
    options = kind.options.parse(task.protocol, f"{task.source or 'task ' + task.name}: protocol")
    known = kind.options.keys()
    return options.with_values({k: v for k, v in overrides.items() if k in known}, "--protocol")


def recorded_protocol(task: TaskConfig, options: KindOptions) -> dict:
    """What a result records as its protocol: the kind's options as used, plus the reader's options."""
    return {**options.record(), **{f"reader.{k}": v for k, v in task.args.items()}}


class Runner:
    def __init__(self, opts: RunOptions, log=print):
        self.opts = opts
        self.log = log
        self._adapter = None
        self._embedder = None

    # The model is loaded lazily, once: a re-run with every task finished loads nothing, and a run whose
    # embeddings are all cached loads it only if its card (lipeval.models.card) is not cached either.
    def embedder(self):
        if self._embedder is None:
            from lipeval.cache import EmbeddingCache
            from lipeval.embed import Embedder
            from lipeval.models.card import adapter_for

            o = self.opts
            cache = EmbeddingCache(o.cache_dir)
            device = resolve_device(o.device)

            def load():
                from lipeval.models.families import load_model

                return load_model(o.model, device=device, precision=o.precision, seed=o.seed,
                                  trust_checkpoint=o.trust_checkpoint)

            self._adapter = adapter_for(o.model, o.seed, device, o.precision, cache, load)
            self._embedder = Embedder(self._adapter, cache, o.batch_size, o.workers)
        return self._embedder

    def result_path(self, task: TaskConfig) -> Path:
        return self.opts.out / f"{task.file_stem}.json"

    def is_done(self, task: TaskConfig) -> bool:
        """A finished record of this task, model, limit and protocol (a changed kind default re-runs)."""
        rec = read_record(self.result_path(task))
        if not (
            rec is not None and rec.get("status") == "ok" and rec.get("config_hash") == task.config_hash()
            and rec.get("limit") == self.opts.limit
            and same_model(str((rec.get("model") or {}).get("spec")), self.opts.model)
            and rec.get("protocol_overrides", {}) == self.opts.protocol and rec.get("kind") in KINDS
        ):
            return False
        try:
            options = task_options(task, KINDS[rec["kind"]], self.opts.protocol)
        except ConfigError:
            return False
        return rec.get("protocol") == recorded_protocol(task, options)

    def check_out_dir(self, tasks: list[TaskConfig]) -> None:
        """Refuse to overwrite another model's results in the same --out folder."""
        if self.opts.redo:
            return
        for t in tasks:
            rec = read_record(self.result_path(t))
            spec = (rec or {}).get("model", {}).get("spec")
            if rec and rec.get("status") == "ok" and spec and not same_model(spec, self.opts.model):
                raise ConfigError(
                    f"--out {self.opts.out} holds results of model {spec!r} ({self.result_path(t).name}); "
                    f"use another --out for {self.opts.model!r}, or --redo to overwrite"
                )

    def run(self, tasks: list[TaskConfig]) -> list[dict]:
        check_overrides(self.opts.protocol)
        self.check_out_dir(tasks)
        self.opts.out.mkdir(parents=True, exist_ok=True)
        records = []
        for i, task in enumerate(tasks, 1):
            path = self.result_path(task)
            if not self.opts.redo and self.is_done(task):
                rec = read_record(path)
                rec["_cached"] = True
                self.log(f"[{i}/{len(tasks)}] {task.name}: done already ({path.name}); --redo to recompute")
                records.append(rec)
                continue
            self.log(f"[{i}/{len(tasks)}] {task.name} ...")
            rec = self.run_task(task)
            write_record(path, rec)
            records.append(rec)
            self.log(f"[{i}/{len(tasks)}] {task.name}: {_status_line(rec)}")
        return records

    def run_task(self, task: TaskConfig) -> dict:
        o = self.opts
        t_start = time.perf_counter()
        timing: dict[str, float] = {}
        root = o.data_root / task.folder
        rec: dict = {
            "schema_version": SCHEMA_VERSION, "task": task.name, "task_version": task.version, "kind": task.kind,
            "status": "ok", "error": None, "metrics": {}, "main_metric": task.main_metric, "chance": {},
            "model": {"spec": o.model}, "dataset": {"name": task.name, "root": str(root)},
            "protocol": {}, "protocol_overrides": dict(o.protocol), "info": {}, "env": {}, "timing": timing,
            "limit": o.limit, "config_hash": task.config_hash(),
        }
        try:
            from lipeval.datasets import get_reader

            marker = find_synthetic_marker(root, o.data_root) if root.exists() else None
            if marker is not None and not task.synthetic and not task.ad_hoc:
                raise DataError(
                    f"{root} holds lipeval's synthetic suite ({marker}); results on synthetic data are never "
                    f"labelled as the real benchmark {task.name!r}: run the synthetic/ tasks instead"
                )
            t0 = time.perf_counter()
            data = get_reader(task.reader)(root, **task.args)
            kind = get_kind(task.kind) if task.kind != "auto" else kind_for_records(data)
            rec["kind"] = kind.name
            if task.main_metric == "" or task.kind == "auto":
                rec["main_metric"] = kind.default_main_metric(getattr(data, "multilabel", False))
            if o.limit:
                data = data.limit(o.limit)
            timing["load_data"] = time.perf_counter() - t0
            options = task_options(task, kind, o.protocol)
            rec["protocol"] = recorded_protocol(task, options)
            embedder = self.embedder()
            before = dict(embedder.seconds)
            t0 = time.perf_counter()
            result = kind.run(data, embedder, options)
            total_kind = time.perf_counter() - t0
            for stage in ("embed_images", "embed_texts"):
                timing[stage] = embedder.seconds.get(stage, 0.0) - before.get(stage, 0.0)
            timing["score"] = max(0.0, total_kind - timing["embed_images"] - timing["embed_texts"])
            timing.update(result.timing)
            self.fill_record(rec, task, result)
            rec["dataset"].update({"fingerprint": data.fingerprint(), "n_images": result.n_images,
                                   "n_texts": result.n_texts, "synthetic": marker is not None,
                                   "source": data.source})
        except DataMissing as e:
            rec.update(status="skipped", error=str(e))
        except (LipevalError, FileNotFoundError, ValueError, KeyError, OSError) as e:
            rec.update(status="failed", error=f"{type(e).__name__}: {e}" if not isinstance(e, LipevalError) else str(e))
        except KeyboardInterrupt:
            raise
        except Exception as e:  # keep going: record the failure with its traceback tail
            tb = traceback.format_exc().strip().splitlines()[-3:]
            rec.update(status="failed", error=f"{type(e).__name__}: {e} | {' / '.join(tb)}")
        if self._adapter is not None:
            rec["model"] = self._adapter.describe()
        rec["env"] = self.env()
        timing["total"] = time.perf_counter() - t_start
        return rec

    def fill_record(self, rec: dict, task: TaskConfig, result: KindResult) -> None:
        """The record's metrics, chance and info from a kind's result; its artifacts written beside it."""
        rec["metrics"] = result.metrics
        rec["chance"] = result.chance
        info = {"n_images": result.n_images, "n_texts": result.n_texts, **result.info}
        for name, text in result.artifacts.items():
            atomic_write_text(self.opts.out / f"{task.file_stem}.{name}", text)
        if result.artifacts:
            info["artifacts"] = [f"{task.file_stem}.{name}" for name in result.artifacts]
        rec["info"] = info

    def env(self) -> dict:
        import torch

        from lipeval.models.card import package_version

        a = self._adapter
        return {
            "lipeval": __version__, "torch": torch.__version__, "open_clip": package_version("open_clip_torch"),
            "python": platform.python_version(), "device": a.device if a else None,
            "precision": self.opts.precision, "seed": self.opts.seed,
        }


def _status_line(rec: dict) -> str:
    if rec["status"] != "ok":
        return f"{rec['status']}: {rec['error']}"
    m = rec["main_metric"]
    v = rec["metrics"].get(m)
    c = rec.get("chance", {}).get(m)
    chance = f" (chance {100 * c:.2f})" if isinstance(c, float) else ""
    return f"{m} = {100 * v:.2f}{chance}"


def run(opts: RunOptions, tasks: list[TaskConfig], log=print) -> list[dict]:
    return Runner(opts, log).run(tasks)

