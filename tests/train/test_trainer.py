"""The trainer end to end on the tiny synthetic suite: run folder, scoring, resume, LiT, CLI."""
import json

import pytest
import torch
from safetensors.torch import load_file

from lipeval.errors import ConfigError
from lipeval.train.config import load_config
from lipeval.train.metrics import read_metrics
from lipeval.train.trainer import train

TINY = ["schedule.steps=6", "schedule.warmup=2", "schedule.batch_size=8", "log.progress=false",
        "log.checkpoint_every=3", "log.keep_checkpoints=2", "run.threads=1"]
LOTLIP = ["model.arch=lipeval-tiny-rn-ctx128", "model.corner_tokens=2",
          "data.texts=[{field: short_captions}, {field: long_caption, sentences: 3, features: all}]"]


def _cfg(synth_root, *extra):
    return load_config(None, TINY + [f"data.root={synth_root}", *extra])


def _quiet(*_):
    pass


@pytest.fixture(scope="module")
def clip_run(synth_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "clip"
    summary = train(_cfg(synth_root, "name=clip"), out, log=_quiet)
    return out, summary


def test_run_folder_holds_weights_state_metrics_and_plot(clip_run):
    out, summary = clip_run
    for name in ("open_clip_config.json", "open_clip_model.safetensors", "config.yaml", "metrics.jsonl",
                 "loss.png", "summary.json", "sync.jsonl"):
        assert (out / name).is_file(), name
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_0000003", "step_0000006"]
    rows = read_metrics(out)
    assert [r["step"] for r in rows] == list(range(6))
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in rows)
    assert rows[0]["lr"] < rows[1]["lr"] and summary["steps_done"] == 6 and summary["samples_per_s"] > 0
    latest = load_file(str(out / "open_clip_model.safetensors"))
    last = load_file(str(out / "checkpoints" / "step_0000006" / "open_clip_model.safetensors"))
    assert all(torch.equal(latest[k], last[k]) for k in latest)
    assert json.loads((out / "open_clip_config.json").read_text())["lipeval"]["variant"] == "clip"


def test_trained_weights_load_and_score_in_lipeval(clip_run, synth_root, tmp_path):
    import shutil

    from lipeval.models.adapter import load_model
    from lipeval.models.corner_text import CornerTextCLIP
    from lipeval.registry import resolve
    from lipeval.runner import Runner, RunOptions

    out, _ = clip_run
    ours = load_model(str(out))
    assert isinstance(ours.model, CornerTextCLIP) and ours.model.num_corners == 0
    assert ours.describe()["truncation"] == "keep_first_eot_last"
    plain_dir = tmp_path / "plain"  # the same weights as a plain open_clip folder (no trainer block)
    plain_dir.mkdir()
    shutil.copy(out / "open_clip_model.safetensors", plain_dir)
    cfg = json.loads((out / "open_clip_config.json").read_text())
    (plain_dir / "open_clip_config.json").write_text(json.dumps({k: v for k, v in cfg.items() if k != "lipeval"}))
    plain = load_model(str(plain_dir))
    assert type(plain.model).__name__ == "CLIP"
    texts = ["a red circle", "There are two shapes. A small blue star is in the centre"]
    assert torch.allclose(ours.encode_texts(texts), plain.encode_texts(texts), atol=1e-5)
    image = torch.zeros(1, 3, 64, 64)
    assert torch.equal(ours.encode_images(image), plain.encode_images(image))
    for spec in (str(out), str(out / "checkpoints" / "step_0000003" / "open_clip_model.safetensors")):
        opts = RunOptions(model=spec, data_root=synth_root, out=tmp_path / spec[-12:], batch_size=64)
        recs = Runner(opts, log=_quiet).run(resolve(["synthetic/retrieval", "synthetic/zeroshot_shape"]))
        assert [r["status"] for r in recs] == ["ok", "ok"], [r["error"] for r in recs]
        assert recs[0]["model"]["context_length"] == 77


def test_lotlip_run_is_recognised_as_a_corner_model(synth_root, tmp_path):
    from lipeval.models.adapter import load_model
    from lipeval.models.corner_text import CornerTextCLIP
    from lipeval.registry import resolve
    from lipeval.runner import Runner, RunOptions

    out = tmp_path / "lotlip"
    train(_cfg(synth_root, "name=lotlip", "schedule.steps=3", "schedule.warmup=1", *LOTLIP), out, log=_quiet)
    rows = read_metrics(out)
    assert all(len(r["view_losses"]) == 4 for r in rows)  # 1 short + (1 EOT + 2 corners) long
    adapter = load_model(str(out))
    assert isinstance(adapter.model, CornerTextCLIP) and adapter.model.num_corners == 2
    d = adapter.describe()
    assert d["context_length"] == 128 and d["truncation"] == "keep_first_corners_eot_last"
    text = "a red circle in the top left"
    tokens = adapter.tokenizer([text])
    with torch.no_grad():
        expected = torch.nn.functional.normalize(adapter.model.encode_text_all(tokens)[:, 0], dim=-1)
    assert torch.allclose(adapter.encode_texts([text]), expected, atol=1e-6)
    assert adapter.token_counts([text]) == [len(adapter.tokenizer.encode(text)) + 4]
    recs = Runner(RunOptions(model=str(out), data_root=synth_root, out=tmp_path / "res", batch_size=64),
                  log=_quiet).run(resolve(["synthetic/retrieval"]))
    assert recs[0]["status"] == "ok" and recs[0]["model"]["truncation"] == "keep_first_corners_eot_last"


def test_resume_gives_the_same_loss_curve_and_weights(synth_root, tmp_path):
    cfg = _cfg(synth_root, "name=r", "data.augment=true", *LOTLIP)  # random crops too
    train(cfg, tmp_path / "whole", log=_quiet)
    train(cfg, tmp_path / "split", max_steps=3, log=_quiet)
    assert [r["step"] for r in read_metrics(tmp_path / "split")] == [0, 1, 2]
    train(cfg, tmp_path / "split", resume=True, log=_quiet)
    whole, split = read_metrics(tmp_path / "whole"), read_metrics(tmp_path / "split")
    assert [r["step"] for r in split] == list(range(6))
    assert [r["loss"] for r in split] == [r["loss"] for r in whole]  # bit-identical on the CPU
    a = load_file(str(tmp_path / "whole" / "open_clip_model.safetensors"))
    b = load_file(str(tmp_path / "split" / "open_clip_model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ConfigError, match="--resume"):
        train(cfg, tmp_path / "whole", log=_quiet)  # an existing run is never overwritten silently


def test_lit_locks_the_loaded_image_tower(clip_run, synth_root, tmp_path):
    src, _ = clip_run
    out = tmp_path / "lit"
    train(_cfg(synth_root, "name=lit", "schedule.steps=2", "schedule.warmup=1", f"model.image_tower={src}",
               "model.lock_image=true"), out, log=_quiet)
    before = load_file(str(src / "open_clip_model.safetensors"))
    after = load_file(str(out / "open_clip_model.safetensors"))
    visual = [k for k in before if k.startswith("visual.")]
    assert visual and all(torch.equal(before[k], after[k]) for k in visual)  # weights and BN statistics
    assert not torch.equal(before["text_projection"], after["text_projection"])


def test_cli_entry_points(synth_root, tmp_path, capsys):
    from lipeval.cli import main as lipeval_main
    from lipeval.train.cli import main as train_main

    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: cli\nschedule: {steps: 2, warmup: 1, batch_size: 8}\nlog: {progress: false}\n"
                   "run: {threads: 1}\n")
    assert lipeval_main(["train", "--config", str(cfg), "--data", str(synth_root), "--out", str(tmp_path / "a"),
                         "--max-steps", "1", "optim.lr=5e-4"]) == 0
    assert len(read_metrics(tmp_path / "a")) == 1
    assert "lr: 0.0005" in (tmp_path / "a" / "config.yaml").read_text()
    assert train_main(["--config", str(cfg), "--data", str(synth_root), "--out", str(tmp_path / "a"),
                       "--resume"]) == 0
    assert len(read_metrics(tmp_path / "a")) == 2
    assert train_main(["--config", str(cfg), "model.archh=x"]) == 2
    assert "did you mean arch" in capsys.readouterr().err


def test_progress_off_a_terminal_is_a_log_line_every_n_steps(synth_root, tmp_path):
    lines = []
    cfg = load_config(None, TINY + [f"data.root={synth_root}", "name=progress", "schedule.steps=5",
                                    "log.progress=true", "log.every=2", "log.checkpoint_every=5"])
    train(cfg, tmp_path / "run", log=lines.append)  # pytest's stderr is not a terminal: no bar
    steps = [ln.split()[2] for ln in lines if ln.startswith("progress: step ")]
    assert steps == ["2/5", "4/5", "5/5"], lines
    assert all("loss" in ln and "samples/s" in ln for ln in lines if ln.startswith("progress: step "))
