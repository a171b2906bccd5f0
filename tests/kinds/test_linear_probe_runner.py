"""The linear probe end to end through the runner on the tiny synthetic suite: records, the shared embedding
cache, ad-hoc forms, missing data."""
import json
import shutil

from lipeval.registry import load_registry, resolve
from lipeval.runner import Runner, RunOptions

MODEL = "open_clip:lipeval-tiny-rn"


def _run(data, out, cache, names, **kw):
    runner = Runner(RunOptions(model=MODEL, data_root=data, out=out, cache_dir=cache, batch_size=64, **kw),
                    log=lambda *_: None)
    return runner, runner.run(resolve(names))


def test_probe_records_and_the_embeddings_shared_with_zero_shot(synth_root, tmp_path):
    cache = tmp_path / "cache"
    _run(synth_root, tmp_path / "out", cache, ["synthetic/zeroshot_background"])
    names = ["synthetic/linear_probe_background", "synthetic/linear_probe_count",
             "synthetic/linear_probe_shapes_present"]
    runner, recs = _run(synth_root, tmp_path / "out", cache, names)
    by = {r["task"]: r for r in recs}
    assert all(r["status"] == "ok" for r in recs), [r["error"] for r in recs]
    # batches of 64: background train (its test split was embedded by zero-shot) 1, count 1 + 1, shapes 1 + 1
    assert runner._adapter.loaded.calls["image_batches"] == 5  # its card was cached by the first run
    bg = by["synthetic/linear_probe_background"]
    assert bg["info"]["n_images"] == bg["info"]["n_train"] + bg["info"]["n_val"] + bg["info"]["n_test"]
    assert bg["kind"] == "linear_probe" and bg["main_metric"] == "acc1" and bg["protocol"]["features"] == "pre_proj"
    assert bg["protocol"]["reader.reader"] == "image_folder" and bg["dataset"]["synthetic"] is True
    assert set(bg["metrics"]) == {"acc1", "acc5", "mean_per_class_recall", "mean_top1_top5"}
    assert bg["chance"]["acc1"] == 1 / 6 and bg["info"]["search"] and bg["info"]["final_fit"]["converged"]
    assert 0 < bg["timing"]["fit"] <= bg["timing"]["score"] and "timing" not in bg["info"]  # timings stay in timing
    sp = by["synthetic/linear_probe_shapes_present"]
    assert sp["main_metric"] == "mAP_11pt" and set(sp["metrics"]) == {"mAP", "mAP_11pt"}
    assert 0 < sp["metrics"]["mAP_11pt"] <= 1 and by["synthetic/linear_probe_count"]["info"]["n_classes"] == 4
    again, (rec,) = _run(synth_root, tmp_path / "out2", cache, names[:1])
    assert again._adapter.loaded is None and json.dumps(rec["metrics"]) == json.dumps(bg["metrics"])


def test_ad_hoc_probe_forms_and_main_metric(synth_root, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(synth_root / "synthetic" / "folder" / "count", data / "folder" / "count")
    shutil.copytree(synth_root / "synthetic" / "wds" / "shapes_present", data / "wds" / "sp")
    tasks = {t.name: t for t in resolve(["linear_probe/folder/count", "linear_probe/wds/sp"])}
    t = tasks["linear_probe/folder/count"]
    assert (t.kind, t.folder, t.reader, t.args) == ("linear_probe", "folder/count", "probe", {"reader": "image_folder"})
    _, recs = _run(data, tmp_path / "out", None, list(tasks), protocol={"features": "embed", "lambda": "1"})
    by = {r["task"]: r for r in recs}
    assert [r["status"] for r in recs] == ["ok", "ok"], [r["error"] for r in recs]
    assert by["linear_probe/folder/count"]["main_metric"] == "acc1"
    assert by["linear_probe/wds/sp"]["main_metric"] == "mAP_11pt"
    assert by["linear_probe/wds/sp"]["info"]["features"] == "embed" and by["linear_probe/wds/sp"]["info"]["lambda"] == 1


def test_missing_probe_data_is_skipped_with_the_layout(tmp_path):
    (tmp_path / "data").mkdir()
    _, recs = _run(tmp_path / "data", tmp_path / "out", None, ["linear_probe/kitti", "linear_probe/sun397"])
    assert [r["status"] for r in recs] == ["skipped", "skipped"]
    assert "image_2" in recs[0]["error"] and "ClassName.txt" in recs[1]["error"]


def test_linear_probe_group_holds_the_27_sets():
    _, groups = load_registry()
    members = groups["linear_probe"].members
    assert len(members) == 27 and "linear_probe/imagenet1k" in members and "linear_probe/birdsnap" in members
