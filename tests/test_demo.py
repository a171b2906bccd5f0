"""`lipeval demo`: the report's checks on made-up records, and a tiny end-to-end run."""
import json
import math

import pytest
import torch

from lipeval import demo_report
from lipeval.demo import MODELS, run_demo
from lipeval.report.table import read_csv

MAIN = {"retrieval": "mean_R@1", "zeroshot_classification": "acc1"}


def _rec(task, kind, value, chance):
    m = MAIN[kind]
    return {"schema_version": 1, "task": task, "task_version": 1, "kind": kind, "status": "ok", "main_metric": m,
            "metrics": {m: value}, "chance": {m: chance}, "protocol": {}, "model": {"spec": "made-up"},
            "dataset": {"synthetic": True}}


def _write(out, records):
    """The made-up records as `lipeval run` would leave them: OUT/<model>/<task>.json."""
    for model, recs in records.items():
        (out / model).mkdir(parents=True, exist_ok=True)
        for task, rec in recs.items():
            (out / model / (task.replace("/", "__") + ".json")).write_text(json.dumps(rec))
    return records


def _records(short_long=0.2, long_long=0.6, zs=0.5):
    recs = {}
    for m in MODELS:
        long_value = short_long if m == "clip_short" else long_long
        recs[m] = {t["task"]: t for t in [
            _rec("synthetic/long_dci", "retrieval", long_value, 0.001),
            _rec("synthetic/long_urban1k", "retrieval", long_value + 0.01, 0.001),
            _rec("synthetic/retrieval", "retrieval", 0.3, 0.001),
            _rec("synthetic/zeroshot_shape", "zeroshot_classification", zs, 0.125),
        ]}
    return recs


def test_checks_pass_only_when_the_numbers_show_the_effect():
    models = list(MODELS)
    rows = demo_report.table_rows(_records(), models)
    assert [ok for ok, _ in demo_report.checks(rows, models)] == [True, True]
    small_gap = demo_report.table_rows(_records(short_long=0.55), models)
    assert [ok for ok, _ in demo_report.checks(small_gap, models)] == [False, True]  # 5-point gap < 10
    near_chance = demo_report.table_rows(_records(zs=0.3), models)  # 2.4x chance: not "far" (3x)
    ok, text = demo_report.checks(near_chance, models)[1]
    assert not ok and "clip_short on zero-shot classification (mean of 1) (30.0 vs chance 12.5)" in text
    assert "Weakest single zero-shot result (shown, not checked): clip_short on synthetic/zeroshot_shape, 30.0" in text
    assert "on each short-caption retrieval set (1) and on the mean of the 1 zero-shot classification tasks" in text


def test_family_means_follow_the_group_rule():
    """A family mean needs every task of the family to have a value: all present, missing, failed, NaN."""
    models = list(MODELS)
    recs = _records()
    del recs["clip_long"]["synthetic/long_urban1k"]  # a missing member
    recs["lotlip"]["synthetic/long_dci"] = {**recs["lotlip"]["synthetic/long_dci"], "status": "failed"}
    recs["clip_short"]["synthetic/zeroshot_shape"]["metrics"]["acc1"] = math.nan
    means = {r["family"]: r for r in demo_report.family_means(demo_report.table_rows(recs, models), models)}
    long = means["long-text retrieval"]
    assert long["clip_short"] == pytest.approx(0.205)  # all present
    assert long["clip_long"] is None and long["lotlip"] is None
    assert long["counts"] == {"clip_short": "2/2", "clip_long": "1/2", "lotlip": "1/2"}
    assert means["zero-shot classification"]["clip_short"] is None  # a NaN main metric
    table = demo_report.markdown_table(list(means.values()), models)
    assert "| mean: long-text retrieval | mean of 2 | 0.1 | **20.5** | – (1/2) | – (1/2) |" in table
    assert "| mean: zero-shot classification | mean of 1 | 12.5 | – (0/1) | **50.0** | **50.0** |" in table


def test_report_files_state_the_measured_numbers(tmp_path):
    models = list(MODELS)
    demo_report.write_report(tmp_path, _write(tmp_path, _records()), models, "setup sentence")
    md = (tmp_path / "leaderboard.md").read_text()
    # long_dci, long_urban1k, retrieval, zeroshot_shape, Avg.; columns where all models tie carry no mark
    assert "| clip\\_short | <ins>20.0</ins> | <ins>21.0</ins> | 30.0 | 50.0 | <ins>30.2</ins> |" in md
    board = read_csv(tmp_path / "leaderboard.csv")
    assert board.loc["clip_long", ("synthetic/long_dci", "mean_R@1")] == pytest.approx(60.0)
    text = (tmp_path / "reading.md").read_text()
    assert "| synthetic/long_dci | mean_R@1 | 0.1 | 20.0 | **60.0** | **60.0** |" in text
    assert "| mean: long-text retrieval | mean of 2 | 0.1 | 20.5 | **60.5** | **60.5** |" in text
    assert "clip_short 20.5, clip_long 60.5, lotlip 60.5" in text and "- [x]" in text
    for fig in ("bars_synthetic.png", "long_vs_short.png"):
        assert (tmp_path / "figures" / fig).stat().st_size > 1000
    bad = demo_report.write_report(tmp_path, _write(tmp_path, _records(short_long=0.6, long_long=0.2)), models, "s")
    assert "did NOT show" in bad["reading"]


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_tiny_demo_end_to_end(tmp_path, one_thread):
    setting = {"scale": "tiny", "steps": 2, "warmup": 1, "batch_size": 8}
    lines = []
    code = run_demo(tmp_path, setting=setting, log=lines.append)
    assert code in (0, 1)  # two training steps need not show the effect; the run itself must complete
    for m in MODELS:
        recs = [json.loads(p.read_text()) for p in (tmp_path / m).glob("*.json")]
        assert recs and all(r["status"] == "ok" for r in recs), [r["error"] for r in recs if r["status"] != "ok"]
        assert {r["task"] for r in recs} >= {"synthetic/retrieval", "synthetic/zeroshot_shape"}
        assert (tmp_path / "training" / m / "loss.png").is_file()
    lotlip = json.loads((tmp_path / "lotlip" / "synthetic__retrieval.json").read_text())
    assert lotlip["model"]["context_length"] == 128
    for name in ("leaderboard.md", "leaderboard.csv", "figures/bars_synthetic.png", "figures/loss_curves.png",
                 "reading.md", "demo_summary.json"):
        assert (tmp_path / name).is_file()
    # a second run reuses the trained models and the finished results
    lines.clear()
    assert run_demo(tmp_path, setting=setting, log=lines.append) == code
    assert sum("trained already" in ln for ln in lines) == 3
