"""DDP on the CPU: two gloo processes (torchrun) against one process on the same global batch."""
import json
import os
import signal
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from lipeval.train.config import load_config
from lipeval.train.metrics import read_metrics
from lipeval.train.trainer import train

# A ViT image tower (LayerNorm only, no per-rank BatchNorm statistics) and a corner-token text
# tower with two views, so the gathered multi-view loss is what is being compared.
CONFIG = """\
name: ddp
seed: 1
model: {arch: lipeval-tiny-vit, corner_tokens: 2}
data:
  texts:
    - {field: short_captions}
    - {field: long_caption, sentences: 2, features: all}
schedule: {steps: 4, warmup: 1, batch_size: 8}
log: {progress: false, checkpoint_every: 2}
run: {threads: 1}
"""


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is not built in")
def test_two_gloo_ranks_match_one_process_and_stay_in_sync(synth_root, tmp_path):
    cfg_file = tmp_path / "ddp.yaml"
    cfg_file.write_text(CONFIG)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "lipeval.train", "--config", str(cfg_file), "--data", str(synth_root), "--out", str(tmp_path / "two")]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group: a hang is cleaned up whole
    try:
        _, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("the two-process run did not finish in 240 s")
    assert proc.returncode == 0, err[-3000:]

    train(load_config(cfg_file, [f"data.root={synth_root}"]), tmp_path / "one", log=lambda *_: None)

    two, one = read_metrics(tmp_path / "two"), read_metrics(tmp_path / "one")
    assert [r["step"] for r in two] == [r["step"] for r in one] == [0, 1, 2, 3]
    for a, b in zip(two, one):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5, abs=1e-6)
        assert a["view_losses"] == pytest.approx(b["view_losses"], rel=1e-5, abs=1e-6)
    syncs = [json.loads(ln) for ln in (tmp_path / "two" / "sync.jsonl").read_text().splitlines()]
    assert [s["step"] for s in syncs] == [2, 4]
    assert all(s["world_size"] == 2 and len(set(s["digests"])) == 1 for s in syncs)  # ranks identical
    wa = load_file(str(tmp_path / "two" / "open_clip_model.safetensors"))
    wb = load_file(str(tmp_path / "one" / "open_clip_model.safetensors"))
    assert max((wa[k] - wb[k]).abs().max().item() for k in wa) < 1e-4
