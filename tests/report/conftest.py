"""Result folders written with the real record writer, from numbers chosen per test.

The helpers reach the tests through the `rfx` fixture (never imported by module name).
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from lipeval.results import SCHEMA_VERSION, write_record

RETRIEVAL_PROTOCOL = {"tie_policy": "pessimistic", "caption_prefix": "", "text_preprocessing": "none",
                      "long_text_mode": "reference"}
ZEROSHOT_PROTOCOL = {"tie_policy": "pessimistic"}


def record(task: str, metrics: dict, main: str, *, protocol: dict | None = None, version: int = 1,
           status: str = "ok", limit: int | None = None, spec: str = "open_clip:lipeval-tiny-rn",
           fingerprint: str = "f" * 16, n_images: int = 48, synthetic: bool = True, chance: dict | None = None,
           kind: str | None = None) -> dict:
    kind = kind or ("retrieval" if main == "mean_R@1" else "zeroshot_classification")
    return {
        "schema_version": SCHEMA_VERSION, "task": task, "task_version": version, "kind": kind,
        "status": status, "error": None if status == "ok" else "FileNotFoundError: images/ absent",
        "metrics": metrics if status == "ok" else {}, "main_metric": main,
        "chance": chance if chance is not None else {k: 0.02 for k in metrics},
        "model": {"spec": spec, "fingerprint": fingerprint},
        "dataset": {"name": task, "n_images": n_images, "n_texts": n_images * 5, "synthetic": synthetic},
        "protocol": dict(protocol if protocol is not None else
                         (RETRIEVAL_PROTOCOL if kind == "retrieval" else ZEROSHOT_PROTOCOL)),
        "info": {}, "env": {"torch": "2.x", "device": "cpu", "precision": "fp32", "seed": 0},
        "timing": {"total": 1.0}, "limit": limit, "config_hash": "0" * 16,
    }


def retrieval(i2t: float, t2i: float, **kw) -> tuple[dict, str]:
    return ({"image_to_text_R@1": i2t, "text_to_image_R@1": t2i, "image_to_text_R@5": min(1, 3 * i2t),
             "text_to_image_R@5": min(1, 3 * t2i), "mean_R@1": (i2t + t2i) / 2}, "mean_R@1")


def write_run(folder: Path, records: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for rec in records:
        write_record(folder / (rec["task"].replace("/", "__") + ".json"), rec)
    return folder


@pytest.fixture
def make_run(tmp_path):
    """make_run(name, {task: (metrics, main)} or [records], **record kwargs) -> folder."""

    def make(name: str, tasks, **kw) -> Path:
        if isinstance(tasks, dict):
            recs = [record(t, m, main, **kw) for t, (m, main) in tasks.items()]
        else:
            recs = tasks
        return write_run(tmp_path / "results" / name, recs)

    return make


def synthetic_tasks(long_r1: float, short_r1: float, shape_acc: float) -> dict:
    """A run's numbers on three synthetic tasks (two retrieval, one zero-shot)."""
    return {
        "synthetic/long_dci": retrieval(long_r1, long_r1 + 0.01),
        "synthetic/retrieval": retrieval(short_r1, short_r1 - 0.01),
        "synthetic/zeroshot_shape": ({"acc1": shape_acc, "acc5": 0.7, "mean_per_class_recall": shape_acc}, "acc1"),
    }


@pytest.fixture
def rfx(make_run):
    return SimpleNamespace(record=record, retrieval=retrieval, write_run=write_run, make_run=make_run,
                           synthetic_tasks=synthetic_tasks)


def pytest_configure(config):
    config.addinivalue_line("markers", "gate: the CI regression gate (a tiny training run; about a minute)")
