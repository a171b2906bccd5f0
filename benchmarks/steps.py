"""Steps the benchmark scripts share: run a timed subprocess, make the synthetic suite, save a seeded
random-init model. Each script passes its own `log`."""
from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

PY = sys.executable


class StepFailed(RuntimeError):
    pass


def env() -> dict:
    e = dict(os.environ)
    e["HF_HUB_OFFLINE"] = "1"
    e.setdefault("TOKENIZERS_PARALLELISM", "false")
    return e


def timed(cmd: list[str], log_path: Path, what: str) -> float:
    """Run `cmd` with stdout+stderr to `log_path`; return its wall time; raise on failure."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as f:
        t0 = time.perf_counter()
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env()).returncode
        dt = time.perf_counter() - t0
    if rc != 0:
        tail = "".join(log_path.read_text(errors="replace").splitlines(keepends=True)[-25:])
        raise StepFailed(f"{what} failed (exit {rc}); log {log_path}:\n{tail}")
    return dt


def make_suite(data: Path, scale: str, log) -> None:
    """`lipeval synth` into `data`, unless a suite of the same scale is there already."""
    marker = data / "synthetic" / "lipeval_synthetic.json"
    if marker.is_file():
        try:
            meta = json.loads(marker.read_text())
        except ValueError:
            meta = {}
        if meta.get("scale") == scale:
            log(f"reusing the synthetic suite (scale {scale}) in {data / 'synthetic'}")
            return
        shutil.rmtree(data)
    log(f"generating the synthetic suite (scale {scale}) in {data / 'synthetic'}")
    lipeval = str(Path(PY).with_name("lipeval"))
    cmd = [lipeval, "synth", "--out", str(data), "--scale", scale] if Path(lipeval).exists() else \
        [PY, "-m", "lipeval", "synth", "--out", str(data), "--scale", scale]
    timed(cmd, data.parent / "logs" / "synth.log", "lipeval synth")


def random_init_state(arch: str, seed: int) -> dict:
    """The state dict of a seeded random-init open_clip model (lipeval's tiny configs registered)."""
    import open_clip
    import torch

    from lipeval.models import register_configs

    register_configs()
    torch.manual_seed(seed)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # open_clip's "no pretrained weights loaded" warning is the point here
    try:
        model = open_clip.create_model(arch, pretrained=None)
    finally:
        root.setLevel(level)
    return {k: v.detach().contiguous() for k, v in model.state_dict().items()}


def save_random_checkpoint(path: Path, arch: str, seed: int, log) -> None:
    from safetensors.torch import save_file

    state = random_init_state(arch, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))
    log(f"saved random-init {arch} (seed {seed}, {len(state)} tensors) to {path}")


def records(out: Path, require_ok: bool = False) -> dict[str, dict]:
    """The result records `lipeval run` wrote to `out`, by task; with `require_ok`, a task that is not ok
    fails the step."""
    recs = {}
    for path in sorted(out.glob("*.json")):
        rec = json.loads(path.read_text())
        if require_ok and rec.get("status") != "ok":
            raise StepFailed(f"{rec.get('task')}: {rec.get('status')}: {rec.get('error')}")
        recs[rec["task"]] = rec
    if not recs:
        raise StepFailed(f"no records in {out}")
    return recs
