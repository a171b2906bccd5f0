"""Checkpoints: safetensors weights + a separate optimizer state file, written atomically.

    RUN/open_clip_config.json          model config + lipeval block (written once)
    RUN/open_clip_model.safetensors    the latest weights (replaced atomically)
    RUN/checkpoints/step_0000100/      one complete checkpoint: open_clip_config.json,
                                       open_clip_model.safetensors, train_state.pt

A step folder is written under a temporary name and renamed when complete, so a crash never
leaves a half-written checkpoint; `--resume` takes the newest complete one. Each step folder
is itself an open_clip local-dir, so `lipeval run --model RUN/checkpoints/step_0000100` works.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch

from lipeval.atomic import atomic_write_text
from lipeval.errors import ConfigError
from .model import WEIGHTS

STATE = "train_state.pt"
CONFIG = "open_clip_config.json"
STEP_PREFIX = "step_"


def _write_json(path: Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1))


def _save_weights(path: Path, state: dict, step: int) -> None:
    from safetensors.torch import save_file

    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata={"step": str(step), "format": "pt"})
    os.replace(tmp, path)


def write_config(run_dir: Path, config_json: dict) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    _write_json(run_dir / CONFIG, config_json)


def step_dir(run_dir: Path, step: int) -> Path:
    return run_dir / "checkpoints" / f"{STEP_PREFIX}{step:07d}"


def save(run_dir: Path, model_state: dict, train_state: dict, step: int, config_json: dict, keep: int) -> Path:
    """Write the checkpoint of `step` (steps done) and make its weights the run's latest."""
    final = step_dir(run_dir, step)
    tmp = final.with_name(final.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    _write_json(tmp / CONFIG, config_json)
    _save_weights(tmp / WEIGHTS, model_state, step)
    torch.save({**train_state, "step": step}, tmp / STATE)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    _save_weights(run_dir / WEIGHTS, model_state, step)
    for old in complete_steps(run_dir)[:-max(keep, 1)]:
        shutil.rmtree(step_dir(run_dir, old), ignore_errors=True)
    return final


def complete_steps(run_dir: Path) -> list[int]:
    folder = run_dir / "checkpoints"
    if not folder.is_dir():
        return []
    steps = []
    for d in folder.iterdir():
        if d.is_dir() and d.name.startswith(STEP_PREFIX) and d.name[len(STEP_PREFIX):].isdigit() \
                and (d / STATE).is_file() and (d / WEIGHTS).is_file():
            steps.append(int(d.name[len(STEP_PREFIX):]))
    return sorted(steps)


def load_latest(run_dir: Path) -> tuple[int, dict, dict]:
    """(step, model state, train state) of the newest complete checkpoint."""
    from safetensors.torch import load_file

    steps = complete_steps(run_dir)
    if not steps:
        raise ConfigError(f"--resume: {run_dir} holds no complete checkpoint under checkpoints/")
    d = step_dir(run_dir, steps[-1])
    state = torch.load(d / STATE, map_location="cpu", weights_only=True)
    if int(state["step"]) != steps[-1]:
        raise ConfigError(f"--resume: {d / STATE} says step {state['step']}, its folder says {steps[-1]}")
    return steps[-1], load_file(str(d / WEIGHTS)), state
