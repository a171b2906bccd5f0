"""Shared fixtures: offline hub, the tiny synthetic suite (generated once per session)."""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory):
    """A data root holding the tiny synthetic suite under `synthetic/`."""
    from lipeval.synthetic import generate

    root = tmp_path_factory.mktemp("data")
    generate(root, seed=0, scale="tiny")
    return root


def _save_local_dir(folder, adapter, fmt="safetensors"):
    """Write a loaded adapter as an open_clip local-dir folder; returns the weights file."""
    import json

    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": adapter.config}))
    sd = {k: v.contiguous() for k, v in adapter.model.state_dict().items()}
    if fmt == "safetensors":
        path = folder / "open_clip_model.safetensors"
        save_file(sd, str(path))
    else:
        path = folder / "open_clip_pytorch_model.bin"
        torch.save(sd, path)
    return path


@pytest.fixture
def save_local_dir():
    """`save_local_dir(folder, adapter, fmt="safetensors")`: the adapter's model as a local-dir folder."""
    return _save_local_dir
