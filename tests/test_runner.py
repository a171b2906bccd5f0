"""The runner end to end on the tiny synthetic suite: records, cache, resume, failures."""
import json
import shutil

import pytest

from lipeval.errors import ConfigError
from lipeval.kinds import KINDS
from lipeval.registry import resolve
from lipeval.results import SCHEMA
from lipeval.runner import Runner, RunOptions

MODEL = "open_clip:lipeval-tiny-rn"
TASKS = ["synthetic/retrieval", "synthetic/zeroshot_shape"]


def _opts(data, out, cache, **kw):
    return RunOptions(model=MODEL, data_root=data, out=out, cache_dir=cache, batch_size=64, **kw)


def _run(opts, names=TASKS):
    runner = Runner(opts, log=lambda *_: None)
    return runner, runner.run(resolve(names))


def test_records_follow_the_schema(synth_root, tmp_path):
    _, recs = _run(_opts(synth_root, tmp_path / "out", tmp_path / "cache"))
    assert [r["status"] for r in recs] == ["ok", "ok"]
    rec = json.loads((tmp_path / "out" / "synthetic__retrieval.json").read_text())
    assert set(SCHEMA) <= set(rec), set(SCHEMA) - set(rec)
    assert set(rec["metrics"]) >= {"image_to_text_R@1", "image_to_text_R@5", "image_to_text_R@10",
                                   "text_to_image_R@1", "text_to_image_R@5", "text_to_image_R@10"}
    assert all(0.0 <= v <= 1.0 for v in rec["metrics"].values())
    assert rec["dataset"]["synthetic"] is True and rec["dataset"]["n_images"] > 0
    assert rec["dataset"]["n_texts"] == 5 * rec["dataset"]["n_images"]
    assert rec["model"]["context_length"] == 77 and rec["model"]["fingerprint"]
    assert rec["protocol"]["tie_policy"] == "pessimistic"
    assert rec["env"]["device"] == "cpu" and rec["limit"] is None
    zs = json.loads((tmp_path / "out" / "synthetic__zeroshot_shape.json").read_text())
    assert {"acc1", "acc5", "mean_per_class_recall"} <= set(zs["metrics"])
    assert zs["chance"]["acc1"] == pytest.approx(1 / zs["info"]["n_classes"])


def test_second_run_computes_no_embedding(synth_root, tmp_path):
    cache = tmp_path / "cache"
    names = TASKS + ["synthetic/sugarcrepe_swap_att"]  # token statistics, token identity of options
    r1, recs1 = _run(_opts(synth_root, tmp_path / "a", cache), names)
    assert r1._adapter.calls["image_batches"] > 0 and r1._adapter.calls["text_batches"] > 0
    r2, recs2 = _run(_opts(synth_root, tmp_path / "b", cache), names)  # new --out: run again, from cache
    assert r2._adapter.loaded is None  # not even the model was loaded: its card was cached too
    assert [r["metrics"] for r in recs1] == [r["metrics"] for r in recs2]
    assert [r["model"] for r in recs1] == [r["model"] for r in recs2]
    assert [r["info"] for r in recs1] == [r["info"] for r in recs2]
    assert recs2[0]["info"]["text_tokens"]["n_texts"] > 0 and recs2[2]["info"]["option_identity"] == "tokens"
    r3, recs3 = _run(_opts(synth_root, tmp_path / "c", cache, redo=True), TASKS + ["synthetic/zeroshot_colour"])
    assert r3._adapter.loaded is not None and r3._adapter.loaded.calls["image_batches"] > 0  # a miss loads it
    assert [r["metrics"] for r in recs3[:2]] == [r["metrics"] for r in recs1[:2]]


def test_data_moved_elsewhere_keeps_its_cached_embeddings(synth_root, tmp_path):
    cache = tmp_path / "cache"
    _, recs1 = _run(_opts(synth_root, tmp_path / "a", cache))
    moved = shutil.copytree(synth_root, tmp_path / "staged" / "data")  # e.g. data staged to a node's scratch disk
    r2, recs2 = _run(_opts(moved, tmp_path / "b", cache))
    assert r2._adapter.loaded is None  # every embedding came from the cache
    assert [r["metrics"] for r in recs1] == [r["metrics"] for r in recs2]
    assert [r["dataset"]["fingerprint"] for r in recs1] == [r["dataset"]["fingerprint"] for r in recs2]
    assert recs2[0]["dataset"]["root"].startswith(str(moved))


def test_finished_tasks_are_skipped_unless_redo(synth_root, tmp_path):
    opts = _opts(synth_root, tmp_path / "out", tmp_path / "cache")
    _run(opts)
    r2, recs = _run(opts)
    assert all(r.get("_cached") for r in recs)
    assert r2._adapter is None  # nothing to do: the model is never loaded
    opts.redo = True
    r3, recs = _run(opts)
    assert not any(r.get("_cached") for r in recs) and r3._adapter is not None


def test_failure_is_recorded_and_other_tasks_still_run(synth_root, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(synth_root, data)
    victim = sorted((data / "synthetic" / "coco" / "val2014").iterdir())[0]
    victim.write_bytes(b"this is not a jpeg")
    _, recs = _run(_opts(data, tmp_path / "out", None))
    by = {r["task"]: r for r in recs}
    assert by["synthetic/retrieval"]["status"] == "failed"
    assert victim.name in by["synthetic/retrieval"]["error"]
    assert by["synthetic/zeroshot_shape"]["status"] == "ok"


def test_missing_data_is_skipped_with_the_expected_layout(tmp_path):
    (tmp_path / "data").mkdir()
    _, recs = _run(_opts(tmp_path / "data", tmp_path / "out", None), ["coco_retrieval"])
    assert recs[0]["status"] == "skipped"
    assert "coco_test_karpathy.json" in recs[0]["error"]


def test_real_task_refuses_synthetic_data(synth_root, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(synth_root / "synthetic" / "coco", data / "coco")  # synthetic files where real COCO belongs
    shutil.copy(synth_root / "synthetic" / "lipeval_synthetic.json", data / "coco")
    _, recs = _run(_opts(data, tmp_path / "out", None), ["coco_retrieval"])
    assert recs[0]["status"] == "failed" and "synthetic suite" in recs[0]["error"]


def test_limit_is_recorded_and_applied(synth_root, tmp_path):
    _, recs = _run(_opts(synth_root, tmp_path / "out", None, limit=8), ["synthetic/retrieval"])
    assert recs[0]["limit"] == 8 and recs[0]["dataset"]["n_images"] == 8


def test_interrupted_run_leaves_finished_results_and_resumes(synth_root, tmp_path, monkeypatch):
    opts = _opts(synth_root, tmp_path / "out", tmp_path / "cache")
    import lipeval.kinds.zeroshot.evaluate as zs

    real = zs.evaluate

    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(zs, "evaluate", interrupt)
    with pytest.raises(KeyboardInterrupt):
        _run(opts)
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["synthetic__retrieval.json"]  # no partial or temporary file
    json.loads((tmp_path / "out" / files[0]).read_text())
    monkeypatch.setattr(zs, "evaluate", real)
    _, recs = _run(opts)
    assert recs[0].get("_cached") and not recs[1].get("_cached") and recs[1]["status"] == "ok"


def test_out_dir_of_another_model_is_not_overwritten(synth_root, tmp_path):
    from lipeval.errors import ConfigError

    _run(_opts(synth_root, tmp_path / "out", None), ["synthetic/retrieval"])
    other = _opts(synth_root, tmp_path / "out", None)
    other.model = "open_clip:lipeval-tiny-vit"
    with pytest.raises(ConfigError, match="holds results of model"):
        _run(other, ["synthetic/retrieval"])


def test_protocol_override_is_validated_and_recorded(synth_root, tmp_path):
    _, recs = _run(_opts(synth_root, tmp_path / "out", None, protocol={"tie_policy": "optimistic"}),
                   ["synthetic/retrieval"])
    assert recs[0]["protocol"]["tie_policy"] == "optimistic"
    with pytest.raises(ConfigError, match="--protocol bogus=1: no task kind has this option"):
        _run(_opts(synth_root, tmp_path / "out2", None, protocol={"bogus": "1"}), ["synthetic/retrieval"])
    with pytest.raises(ConfigError, match="--protocol: option tie_policy=best: expected one of pessimistic, "
                                          "optimistic, reference"):
        _run(_opts(synth_root, tmp_path / "out3", None, protocol={"tie_policy": "best"}), ["synthetic/retrieval"])
    assert not (tmp_path / "out2").exists() and not (tmp_path / "out3").exists()  # refused before anything ran


def test_changed_kind_default_reruns_the_task(synth_root, tmp_path, monkeypatch):
    import dataclasses

    from lipeval.kinds.contract import option
    from lipeval.kinds.retrieval import RetrievalOptions

    opts = _opts(synth_root, tmp_path / "out", tmp_path / "cache")
    _run(opts, ["synthetic/retrieval"])
    _, recs = _run(opts, ["synthetic/retrieval"])
    assert recs[0].get("_cached")  # the recorded protocol survives the JSON round trip
    changed = dataclasses.make_dataclass("Changed", [("tie_policy", str, option("optimistic"))],
                                         bases=(RetrievalOptions,), frozen=True)
    monkeypatch.setitem(KINDS, "retrieval", dataclasses.replace(KINDS["retrieval"], options=changed))
    _, recs = _run(opts, ["synthetic/retrieval"])
    assert not recs[0].get("_cached") and recs[0]["protocol"]["tie_policy"] == "optimistic"


def test_a_relative_and_an_absolute_path_are_the_same_model(synth_root, tmp_path, monkeypatch, save_local_dir):
    from lipeval.models.adapter import load_model

    folder = tmp_path / "runs" / "m"
    save_local_dir(folder, load_model(MODEL, seed=0))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    first = Runner(RunOptions(model="runs/m", data_root=synth_root, out=out, cache_dir=None, batch_size=64),
                   log=lambda *_: None)
    first.run(resolve(["synthetic/zeroshot_shape"]))
    again = Runner(RunOptions(model=str(folder), data_root=synth_root, out=out, cache_dir=None, batch_size=64),
                   log=lambda *_: None)
    (rec,) = again.run(resolve(["synthetic/zeroshot_shape"]))  # neither refused as another model nor re-run
    assert rec.get("_cached") and again._adapter is None
