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
