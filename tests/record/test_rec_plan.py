"""The [[plan]] table of a scenario: parsed into steps, wrong entries named by field."""

from __future__ import annotations

import pytest
from rec_util import hall_doc

from sim.errors import ScenarioError
from sim.scenario import parse


def test_plan_steps_are_parsed_with_defaults():
    sc = parse(hall_doc(plan=[
        {"role": "现场指挥", "action": "order_evacuation", "within": 180},
        {"id": "F", "action": "floor_clear", "floor": "G", "within": 360, "after": "start",
         "text": "all floors clear within 6 min"},
        {"action": "evacuated", "fraction": 0.95, "within": 300},
        {"action": "zone_clear", "zone": "left", "within": 200}]))
    a, b, c, d = sc.plan
    assert (a.id, a.role, a.action, a.within, a.after) == ("P1", "现场指挥",
                                                           "order_evacuation", 180.0, "alarm")
    assert (b.id, b.floor, b.after, b.text) == ("F", "G", "start",
                                                "all floors clear within 6 min")
    assert c.fraction == 0.95 and d.zone == "left"
    assert parse(hall_doc(plan=[])).plan == ()


@pytest.mark.parametrize(("step", "field", "message"), [
    ({"action": "dance", "within": 1}, "plan[0].action", "must be one of"),
    ({"action": "report"}, "plan[0].within", "is required"),
    ({"action": "report", "within": -1}, "plan[0].within", ">= 0"),
    ({"action": "zone_clear", "zone": "roof", "within": 1}, "plan[0].zone", "no zone"),
    ({"action": "floor_clear", "floor": "B9", "within": 1}, "plan[0].floor", "no floor"),
    ({"action": "report", "within": 1, "after": "lunch"}, "plan[0].after", "must be one of"),
    ({"action": "evacuated", "within": 1, "fraction": 1.5}, "plan[0].fraction", "<= 1"),
    ({"action": "report", "within": 1, "colour": "red"}, "plan[0].colour", "unknown key"),
])
def test_wrong_plan_steps_name_the_field(step, field, message):
    with pytest.raises(ScenarioError, match=message) as err:
        parse(hall_doc(plan=[step]), source="s.toml")
    assert err.value.field == field


def test_duplicate_step_ids_are_refused():
    with pytest.raises(ScenarioError, match="duplicate|twice|unique"):
        parse(hall_doc(plan=[{"id": "A", "action": "report", "within": 1},
                             {"id": "A", "action": "alarm", "within": 1}]))
