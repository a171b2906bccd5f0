"""The run summary's group rows follow the group rule over the tasks the run asked for."""
import math

import pytest

from lipeval.registry import Group
from lipeval.summary import group_means, summary_table

GROUPS = {"g": Group("g", "a test group", "mean", ("t1", "t2", "t3")),
          "other": Group("other", "untouched", "mean", ("t9",))}


def _rec(task, value=None, status="ok"):
    return {"task": task, "status": status, "error": None if status == "ok" else "boom", "main_metric": "acc1",
            "metrics": {"acc1": value} if status == "ok" else {}, "chance": {"acc1": 0.1}, "timing": {"total": 1.0}}


def test_all_members_in_scope_present():
    recs = [_rec("t1", 0.2), _rec("t2", 0.4)]  # t3 was not asked for: out of scope
    ((name, mean, have, scope),) = group_means(recs, GROUPS)
    assert (name, have, scope) == ("g", 2, 2) and mean == pytest.approx(0.3)
    row = next(ln for ln in summary_table(recs, GROUPS).splitlines() if ln.startswith("[group] g"))
    assert "2/2 with a value" in row and "30.00" in row


@pytest.mark.parametrize("bad", [_rec("t2", status="failed"), _rec("t2", status="skipped"), _rec("t2", math.nan)],
                         ids=["failed", "skipped", "nan"])
def test_blank_when_a_member_in_scope_has_no_value(bad):
    recs = [_rec("t1", 0.2), bad, _rec("t3", 0.6)]
    assert group_means(recs, GROUPS) == [("g", None, 2, 3)]
    row = next(ln for ln in summary_table(recs, GROUPS).splitlines() if ln.startswith("[group] g"))
    assert row.split() == ["[group]", "g", "2/3", "with", "a", "value", "mean", "of", "main", "-"]
