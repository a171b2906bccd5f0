"""The group rule (lipeval.aggregation): a mean only when every member in scope has a value."""
import math

import pytest

from lipeval.aggregation import group_value, main_value


def _rec(value, status="ok"):
    return {"task": "t", "status": status, "main_metric": "acc1", "metrics": {"acc1": value} if status == "ok" else {}}


def test_all_present_is_the_unweighted_mean():
    v = group_value([0.2, 0.4, 0.9])
    assert v.mean == pytest.approx(0.5) and (v.have, v.scope, v.count) == (3, 3, "3/3")


@pytest.mark.parametrize("values, count", [
    ([0.2, None, 0.9], "2/3"),  # a missing member
    ([0.2, math.nan, 0.9], "2/3"),  # a NaN main metric
    ([None, None], "0/2"),
])
def test_blank_unless_every_member_has_a_value(values, count):
    v = group_value(values)
    assert v.mean is None and v.count == count


def test_no_member_in_scope_is_blank():
    assert group_value([]).mean is None and group_value([]).count == "0/0"


def test_a_member_value_needs_status_ok_and_a_defined_main_metric():
    assert main_value(_rec(0.25)) == 0.25
    assert main_value(_rec(0.25, status="failed")) is None
    assert main_value(_rec(0.25, status="skipped")) is None
    assert main_value(_rec(math.nan)) is None
    assert main_value(_rec(None)) is None
    assert main_value({"status": "ok", "main_metric": "acc1", "metrics": {"acc5": 0.9}}) is None
    assert main_value(None) is None
