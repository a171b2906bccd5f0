"""`lipeval compare`: exit codes on equal results, an injected regression, a missing task and
protocol or version differences; tolerances in percentage points."""
from __future__ import annotations

import json
import shutil

import pytest

from lipeval.cli import main
from lipeval.report.compare import compare, load


@pytest.fixture
def baseline(rfx):
    return rfx.make_run("base", rfx.synthetic_tasks(0.10, 0.30, 0.50))


def _copy(src, dst, edit=None):
    """A copy of a result folder; `edit(task, record)` changes records in place."""
    shutil.copytree(src, dst)
    if edit:
        for f in dst.glob("*.json"):
            rec = json.loads(f.read_text())
            edit(rec["task"], rec)
            f.write_text(json.dumps(rec))
    return dst


def _set_main(task_name, value):
    def edit(task, rec):
        if task == task_name:
            rec["metrics"][rec["main_metric"]] = value
    return edit


def test_equal_results_pass(baseline, tmp_path, capsys):
    cand = _copy(baseline, tmp_path / "cand")
    assert main(["compare", str(baseline), str(cand)]) == 0
    out = capsys.readouterr().out
    assert "compare: PASS (3 main metric(s) within tolerance)" in out
    assert "synthetic/retrieval" in out and "image_to_text_R@5" in out  # every metric is listed


def test_injected_regression_fails(baseline, tmp_path, capsys):
    cand = _copy(baseline, tmp_path / "cand", _set_main("synthetic/zeroshot_shape", 0.49))  # 50 -> 49: -1 pp
    assert main(["compare", str(baseline), str(cand)]) == 1
    out = capsys.readouterr().out
    assert "REGRESSION" in out and "synthetic/zeroshot_shape: acc1 fell by 1.00 points (tolerance 0.5)" in out
    assert "compare: FAIL" in out
    # the same drop within a looser tolerance, global or per task
    assert main(["compare", str(baseline), str(cand), "--tolerance", "1.5"]) == 0
    assert main(["compare", str(baseline), str(cand), "--per-task", "synthetic/zeroshot_shape=1.0"]) == 0
    assert main(["compare", str(baseline), str(cand), "--per-task", "synthetic/retrieval=5"]) == 1


def test_drop_within_tolerance_and_non_main_drops_pass(baseline, tmp_path):
    def edit(task, rec):
        if task == "synthetic/zeroshot_shape":
            rec["metrics"]["acc1"] = 0.496  # -0.4 pp
            rec["metrics"]["acc5"] = 0.1  # not a main metric: listed, never gated
    cand = _copy(baseline, tmp_path / "cand", edit)
    result = compare(load(baseline, "B"), load(cand, "C"))
    assert result.passed
    verdicts = {(ln.task, ln.metric): ln.verdict for ln in result.lines}
    assert verdicts[("synthetic/zeroshot_shape", "acc1")] == "within tolerance"
    assert verdicts[("synthetic/zeroshot_shape", "acc5")] == "lower"


def test_missing_or_failed_task_fails(baseline, tmp_path, capsys):
    cand = _copy(baseline, tmp_path / "cand")
    (cand / "synthetic__long_dci.json").unlink()
    assert main(["compare", str(baseline), str(cand)]) == 1
    assert "synthetic/long_dci: missing from the candidate" in capsys.readouterr().out

    def fail(task, rec):
        if task == "synthetic/retrieval":
            rec.update(status="failed", error="DataError: captions file malformed", metrics={})
    cand2 = _copy(baseline, tmp_path / "cand2", fail)
    assert main(["compare", str(baseline), str(cand2)]) == 1
    assert "synthetic/retrieval: candidate failed (DataError: captions file malformed)" in capsys.readouterr().out


def test_protocol_or_version_difference_fails(baseline, tmp_path, capsys):
    def proto(task, rec):
        if task == "synthetic/long_dci":
            rec["protocol"]["tie_policy"] = "optimistic"
    cand = _copy(baseline, tmp_path / "cand", proto)
    assert main(["compare", str(baseline), str(cand)]) == 1
    assert ("synthetic/long_dci: not comparable (tie_policy: baseline pessimistic, candidate optimistic)"
            in capsys.readouterr().out)

    def version(task, rec):
        rec["task_version"] = 2
    cand2 = _copy(baseline, tmp_path / "cand2", version)
    assert main(["compare", str(baseline), str(cand2)]) == 1
    assert "task_version: baseline 1, candidate 2" in capsys.readouterr().out


def test_two_sided_fails_on_a_rise(baseline, tmp_path):
    cand = _copy(baseline, tmp_path / "cand", _set_main("synthetic/retrieval", 0.40))
    assert main(["compare", str(baseline), str(cand)]) == 0  # an improvement passes
    assert main(["compare", str(baseline), str(cand), "--two-sided"]) == 1


def test_undefined_main_metric_fails(baseline, tmp_path):
    cand = _copy(baseline, tmp_path / "cand", _set_main("synthetic/retrieval", None))
    assert main(["compare", str(baseline), str(cand)]) == 1


def test_extra_candidate_tasks_are_noted_not_gated(baseline, tmp_path, rfx, capsys):
    cand = _copy(baseline, tmp_path / "cand")
    rfx.write_run(cand, [rfx.record("synthetic/long_iiw", *rfx.retrieval(0.1, 0.1))])
    assert main(["compare", str(baseline), str(cand)]) == 0
    assert "candidate tasks not in the baseline (not gated): synthetic/long_iiw" in capsys.readouterr().out


def test_usage_errors_exit_2(baseline, tmp_path, rfx, capsys):
    assert main(["compare", str(baseline), str(tmp_path / "nope")]) == 2
    assert "CANDIDATE_DIR" in capsys.readouterr().err
    limited = rfx.make_run("lim", rfx.synthetic_tasks(0.1, 0.3, 0.5), limit=8)
    assert main(["compare", str(baseline), str(limited)]) == 2
    assert "a --limit 8 run" in capsys.readouterr().err
    assert main(["compare", str(baseline), str(baseline), "--per-task", "nosuch=1"]) == 2
    assert "--per-task: nosuch not in the baseline" in capsys.readouterr().err
    assert main(["compare", str(baseline), str(baseline), "--per-task", "synthetic/retrieval"]) == 2
    assert main(["compare", str(baseline), str(baseline), "--tolerance", "-1"]) == 2


def test_a_folder_of_runs_is_not_a_run(baseline, capsys):
    assert main(["compare", str(baseline.parent), str(baseline)]) == 2
    assert "it holds run folders (base): pass one of them" in capsys.readouterr().err
