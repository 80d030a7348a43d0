"""Scenario files: stairs, speed zones, exit kinds and built-in scenes; slow zones in a run."""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from corridor_docs import corridor
from shapely.geometry import Polygon

from sim.drill import Drill
from sim.errors import ScenarioError
from sim.nav import stair_cost
from sim.scenario import Group, Settings, load_file, parse
from sim.scenes import builtin
from sim.scenes.model import STAIR_KINDS, Exit, SpeedZone, Stair

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario.md"

UPPER_END = [[21.5, 1], [22.7, 1], [22.7, 2.2], [21.5, 2.2]]
LOWER_END = [[21.5, 7.8], [22.7, 7.8], [22.7, 9], [21.5, 9]]
OFF_THE_EDGE = [[23.5, 7.8], [24.7, 7.8], [24.7, 9], [23.5, 9]]  # 0.7 m beyond x = 24
ZONE = [[0, 0], [5, 0], [5, 5], [0, 5]]


def _two_floors() -> dict[str, Any]:
    """Two 24 m x 10 m floors, one exit on the ground, a stair with only its required keys."""

    def floor(fid: str, z: float) -> dict[str, Any]:
        return {"id": fid, "elevation": z, "walkable": [[0, 0], [24, 0], [24, 10], [0, 10]]}

    return {
        "name": "two floors",
        "floors": [floor("G", 0.0), floor("1F", 3.5)],
        "exits": [{"id": "E", "floor": "G", "polygon": [[0, 4], [0.3, 4], [0.3, 6], [0, 6]]}],
        "stairs": [{
            "id": "S1", "length": 10, "width": 1.2,
            "from": {"floor": "1F", "area": UPPER_END},
            "to": {"floor": "G", "area": LOWER_END},
        }],
        "groups": [{"floor": "1F", "area": [[0.5, 0.5], [10, 0.5], [10, 9.5], [0.5, 9.5]],
                    "count": 5}],
    }


def _error(doc: Any, source: str = "s.toml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse(doc, source=source)
    assert str(info.value).startswith(f"{source}: {info.value.field}: ")
    return info.value


def _stair(doc: dict[str, Any]) -> Stair:
    (st,) = parse(doc).scene.stairs
    return st


def _documented_defaults(heading: str) -> dict[str, Any]:
    """``key: default`` from the first table after ``heading`` in docs/scenario.md."""
    text = DOC.read_text(encoding="utf-8").split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `(\w+)` +\|[^|]*\|[^|]*\| `([^`]*)` +\|", text, re.M)
    return {key: tomllib.loads(f"v = {value}")["v"] for key, value in rows}


# --------------------------------------------------------------------------- the documentation


def test_every_toml_block_in_the_doc_is_valid_toml() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 5
    for block in blocks:
        tomllib.loads(block)


def test_documented_two_storey_example_has_a_stair_down_to_the_ground_exits(
    tmp_path: Path,
) -> None:
    blocks = re.findall(r"```toml\n(# Example 3:.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    (block,) = blocks
    path = tmp_path / "two.toml"
    path.write_text(block, encoding="utf-8")
    s = load_file(path)
    assert [f.id for f in s.scene.floors] == ["G", "1F"]
    (st,) = s.scene.stairs
    assert (st.id, st.kind, st.floors, st.length, st.width) == ("S1", "stair", (1, 0), 10.0, 1.2)
    assert {e.floor for e in s.scene.exits} == {0}
    # Down from 1F (3.5 m) to G at the default 0.75 of flat speed.
    assert stair_cost(s.scene, 0, 0) == pytest.approx(10.0 / 0.75)


@pytest.mark.parametrize(
    ("heading", "defaults"),
    [
        ("## `[[stairs]]`", Stair(id="", floors=(0, 1), areas=(Polygon(ZONE),) * 2,
                                  length=1, width=1)),
        ("### Speed zones", SpeedZone(polygon=Polygon(ZONE), factor=0.5)),
        ("## `[[exits]]`", Exit(id="", floor=0, polygon=Polygon(ZONE), width=1)),
    ],
    ids=["stairs", "zones", "exits"],
)
def test_documented_defaults_match_the_code(heading: str, defaults: Any) -> None:
    documented = _documented_defaults(heading)
    assert documented
    assert documented == {key: getattr(defaults, key) for key in documented}


# --------------------------------------------------------------------------- stairs: valid


def test_stair_with_only_required_keys_gets_the_defaults() -> None:
    st = _stair(_two_floors())
    assert st.id == "S1" and st.kind == "stair"
    assert (st.speed_down, st.speed_up) == (0.75, 0.5)
    assert st.floors == (1, 0)  # from 1F to G
    assert st.areas[0].equals(Polygon(UPPER_END)) and st.areas[1].equals(Polygon(LOWER_END))
    assert (st.length, st.width) == (10.0, 1.2)
    assert isinstance(st.length, float)


def test_stair_kinds_are_stair_escalator_and_incline() -> None:
    assert STAIR_KINDS == ("stair", "escalator", "incline")


@pytest.mark.parametrize("kind", STAIR_KINDS)
def test_every_stair_kind_is_accepted(kind: str) -> None:
    doc = _two_floors()
    doc["stairs"][0]["kind"] = kind
    assert _stair(doc).kind == kind


def test_direction_and_speed_follow_the_elevations_not_from_and_to() -> None:
    doc = _two_floors()
    doc["stairs"][0].update(speed_down=0.6, speed_up=0.4)
    scene = parse(doc).scene
    assert stair_cost(scene, 0, 0) == pytest.approx(10 / 0.6)  # from 1F: down
    assert stair_cost(scene, 0, 1) == pytest.approx(10 / 0.4)  # from G: up
    doc["floors"][1]["elevation"] = -3.5  # 1F is now a basement: from it is up
    scene = parse(doc).scene
    assert stair_cost(scene, 0, 0) == pytest.approx(10 / 0.4)
    assert stair_cost(scene, 0, 1) == pytest.approx(10 / 0.6)


@pytest.mark.parametrize(
    ("key", "value"),
    [("length", 0.5), ("length", 5000), ("width", 0.5), ("width", 20),
     ("speed_down", 0.05), ("speed_down", 1.5), ("speed_up", 0.05), ("speed_up", 1.5)],
)
def test_stair_range_limits_are_inclusive(key: str, value: float) -> None:
    doc = _two_floors()
    doc["stairs"][0][key] = value
    assert getattr(_stair(doc), key) == value


def test_stairs_are_optional() -> None:
    doc = _two_floors()
    del doc["stairs"]
    assert parse(doc).scene.stairs == ()


# --------------------------------------------------------------------------- stairs: errors


def test_unknown_stair_kind_is_refused_listing_the_kinds() -> None:
    doc = _two_floors()
    doc["stairs"][0]["kind"] = "ladder"
    err = _error(doc)
    assert err.field == "stairs[0].kind"
    assert "'ladder'" in err.reason and all(k in err.reason for k in STAIR_KINDS)


def test_both_ends_on_the_same_floor_is_refused_on_to_floor() -> None:
    doc = _two_floors()
    doc["stairs"][0]["to"]["floor"] = "1F"
    err = _error(doc)
    assert err.field == "stairs[0].to.floor"
    assert "two different floors" in err.reason


def test_a_stair_on_a_single_floor_scenario_is_refused_on_to_floor() -> None:
    doc = corridor()
    doc["stairs"] = [{"id": "S", "length": 5, "width": 1,
                      "from": {"area": [[5, 0.5], [6, 0.5], [6, 1.5], [5, 1.5]]},
                      "to": {"area": [[8, 0.5], [9, 0.5], [9, 1.5], [8, 1.5]]}}]
    assert _error(doc).field == "stairs[0].to.floor"


@pytest.mark.parametrize(("end", "floor"), [("from", "1F"), ("to", "G")])
def test_end_area_outside_its_floor_is_refused_on_that_end(end: str, floor: str) -> None:
    doc = _two_floors()
    doc["stairs"][0][end]["area"] = OFF_THE_EDGE
    err = _error(doc)
    assert err.field == f"stairs[0].{end}.area"
    assert f"outside the walkable area of floor '{floor}'" in err.reason
    assert "0.84 m² outside" in err.reason


def test_end_area_on_an_obstacle_is_outside_the_walkable_area() -> None:
    doc = _two_floors()
    doc["floors"][0]["obstacles"] = [[[21, 7], [23, 7], [23, 9.5], [21, 9.5]]]  # G
    assert _error(doc).field == "stairs[0].to.area"


def test_end_area_mostly_inside_its_floor_is_accepted() -> None:
    doc = _two_floors()  # 1.2 m x 1.2 m; 0.01 m of it beyond x = 24 is < 1 %
    doc["stairs"][0]["to"]["area"] = [[22.81, 7.8], [24.01, 7.8], [24.01, 9], [22.81, 9]]
    assert _stair(doc).areas[1].bounds[2] == pytest.approx(24.01)


def test_end_on_an_unknown_floor_is_refused_naming_the_floors() -> None:
    doc = _two_floors()
    doc["stairs"][0]["from"]["floor"] = "B1"
    err = _error(doc)
    assert err.field == "stairs[0].from.floor"
    assert "'B1'" in err.reason and "G, 1F" in err.reason


def test_end_floor_is_required_with_several_floors() -> None:
    doc = _two_floors()
    del doc["stairs"][0]["to"]["floor"]
    err = _error(doc)
    assert (err.field, err.reason) == ("stairs[0].to.floor", "is required")


@pytest.mark.parametrize(
    ("key", "value"),
    [("length", 0.49), ("length", 0), ("length", 5000.5), ("length", -10),
     ("width", 0.49), ("width", 20.01), ("speed_down", 0.04), ("speed_down", 1.6),
     ("speed_up", 0), ("speed_up", 2)],
)
def test_out_of_range_stair_values_are_refused(key: str, value: float) -> None:
    doc = _two_floors()
    doc["stairs"][0][key] = value
    err = _error(doc)
    assert err.field == f"stairs[0].{key}"
    assert err.reason.startswith("must be ")


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [("length", "10 m", "must be a "), ("width", True, "must be a "),
     ("id", "", "must be a non-empty string"), ("from", "1F", "must be a table"),
     ("kind", 1, "must be one of")],
)
def test_wrong_types_in_a_stair_are_refused(key: str, value: Any, reason: str) -> None:
    doc = _two_floors()
    doc["stairs"][0][key] = value
    err = _error(doc)
    assert err.field == f"stairs[0].{key}"
    assert err.reason.startswith(reason)


@pytest.mark.parametrize("key", ["id", "length", "width", "from", "to"])
def test_required_stair_keys(key: str) -> None:
    doc = _two_floors()
    del doc["stairs"][0][key]
    err = _error(doc)
    assert (err.field, err.reason) == (f"stairs[0].{key}", "is required")


def test_end_area_is_required() -> None:
    doc = _two_floors()
    del doc["stairs"][0]["from"]["area"]
    assert _error(doc).field == "stairs[0].from.area"


@pytest.mark.parametrize(
    ("where", "field"),
    [(lambda st: st, "stairs[0].steps"),
     (lambda st: st["from"], "stairs[0].from.steps"),
     (lambda st: st["to"], "stairs[0].to.steps")],
    ids=["stair", "from", "to"],
)
def test_unknown_keys_in_a_stair_are_named(where: Any, field: str) -> None:
    doc = _two_floors()
    where(doc["stairs"][0])["steps"] = 60
    err = _error(doc)
    assert err.field == field and err.reason == "unknown key 'steps'"


def test_duplicate_stair_ids_are_refused() -> None:
    doc = _two_floors()
    doc["stairs"].append(copy.deepcopy(doc["stairs"][0]))
    err = _error(doc)
    assert err.field == "stairs[1].id" and "duplicate id 'S1'" in err.reason


def test_stairs_must_be_an_array_of_tables() -> None:
    doc = _two_floors()
    doc["stairs"] = doc["stairs"][0]
    assert _error(doc).field == "stairs"


def test_an_error_in_the_second_stair_names_its_index() -> None:
    doc = _two_floors()
    second = copy.deepcopy(doc["stairs"][0])
    second.update(id="S2", width=25)
    doc["stairs"].append(second)
    assert _error(doc).field == "stairs[1].width"


# --------------------------------------------------------------------------- speed zones


def test_zones_default_to_none_and_reason_to_slow() -> None:
    assert parse(corridor()).scene.floors[0].zones == ()
    doc = corridor()
    doc["floors"][0]["zones"] = [
        {"polygon": ZONE, "factor": 0.5},
        {"polygon": ZONE, "factor": 1, "reason": "smoke"},
    ]
    z1, z2 = parse(doc).scene.floors[0].zones
    assert (z1.factor, z1.reason) == (0.5, "slow") and z1.polygon.equals(Polygon(ZONE))
    assert (z2.factor, z2.reason) == (1.0, "smoke") and isinstance(z2.factor, float)


def test_zones_can_be_written_as_an_array_of_tables_under_the_floor() -> None:
    text = """
name = "z"
[[floors]]
id = "G"
walkable = [[0, 0], [10, 0], [10, 4], [0, 4]]
[[floors.zones]]
polygon = [[2, 0], [4, 0], [4, 4], [2, 4]]
factor = 0.3
reason = "water"
[[exits]]
id = "E"
polygon = [[9.8, 0], [10, 0], [10, 4], [9.8, 4]]
[[groups]]
area = [[0, 0], [1, 0], [1, 4], [0, 4]]
count = 1
"""
    (zone,) = parse(tomllib.loads(text)).scene.floors[0].zones
    assert (zone.factor, zone.reason) == (0.3, "water")


@pytest.mark.parametrize("factor", [0.05, 1])
def test_zone_factor_limits_are_inclusive(factor: float) -> None:
    doc = corridor()
    doc["floors"][0]["zones"] = [{"polygon": ZONE, "factor": factor}]
    assert parse(doc).scene.floors[0].zones[0].factor == factor


@pytest.mark.parametrize("factor", [0, 0.04, -0.5, 1.01, 2])
def test_zone_factor_out_of_range_is_refused(factor: float) -> None:
    doc = corridor()
    doc["floors"][0]["zones"] = [{"polygon": ZONE, "factor": factor}]
    err = _error(doc)
    assert err.field == "floors[0].zones[0].factor"
    assert err.reason.startswith("must be ")


@pytest.mark.parametrize(
    ("zone", "field", "reason"),
    [({"polygon": ZONE}, "factor", "is required"),
     ({"factor": 0.5}, "polygon", "is required"),
     ({"polygon": [[0, 0], [2, 2], [2, 0], [0, 2]], "factor": 0.5}, "polygon",
      "polygon is self-intersecting"),
     ({"polygon": ZONE, "factor": 0.5, "reason": ""}, "reason", "must be a non-empty string"),
     ({"polygon": ZONE, "factor": 0.5, "colour": "grey"}, "colour", "unknown key 'colour'")],
    ids=["no-factor", "no-polygon", "bow-tie", "empty-reason", "unknown-key"],
)
def test_zone_errors_name_the_zone_and_key(zone: dict[str, Any], field: str, reason: str) -> None:
    doc = corridor()
    doc["floors"][0]["zones"] = [{"polygon": ZONE, "factor": 0.5}, zone]
    err = _error(doc)
    assert err.field == f"floors[0].zones[1].{field}"
    assert err.reason.startswith(reason)


def test_zones_must_be_a_list_of_tables() -> None:
    doc = corridor()
    doc["floors"][0]["zones"] = {"polygon": ZONE, "factor": 0.5}
    assert _error(doc).field == "floors[0].zones"


# --------------------------------------------------------------------------- exit kinds


def test_exit_kind_defaults_to_exit_and_accepts_refuge() -> None:
    doc = corridor()
    assert parse(doc).scene.exits[0].kind == "exit"
    doc["exits"][0]["kind"] = "refuge"
    assert parse(doc).scene.exits[0].kind == "refuge"


@pytest.mark.parametrize("kind", ["shelter", "Refuge", ""])
def test_unknown_exit_kind_is_refused(kind: str) -> None:
    doc = corridor()
    doc["exits"][0]["kind"] = kind
    err = _error(doc)
    assert err.field == "exits[0].kind"
    assert "exit, refuge" in err.reason


def test_agents_reaching_a_refuge_count_as_evacuated() -> None:
    doc = corridor(length=10.0)
    doc["exits"][0]["kind"] = "refuge"
    drill = Drill(parse(doc))
    while not drill.done():
        drill.step()
    assert drill.remaining == 0 and drill.exit_used.tolist() == [0]


# --------------------------------------------------------------------------- built-in scenes


def _without_building(doc: dict[str, Any]) -> dict[str, Any]:
    for key in ("floors", "exits", "stairs"):
        doc.pop(key, None)
    return doc


def test_unknown_scene_is_refused_naming_scene_and_listing_the_known_ones() -> None:
    doc = _without_building(corridor())
    doc["scene"] = "nosuch"
    err = _error(doc)
    assert err.field == "scene"
    assert "unknown built-in scene 'nosuch'" in err.reason
    known = sorted(builtin.builders())
    assert f"(known: {', '.join(known) or 'none yet'})" in err.reason


@pytest.mark.parametrize("key", ["floors", "exits", "stairs"])
def test_scene_together_with_a_building_key_is_refused_on_that_key(key: str) -> None:
    doc = _two_floors()
    doc = {k: v for k, v in doc.items() if k in (key, "name", "groups")}
    doc["scene"] = "mall"
    err = _error(doc)
    assert err.field == key
    assert err.reason == "cannot be given together with scene = 'mall'"


def test_scene_together_with_floors_is_refused_even_for_an_unknown_scene() -> None:
    doc = corridor()
    doc["scene"] = "nosuch"
    assert _error(doc).field == "floors"


def _box(*, length: float = 20.0) -> builtin.Built:
    """A stand-in generator: the conftest corridor, its one agent, max_time 77 s."""
    if length < 5:
        raise ScenarioError(f"must be >= 5, got {length:g}", field="length")
    doc = corridor(length=length)
    del doc["groups"][0]["exit"]  # a default group without an assigned exit
    s = parse(doc)
    return builtin.Built(scene=s.scene, groups=s.groups, max_time=77.0)


@pytest.fixture
def box(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setitem(builtin.BUILDERS, "test_box", _box)
    return {"name": "boxed", "scene": "test_box"}


def test_scene_provides_building_population_and_max_time(box: dict[str, Any]) -> None:
    box["simulation"] = {"exit_choice": "nearest"}
    s = parse(box)
    assert s.name == s.scene.name == "boxed"
    assert s.settings.max_time == 77.0
    (g,) = s.groups
    assert (g.count, g.exit, g.exit_choice) == (1, None, "nearest")


def test_own_groups_replace_the_scene_population_and_max_time_can_be_set(
    box: dict[str, Any],
) -> None:
    box["simulation"] = {"max_time": 30}
    box["scene_params"] = {"length": 12}
    box["groups"] = [{"id": "mine", "area": [[2, 0.2], [6, 0.2], [6, 1.8], [2, 1.8]],
                      "count": 4, "exit": "E1"}]
    box["measure"] = [{"id": "m", "line": [[8, 0], [8, 2]]}]
    box["events"] = [{"time": 5, "action": "close_exit", "exit": "E1"}]
    s = parse(box)
    assert s.settings.max_time == 30.0
    assert [(g.id, g.count) for g in s.groups] == [("mine", 4)]
    assert isinstance(s.groups[0], Group)
    assert s.scene.floors[0].walkable.bounds[2] == 12.0
    assert [m.id for m in s.scene.measures] == ["m"] and len(s.events) == 1


def test_scene_without_simulation_table_uses_default_settings_but_scene_max_time(
    box: dict[str, Any],
) -> None:
    s = parse(box)
    assert s.settings.dt == Settings().dt and s.settings.max_time == 77.0


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [({"colour": "red"}, "scene_params.colour",
      "unknown parameter 'colour' of scene 'test_box' (known: length)"),
     ({"length": 2}, "scene_params.length", "must be >= 5, got 2")],
)
def test_scene_parameter_errors_name_scene_params(
    box: dict[str, Any], params: dict[str, Any], field: str, reason: str
) -> None:
    box["scene_params"] = params
    err = _error(box)
    assert (err.field, err.reason) == (field, reason)


# --------------------------------------------------------------------------- zones in a run


def _run(doc: dict[str, Any]) -> Drill:
    drill = Drill(parse(doc))
    while not drill.done():
        drill.step()
    assert drill.remaining == 0
    return drill


@pytest.mark.parametrize("factor", [0.5, 0.25])
def test_slow_zone_across_a_corridor_delays_by_its_length_over_the_factor(factor: float) -> None:
    v0, x0, x1 = 1.33, 15.0, 25.0  # conftest corridor: one agent at 1.33 m/s, 40 m
    plain = corridor()
    slow = corridor()
    slow["floors"][0]["zones"] = [{"polygon": [[x0, 0], [x1, 0], [x1, 2], [x0, 2]],
                                   "factor": factor, "reason": "smoke"}]
    extra = float(_run(slow).exit_time[0] - _run(plain).exit_time[0])
    expected = (x1 - x0) * (1 / factor - 1) / v0
    assert extra == pytest.approx(expected, rel=0.15)


def test_routes_go_round_a_slow_zone_when_that_is_quicker() -> None:
    # A 4 m wide corridor; the slow zone leaves a 1.4 m lane clear along the north wall.
    plain = corridor(width=4.0)
    slow = corridor(width=4.0)
    slow["floors"][0]["zones"] = [{"polygon": [[10, 0], [30, 0], [30, 2.6], [10, 2.6]],
                                   "factor": 0.2}]
    drill = Drill(parse(slow))
    ys = []
    while not drill.done():
        drill.step()
        if drill.remaining:
            x, y = drill.crowd.pos[0]
            if 12 < x < 28:
                ys.append(y)
    assert drill.remaining == 0
    assert min(ys) > 2.6 - 0.15  # in the clear lane (within a raster cell)
    through = 20 * (1 / 0.2 - 1) / 1.33  # 60 s extra had it walked through
    extra = float(drill.exit_time[0] - _run(plain).exit_time[0])
    assert extra < 0.05 * through
    assert np.isfinite(drill.exit_time).all()
