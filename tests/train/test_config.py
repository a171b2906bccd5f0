"""The trainer's config: defaults, YAML, overrides, validation, the shipped configs."""
from pathlib import Path

import pytest

from lipeval.errors import ConfigError
from lipeval.train.config import load_config, parse_override

CONFIGS = Path(__file__).resolve().parents[2] / "train" / "configs"


def test_overrides_are_typed_and_nested(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("name: x\nschedule: {steps: 40, warmup: 4}\n")
    cfg = load_config(f, ["optim.lr=3e-4", "schedule.batch_size=16", "optim.betas=[0.9, 0.95]", "data.root=/d"])
    assert cfg["optim"]["lr"] == pytest.approx(3e-4) and cfg["schedule"]["batch_size"] == 16
    assert cfg["optim"]["betas"] == [0.9, 0.95] and cfg["data"]["root"] == "/d"
    assert cfg["schedule"]["steps"] == 40 and cfg["optim"]["weight_decay"] == 0.1  # default kept
    assert parse_override("a.b=none") == (["a", "b"], "none")


def test_unknown_keys_and_bad_values_are_errors(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("optim: {lr: 1e-3, weight_dacay: 0.1}\n")
    with pytest.raises(ConfigError, match="optim.weight_dacay; did you mean weight_decay"):
        load_config(f)
    with pytest.raises(ConfigError, match="warmup"):
        load_config(None, ["schedule.steps=10", "schedule.warmup=10"])
    with pytest.raises(ConfigError, match="needs model.corner_tokens"):
        load_config(None, ["data.texts=[{field: long_caption, features: all}]"])
    with pytest.raises(ConfigError, match="LiT"):
        load_config(None, ["model.lock_image=true"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_config(None, ["steps"])


def test_shipped_configs_load():
    names = {p.stem for p in CONFIGS.glob("*.yaml")}
    assert {"demo_clip_short", "demo_clip_long", "demo_lotlip"} <= names
    for p in CONFIGS.glob("*.yaml"):
        cfg = load_config(p)
        assert cfg["name"]
    lotlip = load_config(CONFIGS / "demo_lotlip.yaml")
    assert lotlip["model"]["corner_tokens"] == 2 and lotlip["data"]["texts"][1]["sentences"] == 3
