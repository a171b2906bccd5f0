"""The leaderboard: CSV round-trip, group averages, ranks, and refusing to mix protocols."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from lipeval.cli import main
from lipeval.errors import ConfigError
from lipeval.report.markdown import render as render_markdown
from lipeval.report.runs import load_runs
from lipeval.report.table import MEAN_OF_MAIN, build, read_csv, write_csv


def _three_runs(rfx):
    rfx.make_run("a", rfx.synthetic_tasks(0.10, 0.30, 0.50))
    rfx.make_run("b", rfx.synthetic_tasks(0.20, 0.25, 0.40))
    return rfx.make_run("c", rfx.synthetic_tasks(0.15, 0.20, 0.60)).parent


def test_csv_round_trip_keeps_every_cell(rfx, tmp_path):
    root = _three_runs(rfx)
    lb = build(load_runs([root]), metrics="all", decimals=2)
    path = tmp_path / "board.csv"
    write_csv(lb, path)
    back = read_csv(path)
    pd.testing.assert_frame_equal(back, lb.shown(), check_exact=False, atol=1e-9)
    # the numbers are the records' fractions as percentages, at the stated decimals
    assert back.loc["a", ("synthetic/long_dci", "image_to_text_R@1")] == 10.0
    assert back.loc["b", ("synthetic/zeroshot_shape", "acc1")] == 40.0
    assert list(back.index) == ["a", "b", "c"]
    # every number is written with exactly two decimals
    rows = path.read_text().splitlines()[3:]
    assert all(len(cell.split(".")[1]) == 2 for row in rows for cell in row.split(",")[1:] if cell)


def test_csv_round_trip_with_missing_cells_and_cli(rfx, tmp_path):
    root = _three_runs(rfx)
    rfx.make_run("d", {"synthetic/retrieval": rfx.retrieval(0.5, 0.5)})
    out = tmp_path / "board.csv"
    assert main(["export", str(root), "--out", str(out)]) == 0
    back = read_csv(out)
    assert back.shape == (4, 4)  # 3 tasks + the synthetic average
    assert math.isnan(back.loc["d", ("synthetic/long_dci", "mean_R@1")])
    assert back.loc["d", ("synthetic/retrieval", "mean_R@1")] == 50.0
    assert math.isnan(back.loc["d", ("Avg. synthetic", MEAN_OF_MAIN)])  # a member is missing


def test_group_average_is_the_mean_of_main_metrics(rfx):
    root = _three_runs(rfx)
    lb = build(load_runs([root]), decimals=3)
    avg = lb.frame[("Avg. synthetic", MEAN_OF_MAIN)]
    # a: long mean_R@1 = 0.105, short = 0.295, shape acc1 = 0.50
    assert avg["a"] == pytest.approx(100 * (0.105 + 0.295 + 0.50) / 3)
    assert any("unweighted mean of the main metric over 3 tasks" in n for n in lb.notes)


def test_group_average_is_blank_unless_every_shown_member_has_a_value(rfx):
    """The group rule over the shown members: all present, a missing member, a failed one, a NaN main metric."""
    tasks = rfx.synthetic_tasks(0.10, 0.30, 0.50)
    rfx.make_run("all", tasks)
    rfx.make_run("missing", {t: tasks[t] for t in ("synthetic/long_dci", "synthetic/retrieval")})
    rfx.make_run("failed", [rfx.record(t, *v) for t, v in tasks.items() if t != "synthetic/retrieval"]
                 + [rfx.record("synthetic/retrieval", {}, "mean_R@1", status="failed")])
    nan_shape = ({"acc1": math.nan, "acc5": 0.7}, "acc1")
    root = rfx.make_run("nan", [rfx.record(t, *(nan_shape if t == "synthetic/zeroshot_shape" else v))
                                for t, v in tasks.items()]).parent
    lb = build(load_runs([root]), decimals=3)
    avg = lb.frame[("Avg. synthetic", MEAN_OF_MAIN)]
    assert avg["all"] == pytest.approx(100 * (0.105 + 0.295 + 0.50) / 3)
    assert avg[["missing", "failed", "nan"]].isna().all()
    note = next(n for n in lb.notes if n.startswith("Avg. synthetic"))
    assert note.endswith("; blank where a member has no value: failed (2/3 have a value), "
                         "missing (2/3 have a value), nan (2/3 have a value)")


def test_marks_best_and_second_on_displayed_values(rfx):
    rfx.make_run("a", {"synthetic/retrieval": rfx.retrieval(0.300, 0.300)})
    rfx.make_run("b", {"synthetic/retrieval": rfx.retrieval(0.3004, 0.3004)})  # 30.04 -> 30.0: ties with a
    rfx.make_run("c", {"synthetic/retrieval": rfx.retrieval(0.20, 0.20)})
    root = rfx.make_run("d", {"synthetic/retrieval": rfx.retrieval(0.10, 0.10)}).parent
    lb = build(load_runs([root]), decimals=1)
    marks = lb.marks()[("synthetic/retrieval", "mean_R@1")]
    assert marks.to_dict() == {"a": "best", "b": "best", "c": "second", "d": ""}
    lb2 = build(load_runs([root]), decimals=2)  # now 30.04 beats 30.00
    assert lb2.marks()[("synthetic/retrieval", "mean_R@1")].to_dict() == {"a": "second", "b": "best", "c": "",
                                                                            "d": ""}


def test_displayed_values_round_as_python_formatting_does(rfx):
    # 0.0805 is 8.05 % exactly in binary-to-decimal terms (8.050000000000000711): Python's formatting shows
    # 8.1, as the demo's reading and `lipeval run` print it; numpy's round would scale first and show 8.0
    root = rfx.make_run("a", {"synthetic/retrieval": rfx.retrieval(0.0805, 0.0805)}).parent
    lb = build(load_runs([root]), decimals=1)
    assert f"{100 * 0.0805:.1f}" == "8.1"
    assert lb.shown().loc["a", ("synthetic/retrieval", "mean_R@1")] == 8.1
    assert "| 8.1 |" in render_markdown(lb)


def test_all_equal_column_gets_no_mark(rfx):
    rfx.make_run("a", {"synthetic/retrieval": rfx.retrieval(0.3, 0.3)})
    root = rfx.make_run("b", {"synthetic/retrieval": rfx.retrieval(0.3, 0.3)}).parent
    assert set(build(load_runs([root])).marks().values.ravel()) == {""}


def test_protocol_mismatch_is_refused_naming_task_and_option(rfx):
    rfx.make_run("ref", {"synthetic/long_dci": rfx.retrieval(0.1, 0.1)})
    proto = dict(rfx.record("x", {}, "mean_R@1")["protocol"], long_text_mode="subcaption_mean")
    root = rfx.make_run("sub", {"synthetic/long_dci": rfx.retrieval(0.2, 0.2)}, protocol=proto).parent
    with pytest.raises(ConfigError) as e:
        build(load_runs([root]))
    msg = str(e.value)
    assert "synthetic/long_dci" in msg and "long_text_mode=reference" in msg and "long_text_mode=subcaption_mean" in msg
    assert "--split-protocols" in msg
    assert main(["export", str(root)]) == 2


def test_split_protocols_gives_marked_columns_and_notes(rfx):
    rfx.make_run("ref", rfx.synthetic_tasks(0.1, 0.3, 0.5))
    proto = dict(rfx.record("x", {}, "mean_R@1")["protocol"], long_text_mode="subcaption_mean")
    root = rfx.make_run("sub", {"synthetic/long_dci": rfx.retrieval(0.2, 0.2)}, protocol=proto).parent
    lb = build(load_runs([root]), split=True)
    keys = list(lb.frame.columns)
    assert ("synthetic/long_dci (a)", "mean_R@1") in keys and ("synthetic/long_dci (b)", "mean_R@1") in keys
    assert lb.frame.loc["ref", ("synthetic/long_dci (a)", "mean_R@1")] == pytest.approx(10.5)
    assert math.isnan(lb.frame.loc["ref", ("synthetic/long_dci (b)", "mean_R@1")])
    assert lb.frame.loc["sub", ("synthetic/long_dci (b)", "mean_R@1")] == pytest.approx(20.0)
    text = " ".join(lb.notes)
    assert "(b) long_text_mode=subcaption_mean [sub]" in text and "not comparable" in text
    assert "non-default protocol long_text_mode=subcaption_mean" in text
    # no group average over members evaluated under different protocols
    assert not any(c.average for c in lb.columns)
    assert "Avg. synthetic: not computed" in text


def test_task_version_mismatch_refused_or_split(rfx):
    rfx.make_run("v1", {"synthetic/retrieval": rfx.retrieval(0.1, 0.1)})
    root = rfx.make_run("v2", {"synthetic/retrieval": rfx.retrieval(0.2, 0.2)}, version=2).parent
    with pytest.raises(ConfigError, match="task_version=1"):
        build(load_runs([root]))
    lb = build(load_runs([root]), split=True)
    assert [c.variant for c in lb.columns if not c.average] == ["a", "b"]
    assert any("task_version=2 [v2]" in n for n in lb.notes)
    assert any("the current definition is version 1" in n for n in lb.notes)


def test_data_size_mismatch_refused(rfx):
    rfx.make_run("tiny", {"synthetic/retrieval": rfx.retrieval(0.1, 0.1)}, n_images=48)
    root = rfx.make_run("small", {"synthetic/retrieval": rfx.retrieval(0.2, 0.2)}, n_images=200).parent
    with pytest.raises(ConfigError, match="dataset.n_images=48"):
        build(load_runs([root]))


def test_limit_records_refused_naming_the_file(rfx):
    root = rfx.make_run("lim", {"synthetic/retrieval": rfx.retrieval(0.1, 0.1)}, limit=10).parent
    with pytest.raises(ConfigError, match=r"synthetic__retrieval\.json: a --limit 10 run"):
        build(load_runs([root]))


def test_failed_and_missing_results_are_blank_with_notes(rfx):
    rfx.make_run("a", rfx.synthetic_tasks(0.1, 0.3, 0.5))
    recs = [rfx.record("synthetic/retrieval", {}, "mean_R@1", status="failed"),
            rfx.record("synthetic/long_dci", *rfx.retrieval(0.2, 0.2))]
    root = rfx.write_run(rfx.make_run("a", {}).parent / "b", recs).parent
    lb = build(load_runs([root]))
    assert math.isnan(lb.frame.loc["b", ("synthetic/retrieval", "mean_R@1")])
    text = " ".join(lb.notes)
    assert "b: no result for synthetic/zeroshot_shape" in text
    assert "b: synthetic/retrieval failed (FileNotFoundError" in text


def test_metric_selection(rfx):
    root = _three_runs(rfx)
    runs = load_runs([root])
    lb = build(runs, tasks=["synthetic/long_dci", "synthetic/retrieval"],
               metrics=["text_to_image_R@1", "image_to_text_R@1"])
    assert [c.key for c in lb.columns] == [
        ("synthetic/long_dci", "text_to_image_R@1"), ("synthetic/long_dci", "image_to_text_R@1"),
        ("synthetic/retrieval", "text_to_image_R@1"), ("synthetic/retrieval", "image_to_text_R@1"),
        ("Avg. synthetic", MEAN_OF_MAIN)]
    with pytest.raises(ConfigError, match="task synthetic/zeroshot_shape has none of them"):
        build(runs, metrics=["text_to_image_R@1"])


def test_selection_errors_name_the_flag(rfx):
    root = _three_runs(rfx)
    runs = load_runs([root])
    with pytest.raises(ConfigError, match="--group: unknown group 'synthetc'; did you mean synthetic"):
        build(runs, group="synthetc")
    with pytest.raises(ConfigError, match="--group retrieval: none of its tasks"):
        build(runs, group="retrieval")
    with pytest.raises(ConfigError, match="--tasks: no result for task or group 'synthetic/nope'"):
        build(runs, tasks=["synthetic/nope"])
    assert [c.task for c in build(runs, group="synthetic", tasks=["synthetic/retrieval"]).columns] == [
        "synthetic/retrieval"]


def test_discovery_labels_and_errors(rfx, tmp_path):
    root = _three_runs(rfx)
    assert [r.label for r in load_runs([root])] == ["a", "b", "c"]
    assert [r.label for r in load_runs([root / "b", root / "a"])] == ["b", "a"]  # the order given
    other = rfx.write_run(tmp_path / "elsewhere" / "a", [rfx.record("synthetic/retrieval", *rfx.retrieval(.1, .1))])
    labels = [r.label for r in load_runs([root / "a", other])]
    assert labels == [str(root / "a"), str(other)]  # same folder name: labelled by path
    with pytest.raises(ConfigError, match="given twice"):
        load_runs([root / "a", root / "a"])
    with pytest.raises(ConfigError, match="no result records"):
        load_runs([tmp_path / "elsewhere" / "empty"] if (tmp_path / "elsewhere" / "empty").mkdir() is None else [])
    bad = root / "a" / "synthetic__retrieval.json"
    rec = json.loads(bad.read_text())
    del rec["main_metric"]
    bad.write_text(json.dumps(rec))
    with pytest.raises(ConfigError, match=r"synthetic__retrieval\.json: result record lacks field\(s\) main_metric"):
        load_runs([root])
    bad.write_text('{"schema_version": 1, "task": ')
    with pytest.raises(ConfigError, match=r"synthetic__retrieval\.json: not readable"):
        load_runs([root])
    # other JSON files (a trainer's summary, configs) are not records and are ignored
    (root / "b" / "summary.json").write_text('{"name": "x"}')
    bad.unlink()
    assert len(load_runs([root])) == 3


def test_non_numeric_metric_is_an_error_naming_it(rfx):
    root = rfx.make_run("a", [rfx.record("synthetic/retrieval", {"mean_R@1": {"x": 1}}, "mean_R@1")]).parent
    with pytest.raises(ConfigError, match=r"synthetic__retrieval\.json: metrics\.mean_R@1 is dict, expected a number"):
        load_runs([root])


def test_tasks_without_any_finished_result_are_left_out_unless_named(rfx):
    rfx.make_run("a", [rfx.record("synthetic/retrieval", *rfx.retrieval(0.1, 0.1)),
                       rfx.record("synthetic/long_dci", *rfx.retrieval(0.2, 0.2)),
                       rfx.record("synthetic/long_iiw", {}, "mean_R@1", status="skipped")])
    root = rfx.make_run("b", [rfx.record("synthetic/retrieval", *rfx.retrieval(0.3, 0.3)),
                              rfx.record("synthetic/long_dci", *rfx.retrieval(0.1, 0.1))]).parent
    lb = build(load_runs([root]))
    assert [c.task for c in lb.columns] == ["synthetic/long_dci", "synthetic/retrieval", "synthetic"]
    assert "left out, no finished result in any run: synthetic/long_iiw" in lb.notes
    assert lb.frame.loc["a", ("Avg. synthetic", MEAN_OF_MAIN)] == pytest.approx(15.0)
    named = build(load_runs([root]), tasks=["synthetic/long_iiw", "synthetic/retrieval"])
    assert [c.task for c in named.columns] == ["synthetic/long_iiw", "synthetic/retrieval", "synthetic"]
    assert named.frame[("Avg. synthetic", MEAN_OF_MAIN)].isna().all()  # a member has no result
