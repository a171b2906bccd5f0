"""Long-text retrieval end to end: the synthetic long sets through the runner with a 77-token and a
128-token tiny open_clip model, the non-reference mode from the command line, and the real tasks'
refusals (missing data, synthetic files under a real task's folder)."""
from __future__ import annotations

import json

import pytest

from lipeval.cli import main
from lipeval.registry import resolve
from lipeval.runner import Runner, RunOptions

LONG = ["synthetic/long_dci", "synthetic/long_iiw", "synthetic/long_sharegpt4v", "synthetic/long_urban1k"]


def _run(data, out, model, names, **kw):
    opts = RunOptions(model=model, data_root=data, out=out, cache_dir=None, batch_size=64, **kw)
    return {r["task"]: r for r in Runner(opts, log=lambda *_: None).run(resolve(names))}


@pytest.fixture(scope="module")
def by_context(synth_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("long")
    return {
        77: _run(synth_root, out / "c77", "open_clip:lipeval-tiny-rn", LONG),
        128: _run(synth_root, out / "c128", "open_clip:lipeval-tiny-rn-ctx128", LONG),
    }


def test_context_length_and_truncation_are_recorded(by_context):
    for ctx, recs in by_context.items():
        for name, rec in recs.items():
            assert rec["status"] == "ok", rec["error"]
            assert rec["model"]["context_length"] == ctx and rec["model"]["truncation"] == "keep_first_eot_last"
            tok = rec["info"]["text_tokens"]
            assert tok["context_length"] == ctx and tok["unit"] == "caption"
            assert tok["n_texts"] == rec["dataset"]["n_texts"] == rec["dataset"]["n_images"]
            assert rec["protocol"]["text_preprocessing"] == "lotlip_split"
            assert rec["protocol"]["long_text_mode"] == "reference"
            assert rec["dataset"]["synthetic"] is True
            assert 0.0 <= rec["metrics"]["mean_R@1"] <= 1.0
            assert rec["chance"]["mean_R@1"] == pytest.approx(1 / rec["dataset"]["n_images"])


def test_a_longer_context_truncates_fewer_captions(by_context):
    for name in LONG:
        short, long = by_context[77][name]["info"]["text_tokens"], by_context[128][name]["info"]["text_tokens"]
        assert short["mean_tokens"] == long["mean_tokens"] and short["max_tokens"] == long["max_tokens"]
        assert short["max_tokens"] > 77  # the synthetic long captions do not fit a 77-token context
        assert short["n_truncated"] > long["n_truncated"]


def test_subcaption_mean_from_the_command_line(synth_root, tmp_path, capsys):
    rc = main(["run", "--model", "open_clip:lipeval-tiny-rn", "--tasks", "synthetic/long_iiw",
               "--data-root", str(synth_root), "--out", str(tmp_path), "--long-text-mode", "subcaption_mean"])
    assert rc == 0
    rec = json.loads((tmp_path / "synthetic__long_iiw.json").read_text())
    assert rec["protocol"]["long_text_mode"] == "subcaption_mean"
    assert rec["protocol_overrides"] == {"long_text_mode": "subcaption_mean"}
    assert "non-reference" in rec["info"]["non_reference"]
    assert rec["info"]["text_tokens"]["unit"] == "sentence"
    assert rec["info"]["text_tokens"]["n_truncated"] == 0  # every sentence fits 77 tokens
    assert rec["info"]["text_tokens_whole_caption"]["n_truncated"] > 0
    with pytest.raises(SystemExit):
        main(["run", "--model", "m", "--tasks", "t", "--out", str(tmp_path), "--long-text-mode", "mean"])


def test_real_tasks_skip_without_data_and_refuse_synthetic_files(synth_root, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    recs = _run(empty, tmp_path / "a", "open_clip:lipeval-tiny-rn", ["long_retrieval"])
    assert len(recs) == 6 and all(r["status"] == "skipped" for r in recs.values())
    assert "densely_captioned_images" in recs["long/dci"]["error"]
    assert "DOCCI_Test" in recs["long/iiw"]["error"] and "urban1k" in recs["long/urban1k"]["error"]
    assert "share-captioner_coco_lcs_sam_1246k_1107.json" in recs["long/sharegpt4v_longclip_1k"]["error"]
    # a data root pointed at the synthetic long sets: their folder names are the real tasks' names
    recs = _run(synth_root / "synthetic" / "long", tmp_path / "b", "open_clip:lipeval-tiny-rn",
                ["long/dci", "long/iiw", "long/urban1k"])
    for rec in recs.values():
        assert rec["status"] == "failed" and "synthetic suite" in rec["error"]
