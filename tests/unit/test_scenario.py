"""Scenario files: the documented examples, defaults, and one clear error per mistake."""

from __future__ import annotations

import copy
import math
import re
import tomllib
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from corridor_docs import corridor
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import contains_xy
from shapely.geometry import Point

from sim.agents.population import populate
from sim.errors import ScenarioError
from sim.scenario import ModelParams, Scenario, Settings, load_file, parse

DOC = Path(__file__).resolve().parents[2] / "docs" / "scenario.md"


def _doc_examples() -> dict[str, str]:
    """The complete examples of docs/scenario.md: ```toml blocks starting '# Example'."""
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return {b.split(":", 1)[0].removeprefix("# "): b for b in blocks if b.startswith("# Example")}


EXAMPLES = _doc_examples()


def _example(name: str) -> dict[str, Any]:
    return tomllib.loads(EXAMPLES[name])


def _error(doc: Any, source: str = "s.toml") -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse(doc, source=source)
    return info.value


def _minimal() -> dict[str, Any]:
    """A scenario with only the required keys."""
    return {
        "name": "minimal",
        "floors": [{"id": "G", "walkable": [[0, 0], [10, 0], [10, 4], [0, 4]]}],
        "exits": [{"id": "E", "polygon": [[9.8, 0], [10, 0], [10, 4], [9.8, 4]]}],
        "groups": [{"area": [[0, 0], [4, 0], [4, 4], [0, 4]], "count": 3}],
    }


BOW_TIE = [[0, 0], [2, 2], [2, 0], [0, 2]]


# --------------------------------------------------------------------------- valid files


def test_docs_have_three_complete_examples() -> None:
    assert sorted(EXAMPLES) == ["Example 1", "Example 2", "Example 3"]


@pytest.mark.parametrize("name", ["Example 1", "Example 2", "Example 3"])
def test_documented_example_loads_from_file_and_populates(name: str, tmp_path: Path) -> None:
    path = tmp_path / "example.toml"
    path.write_text(EXAMPLES[name], encoding="utf-8")
    scenario = load_file(path)
    assert isinstance(scenario, Scenario)
    assert scenario.source == str(path)
    crowd = populate(scenario, np.random.default_rng(0))
    assert len(crowd.v0) == sum(g.count for g in scenario.groups)


def test_documented_corridor_has_two_exits_a_measure_and_a_closing_event() -> None:
    s = parse(_example("Example 1"))
    assert [e.id for e in s.scene.exits] == ["West", "East"]
    assert [e.width for e in s.scene.exits] == pytest.approx([2.0, 2.0])
    assert [m.id for m in s.scene.measures] == ["middle"]
    assert len(s.events) == 1
    assert (s.events[0].time, s.events[0].action, s.events[0].exit) == (10.0, "close_exit", 1)
    assert s.settings.exit_choice == "nearest"
    assert s.groups[0].exit_choice == "nearest"


def test_documented_room_has_a_one_metre_door_between_two_wall_obstacles() -> None:
    s = parse(_example("Example 2"))
    floor = s.scene.floors[0]
    assert len(floor.obstacles) == 2
    assert floor.area.contains(Point(5.0, 8.1))  # the door
    assert not floor.area.contains(Point(4.0, 8.1))  # the wall beside it
    (door,) = s.scene.exits
    assert door.width == 1.0 and door.floor == 0
    assert s.groups[0].floor == 0
    assert s.settings.dt == Settings().dt  # left out: default


def test_shipped_assets_parse() -> None:
    paths = sorted((DOC.parents[1] / "assets").glob("*.toml"))
    assert paths
    for path in paths:
        assert isinstance(load_file(path), Scenario)


# --------------------------------------------------------------------------- defaults


def test_defaults_apply_when_optional_tables_and_keys_are_left_out() -> None:
    s = parse(_minimal())
    assert s.settings == Settings()
    assert s.model == ModelParams()
    assert s.events == () and s.scene.measures == ()
    assert s.source == "<scenario>"
    (floor,) = s.scene.floors
    assert floor.elevation == 0.0 and floor.obstacles == ()
    (ex,) = s.scene.exits
    assert ex.floor == 0 and ex.open is True
    (g,) = s.groups
    assert g.id == "group0" and g.floor == 0
    assert (g.speed_mean, g.speed_sd, g.speed_min, g.speed_max) == (1.34, 0.26, 0.3, 2.5)
    assert (g.premovement_min, g.premovement_max) == (0.0, 0.0)
    assert g.radius == 0.2
    assert g.exit is None and g.exit_choice == "quickest"


def _documented_defaults(section: str) -> dict[str, Any]:
    """``key: default`` from the table under ``## `[section]``` in docs/scenario.md."""
    text = DOC.read_text(encoding="utf-8").split(f"## `[{section}]`", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(\w+)` +\|[^|]*\|[^|]*\| `([^`]*)` +\|", text, re.M)
    return {key: tomllib.loads(f"v = {value}")["v"] for key, value in rows}


@pytest.mark.parametrize(("section", "defaults"), [("simulation", Settings()),
                                                    ("model", ModelParams())])
def test_documented_defaults_match_the_code(section: str, defaults: Any) -> None:
    documented = _documented_defaults(section)
    assert documented == {f.name: getattr(defaults, f.name) for f in fields(defaults)}


def test_exit_width_defaults_to_long_side_of_minimum_rotated_rectangle() -> None:
    doc = _minimal()
    # A 0.2 m x 2 m strip turned by 45 degrees.
    h = math.sqrt(0.02)
    d = math.sqrt(2.0)
    doc["exits"][0]["polygon"] = [[5, 1], [5 + h, 1 + h], [5 + h - d, 1 + h + d], [5 - d, 1 + d]]
    assert parse(doc).scene.exits[0].width == pytest.approx(2.0)


def test_given_exit_width_overrides_the_default() -> None:
    doc = _minimal()
    doc["exits"][0]["width"] = 0.9
    assert parse(doc).scene.exits[0].width == 0.9


def test_group_with_exit_defaults_to_assigned_choice() -> None:
    g = parse(corridor()).groups[0]
    assert g.exit == 0 and g.exit_choice == "assigned"


def test_group_without_exit_follows_simulation_exit_choice() -> None:
    doc = _minimal()
    doc["simulation"] = {"exit_choice": "nearest"}
    assert parse(doc).groups[0].exit_choice == "nearest"


def test_integers_are_accepted_where_numbers_are_expected() -> None:
    doc = _minimal()
    doc["simulation"] = {"max_time": 30}
    doc["groups"][0]["speed"] = {"mean": 1, "min": 1, "max": 2}
    s = parse(doc)
    assert s.settings.max_time == 30.0 and isinstance(s.settings.max_time, float)
    assert s.groups[0].speed_mean == 1.0


def test_events_are_sorted_by_time() -> None:
    doc = corridor()
    doc["events"] = [
        {"time": 20, "action": "open_exit", "exit": "E1"},
        {"time": 5.5, "action": "close_exit", "exit": "E1"},
    ]
    assert [(e.time, e.action) for e in parse(doc).events] == [
        (5.5, "close_exit"), (20.0, "open_exit")]


# --------------------------------------------------------------------------- file errors


def test_malformed_toml_is_a_scenario_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken_file.toml"
    path.write_text('name = "x"\n[simulation\ndt = 0.05\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_file(path)
    assert "broken_file.toml" in str(info.value)
    assert "malformed TOML" in str(info.value)
    assert info.value.source == str(path)


def test_missing_file_is_a_scenario_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ScenarioError, match="absent.toml: file not found"):
        load_file(path)


def test_error_message_is_file_field_reason() -> None:
    doc = corridor()
    doc["simulation"]["dt"] = "fast"
    err = _error(doc, source="here.toml")
    assert (err.source, err.field) == ("here.toml", "simulation.dt")
    assert str(err) == f"here.toml: simulation.dt: {err.reason}"
    assert "\n" not in str(err)


# --------------------------------------------------------------------------- geometry errors


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (lambda d: d["floors"][0], "floors[0].walkable"),
        (lambda d: d["exits"][0], "exits[0].polygon"),
        (lambda d: d["groups"][0], "groups[0].area"),
    ],
    ids=["floor", "exit", "group"],
)
def test_bow_tie_polygon_is_reported_as_self_intersecting_with_field_path(
    where: Any, field: str
) -> None:
    doc = corridor()
    table = where(doc)
    key = field.rsplit(".", 1)[1]
    table[key] = BOW_TIE
    err = _error(doc)
    assert "self-intersecting" in str(err)
    assert err.field == field and field in str(err)


def test_bow_tie_obstacle_is_reported_with_its_index() -> None:
    doc = corridor()
    doc["floors"][0]["obstacles"] = [[[5, 0], [6, 0], [6, 1], [5, 1]], BOW_TIE]
    err = _error(doc)
    assert err.field == "floors[0].obstacles[1]" and "self-intersecting" in err.reason


def test_polygon_with_too_few_points_is_refused() -> None:
    doc = corridor()
    doc["floors"][0]["walkable"] = [[0, 0], [1, 0]]
    err = _error(doc)
    assert err.field == "floors[0].walkable" and "at least 3" in err.reason


def test_exit_outside_every_floor_is_reported_on_its_polygon() -> None:
    doc = corridor()
    doc["exits"][0]["polygon"] = [[50, 50], [51, 50], [51, 51], [50, 51]]
    err = _error(doc)
    assert err.field == "exits[0].polygon"
    assert "outside" in err.reason


def test_group_area_outside_walkable_is_reported_on_the_area() -> None:
    doc = corridor()
    doc["groups"][0]["area"] = [[-1, 0], [1, 0], [1, 2], [-1, 2]]
    err = _error(doc)
    assert err.field == "groups[0].area"
    assert "outside the walkable area" in err.reason


def test_obstacles_covering_the_whole_floor_are_refused() -> None:
    doc = corridor()
    doc["floors"][0]["obstacles"] = [[[-1, -1], [41, -1], [41, 3], [-1, 3]]]
    assert _error(doc).field == "floors[0].obstacles"


_EXTREME = 1.7976931348623157e308  # the largest float; TOML can write it


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # shapely overflow on huge coordinates
@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("exits", 0, "polygon"), [[40, 1e17], [40, 2], [1e17, 0], [2, -1e17]]),
        (("exits", 0, "polygon"), [[0, 6e307], [2, 0], [1, 0]]),
        (("floors", 0, "walkable"), [[-1, -1e308], [-_EXTREME, 1e308], [1e300, 1e308]]),
        (("floors", 0, "obstacles"), [[[0, 0], [2, -9e307], [-1, -1], [-1e308, 0]],
                                      [[0, 9e307], [0, 1e308], [-2, 2], [0, -2]]]),
        (("groups", 0, "area"), [[-1e308, 40], [1e16, -1e308], [0, 2]]),
    ],
    ids=["exit-1e17", "exit-6e307", "walkable-1e308", "obstacles-1e308", "area-1e308"],
)
def test_extreme_coordinates_give_a_scenario_error_not_a_crash(
    path: tuple[Any, ...], value: Any
) -> None:
    # Absurd but well-formed numbers must not reach shapely/GEOS unchecked: before
    # coordinates were bounded, these raised GEOSException or IndexError.
    doc = corridor()
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    err = _error(doc)
    assert err.field is not None and err.field.startswith(f"{path[0]}[0]")


@pytest.mark.parametrize("limit_ok", [True, False])
def test_coordinates_are_bounded_to_100_km(limit_ok: bool) -> None:
    c = 1e5 if limit_ok else 1.000001e5
    doc = corridor()
    doc["floors"][0]["walkable"] = [[-c, -c], [c, -c], [c, c], [-c, c]]
    if limit_ok:
        assert parse(doc).scene.floors[0].walkable.bounds == (-c, -c, c, c)
    else:
        err = _error(doc)
        assert err.field == "floors[0].walkable" and "coordinates must lie within" in err.reason


def test_zero_length_measuring_line_is_refused() -> None:
    doc = corridor()
    doc["measure"] = [{"id": "m", "line": [[1, 1], [1, 1]]}]
    assert _error(doc).field == "measure[0].line"


# --------------------------------------------------------------------------- unknown keys


def test_unknown_top_level_key_is_named() -> None:
    doc = corridor()
    doc["colour"] = "red"
    err = _error(doc)
    assert err.field == "colour" and "unknown key 'colour'" in str(err)


def test_unknown_key_in_a_group_is_named() -> None:
    doc = corridor(colour="red")
    err = _error(doc)
    assert err.field == "groups[0].colour" and "unknown key 'colour'" in str(err)


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (lambda d: d["simulation"], "simulation"),
        (lambda d: d.setdefault("model", {}), "model"),
        (lambda d: d["floors"][0], "floors[0]"),
        (lambda d: d["exits"][0], "exits[0]"),
        (lambda d: d["groups"][0]["speed"], "groups[0].speed"),
        (lambda d: d["groups"][0]["premovement"], "groups[0].premovement"),
    ],
)
def test_unknown_key_in_any_table_is_named(where: Any, field: str) -> None:
    doc = corridor()
    where(doc)["bogus_key"] = 1
    err = _error(doc)
    assert err.field == f"{field}.bogus_key" and "bogus_key" in err.reason


def test_scene_params_without_scene_is_an_unknown_key() -> None:
    doc = corridor()
    doc["scene_params"] = {}
    assert _error(doc).field == "scene_params"


# --------------------------------------------------------------------------- values and refs


def test_negative_speed_mean_is_refused() -> None:
    err = _error(corridor(speed={"mean": -1.0}))
    assert err.field == "groups[0].speed.mean" and "groups[0].speed.mean" in str(err)


def test_speed_min_greater_than_max_is_refused() -> None:
    err = _error(corridor(speed={"min": 2.0, "max": 1.0}))
    assert err.field == "groups[0].speed.min" and "greater than max" in err.reason


def test_premovement_min_greater_than_max_is_refused() -> None:
    err = _error(corridor(premovement={"min": 60, "max": 30}))
    assert err.field == "groups[0].premovement.min"
    assert "min (60) is greater than max (30)" in err.reason


def test_unknown_floor_id_is_refused() -> None:
    err = _error(corridor(floor="1"))
    assert err.field == "groups[0].floor" and "'1'" in err.reason and "G" in err.reason


def test_floor_is_required_when_there_are_several() -> None:
    doc = corridor()
    doc["floors"].append(dict(doc["floors"][0], id="F1"))
    del doc["exits"][0]["floor"]
    assert _error(doc).field == "exits[0].floor"


def test_unknown_exit_id_in_group_is_refused() -> None:
    err = _error(corridor(exit="E9"))
    assert err.field == "groups[0].exit"
    assert "'E9'" in err.reason and "E1" in err.reason


def test_unknown_exit_id_in_event_is_refused() -> None:
    doc = corridor()
    doc["events"] = [{"time": 1, "action": "close_exit", "exit": "E9"}]
    assert _error(doc).field == "events[0].exit"


def test_duplicate_exit_ids_are_refused() -> None:
    doc = corridor()
    doc["exits"].append(copy.deepcopy(doc["exits"][0]))
    err = _error(doc)
    assert err.field == "exits[1].id" and "duplicate id 'E1'" in err.reason


def test_duplicate_group_ids_are_refused() -> None:
    doc = corridor(id="a")
    doc["groups"].append(copy.deepcopy(doc["groups"][0]))
    assert _error(doc).field == "groups[1].id"


def test_assigned_choice_without_exit_is_refused() -> None:
    doc = _minimal()
    doc["groups"][0]["exit_choice"] = "assigned"
    assert _error(doc).field == "groups[0].exit_choice"


def test_newer_format_version_is_refused_naming_both_versions() -> None:
    doc = corridor()
    doc["version"] = 2
    err = _error(doc)
    assert err.field == "version"
    assert "version 2" in err.reason and "version 1" in err.reason


def test_version_one_is_accepted() -> None:
    doc = corridor()
    doc["version"] = 1
    assert parse(doc).name == "corridor"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("simulation", "dt"), "0.05", "simulation.dt"),
        (("simulation", "dt"), True, "simulation.dt"),
        (("simulation", "dt"), math.nan, "simulation.dt"),
        (("simulation", "max_time"), math.inf, "simulation.max_time"),
        (("simulation", "seed"), 1.0, "simulation.seed"),
        (("name",), 5, "name"),
        (("name",), "", "name"),
        (("simulation",), 5, "simulation"),
        (("groups",), {"count": 1}, "groups"),
        (("exits", 0, "open"), "yes", "exits[0].open"),
        (("floors", 0, "walkable"), "square", "floors[0].walkable"),
        (("floors", 0, "walkable"), [[0, 0], [1, "0"], [1, 1]], "floors[0].walkable"),
        (("groups", 0, "count"), 2.0, "groups[0].count"),
        (("groups", 0, "speed"), 1.3, "groups[0].speed"),
    ],
)
def test_wrong_types_are_refused(path: tuple[Any, ...], value: Any, field: str) -> None:
    doc = corridor()
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert _error(doc).field == field


@pytest.mark.parametrize(
    ("table", "key", "value"),
    [
        ("simulation", "dt", 0.5),
        ("simulation", "dt", 0.0001),
        ("simulation", "max_time", 0),
        ("simulation", "seed", -1),
        ("simulation", "cell_size", 0.3),
        ("simulation", "trajectory_every", 0),
        ("simulation", "exit_choice", "assigned"),
        ("model", "time_gap", 0.05),
        ("model", "neighbour_range", 3),
        ("model", "wall_strength", -1),
    ],
)
def test_out_of_range_settings_are_refused(table: str, key: str, value: Any) -> None:
    doc = corridor()
    doc.setdefault(table, {})[key] = value
    assert _error(doc).field == f"{table}.{key}"


@pytest.mark.parametrize(
    ("key", "value"),
    [("count", 0), ("radius", 0.01), ("radius", 1.5), ("exit_choice", "random")],
)
def test_out_of_range_group_values_are_refused(key: str, value: Any) -> None:
    assert _error(corridor(**{key: value})).field == f"groups[0].{key}"


def test_scenario_without_groups_is_refused() -> None:
    doc = corridor()
    doc["groups"] = []
    assert _error(doc).field == "groups"


def test_scene_together_with_floors_is_refused() -> None:
    doc = corridor()
    doc["scene"] = "office"
    assert _error(doc).field == "floors"


def test_unknown_builtin_scene_is_refused() -> None:
    doc = corridor()
    for key in ("floors", "exits"):
        del doc[key]
    doc["scene"] = "no_such_scene"
    err = _error(doc)
    assert err.field == "scene" and "no_such_scene" in err.reason


# --------------------------------------------------------------------------- placement


def test_more_agents_than_fit_raise_naming_group_count() -> None:
    scenario = parse(corridor(count=500), source="full.toml")  # a 0.8 m x 1.6 m area
    with pytest.raises(ScenarioError) as info:
        populate(scenario, np.random.default_rng(0))
    assert info.value.field == "groups[0].count"
    assert str(info.value).startswith("full.toml: groups[0].count: more agents than fit")


def test_placed_agents_never_overlap_and_stay_in_their_area() -> None:
    scenario = parse(_example("Example 2"))
    crowd = populate(scenario, np.random.default_rng(3))
    pos = crowd.pos
    d = np.hypot(*(pos[:, None, :] - pos[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 2 * 0.2
    assert contains_xy(scenario.groups[0].area, pos[:, 0], pos[:, 1]).all()


# --------------------------------------------------------------------------- fuzzing

_PLAUSIBLE = st.sampled_from([  # values that reach deeper checks
    "G", "E1", "West", "East", "door", "assigned", "nearest", "quickest", "close_exit",
    "open_exit", 0, 1, 2, 0.05, 0.5, -1, 1e-300, 1e300, [1.0, 1.0], [[0, 0], [1, 0], [1, 1]],
    [[0, 0], [1, 0], [1, 1], [0, 1]], [[0, 0], [0, 0], [0, 0]], BOW_TIE,
])
_NUMBERS = (
    st.integers(min_value=-(2**63), max_value=2**63 - 1)  # TOML integers are 64-bit
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, 1, -1, 0.5, 2.0, 20, 40, 1e-300, 1e300])
)
_SCALARS = st.none() | st.booleans() | _NUMBERS | st.text(max_size=8) | _PLAUSIBLE
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=10,
).map(copy.deepcopy)  # never share (and later mutate) the constants above
_BASES = [corridor(), _example("Example 1"), _example("Example 2"), _example("Example 3"),
          _minimal()]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


@st.composite
def _mutated_documents(draw: st.DrawFn) -> Any:
    """A valid scenario with 1-4 random changes: values replaced, keys deleted or added."""
    doc: Any = copy.deepcopy(draw(st.sampled_from(_BASES)))
    for _ in range(draw(st.integers(1, 4))):
        paths = list(_paths(doc))
        # Rarely the whole document; a coordinate or other number gets another number half
        # the time, so that mutated geometry reaches the geometric checks.
        path = () if draw(st.integers(0, 49)) == 25 else draw(st.sampled_from(paths[1:] or [()]))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if not path:
            if action == "add" and isinstance(doc, dict):
                doc[draw(st.text(max_size=8))] = draw(_VALUES)
            else:
                doc = draw(_VALUES)
            continue
        parent: Any = doc
        for key in path[:-1]:
            parent = parent[key]
        last, node = path[-1], parent[path[-1]]
        if action == "delete":
            del parent[last]
        elif action == "add" and isinstance(node, dict):
            node[draw(st.text(min_size=1, max_size=8))] = draw(_VALUES)
        elif action == "add" and isinstance(node, list):
            node.append(draw(_VALUES))
        elif _is_number(node) and draw(st.booleans()):
            parent[last] = draw(_NUMBERS)
        else:
            parent[last] = draw(_VALUES)
    return doc


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # shapely overflow on huge coordinates
@settings(max_examples=300, deadline=None)
@given(doc=_mutated_documents())
def test_mutated_scenarios_parse_or_raise_scenario_error_only(doc: Any) -> None:
    try:
        scenario = parse(doc, source="fuzz.toml")
    except ScenarioError as exc:
        assert str(exc).startswith("fuzz.toml")
    else:
        assert scenario.groups and scenario.scene.exits
