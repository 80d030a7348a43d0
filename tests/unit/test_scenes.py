"""Built-in scene generators (mall, school, mine): geometry, population, determinism, checks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import shapely

from sim.agents.population import populate
from sim.errors import ScenarioError
from sim.scenario import Scenario
from sim.scenes.builtin import Built, builders
from sim.scenes.model import STAIR_KINDS

NAMES = ("mall", "school", "mine")
CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("mall", {}),
    ("mall", {"storeys": 4, "atrium": False, "exits": 6, "seed": 3}),
    ("mall", {"storeys": 2, "width": 50.0, "depth": 36.0, "load_factor": 1.4}),
    ("mall", {"width": 200.0, "depth": 60.0, "exits": 12}),
    ("school", {}),
    ("school", {"storeys": 5, "classrooms_per_floor": 12, "stairwells": 3}),
    ("school", {"storeys": 2, "classrooms_per_floor": 3, "pupils_per_class": 65,
                "seats_per_class": 65, "stairwells": 4}),
    ("mine", {}),
    ("mine", {"branches": 6, "smoke": True, "main_length": 600.0, "roadway_width": 5.0,
              "branch_length": 40.0, "incline_length": 800.0, "seed": 7}),
    ("mine", {"branches": 1, "main_length": 100.0, "roadway_width": 2.5,
              "branch_length": 20.0, "incline_length": 100.0}),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)]
_CACHE: dict[int, Built] = {}


def build(i: int) -> Built:
    if i not in _CACHE:
        name, kw = CONFIGS[i]
        _CACHE[i] = builders()[name](**kw)
    return _CACHE[i]


def default(name: str) -> Built:
    return build(next(i for i, (n, kw) in enumerate(CONFIGS) if n == name and not kw))


def inside(area: shapely.Geometry, poly: shapely.Geometry) -> bool:
    """``poly`` lies in ``area`` (up to rounding, or at least 99 % of it)."""
    return bool(area.contains(poly.buffer(-1e-6))
                or shapely.intersection(area, poly).area >= 0.99 * poly.area)


def all_polygons(b: Built) -> list[bytes]:
    s = b.scene
    geoms = []
    for f in s.floors:
        geoms += [f.walkable, *f.obstacles, *(z.polygon for z in f.zones)]
    geoms += [e.polygon for e in s.exits]
    geoms += [a for st in s.stairs for a in st.areas]
    geoms += [g.area for g in b.groups]
    return [shapely.to_wkb(g) for g in geoms]


def test_generators_are_registered():
    assert set(NAMES) <= set(builders())


@pytest.mark.parametrize("i", range(len(CONFIGS)), ids=IDS)
def test_scene_builds(i):
    b = build(i)
    s = b.scene
    assert isinstance(b, Built) and s.floors and s.exits and b.groups and b.max_time > 0
    assert len({f.id for f in s.floors}) == len(s.floors)
    assert len({e.id for e in s.exits}) == len(s.exits)
    assert len({st.id for st in s.stairs}) == len(s.stairs)
    assert len({g.id for g in b.groups}) == len(b.groups)
    for f in s.floors:
        assert f.walkable.geom_type == "Polygon" and f.walkable.is_valid
        assert all(o.is_valid and o.area > 0 for o in f.obstacles)
        assert all(0 < z.factor <= 1 and z.polygon.is_valid for z in f.zones)
    for e in s.exits:
        assert e.kind in ("exit", "refuge") and e.width > 0
    # Elevations rise with the floor index.
    z = [f.elevation for f in s.floors]
    assert z == sorted(z)


@pytest.mark.parametrize("i", range(len(CONFIGS)), ids=IDS)
def test_exits_stairs_and_groups_lie_in_walkable_area(i):
    b = build(i)
    s = b.scene
    for e in s.exits:
        assert inside(s.floors[e.floor].area, e.polygon), e.id
    for st in s.stairs:
        for fi, area in zip(st.floors, st.areas, strict=True):
            assert inside(s.floors[fi].area, area), st.id
    for g in b.groups:
        assert g.area.geom_type == "Polygon" and g.area.area > 0, g.id
        assert inside(s.floors[g.floor].area, g.area), g.id


@pytest.mark.parametrize("i", range(len(CONFIGS)), ids=IDS)
def test_exits_to_the_outside_are_on_the_outline(i):
    s = build(i).scene
    for e in s.exits:
        if e.kind == "exit":
            edge = shapely.intersection(e.polygon, s.floors[e.floor].walkable.exterior)
            assert edge.length >= min(e.width, 1.0) - 1e-6, e.id
            assert e.width <= edge.length + 1e-6, e.id  # the door fits in the strip


@pytest.mark.parametrize("i", range(len(CONFIGS)), ids=IDS)
def test_stairs_link_adjacent_floors_downwards(i):
    s = build(i).scene
    for st in s.stairs:
        upper, lower = st.floors
        assert upper - lower == 1, st.id
        assert s.floors[upper].elevation > s.floors[lower].elevation
        assert st.kind in STAIR_KINDS and st.length > 0 and st.width > 0
        # End areas of the two floors do not overlap stair areas of other stairs.
    for fi in range(len(s.floors)):
        areas = [a for st in s.stairs for f, a in zip(st.floors, st.areas, strict=True)
                 if f == fi]
        for j, a in enumerate(areas):
            for b_ in areas[j + 1:]:
                assert shapely.intersection(a, b_).area < 1e-9


@pytest.mark.parametrize("i", [i for i, (n, _) in enumerate(CONFIGS) if n != "mine"],
                         ids=[x for x, (n, _) in zip(IDS, CONFIGS, strict=True) if n != "mine"])
def test_stair_flights_chain_through_their_core(i):
    """Where a flight lands on floor k > 0, the next flight down starts beside it (escalators
    stacked one above the other are a walk of one escalator length apart)."""
    s = build(i).scene
    for st in s.stairs:
        lower = st.floors[1]
        if lower == 0 or st.kind != "stair":
            continue
        nxt = [o for o in s.stairs if o.floors[0] == lower and o.kind == st.kind]
        gap = min(shapely.distance(st.areas[1], o.areas[0]) for o in nxt)
        assert gap < 1.0, st.id


@pytest.mark.parametrize("i", range(len(CONFIGS)), ids=IDS)
def test_every_floor_is_connected_and_reaches_an_exit_or_stair(i):
    s = build(i).scene
    for fi, f in enumerate(s.floors):
        assert shapely.get_num_geometries(f.area) == 1, f.id
        targets = [e.polygon for e in s.exits if e.floor == fi] + [
            a for st in s.stairs for g, a in zip(st.floors, st.areas, strict=True) if g == fi]
        assert any(shapely.intersects(f.area, t) for t in targets), f.id


@pytest.mark.parametrize("i", range(len(CONFIGS)), ids=IDS)
def test_populate_places_everybody(i):
    b = build(i)
    assert all(g.count > 0 for g in b.groups)
    sc = Scenario(name=CONFIGS[i][0], scene=b.scene, groups=b.groups)
    crowd = populate(sc, np.random.default_rng(1))
    assert len(crowd.v0) == sum(g.count for g in b.groups)
    # Everybody stands in the walkable area of their floor.
    for fi, f in enumerate(b.scene.floors):
        m = crowd.floor == fi
        assert shapely.contains_xy(f.area, crowd.pos[m, 0], crowd.pos[m, 1]).all()


def test_default_populations_stay_moderate():
    assert 1000 <= sum(g.count for g in default("mall").groups) <= 3000
    assert sum(g.count for g in default("mine").groups) <= 150
    assert sum(g.count for g in default("school").groups) == 4 * 8 * (45 + 1)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_gives_the_same_scene(name):
    a, b = builders()[name](seed=5), builders()[name](seed=5)
    assert all_polygons(a) == all_polygons(b)
    assert [g.count for g in a.groups] == [g.count for g in b.groups]
    assert [(st.length, st.width) for st in a.scene.stairs] == [
        (st.length, st.width) for st in b.scene.stairs]


def test_seed_changes_the_shops_and_crews():
    assert all_polygons(builders()["mall"](seed=1)) != all_polygons(builders()["mall"](seed=2))
    counts = {tuple(g.count for g in builders()["mine"](seed=s).groups) for s in range(5)}
    assert len(counts) > 1


# --------------------------------------------------------------------------- per scene


def test_mall_has_street_exits_stair_cores_and_escalators():
    b = default("mall")
    s = b.scene
    ground = [e for e in s.exits if e.floor == 0 and e.kind == "exit"]
    assert len(ground) >= 4
    assert all(e.width >= 1.4 for e in ground)  # GB 50016-2014 §5.5.19
    assert not [e for e in s.exits if e.floor != 0]
    stairs_2f = [st for st in s.stairs if st.floors == (1, 0) and st.kind == "stair"]
    assert len(stairs_2f) >= 2
    assert [st for st in s.stairs if st.kind == "escalator"]
    # The atrium is a void above the ground floor.
    assert s.floors[1].area.area < s.floors[0].area.area - 300
    for st in s.stairs:
        if st.kind == "stair":
            assert 10.0 <= st.length <= 15.0 and 1.4 <= st.width <= 3.0


def test_mall_without_atrium_has_no_void_and_no_escalators():
    b = build(1)
    assert not [st for st in b.scene.stairs if st.kind == "escalator"]
    a0, a1 = b.scene.floors[0].area.area, b.scene.floors[1].area.area
    assert abs(a0 - a1) < 0.05 * a0


def test_mall_load_factor_scales_the_population():
    lo = sum(g.count for g in builders()["mall"](load_factor=0.5).groups)
    hi = sum(g.count for g in builders()["mall"](load_factor=1.0).groups)
    assert hi == pytest.approx(2 * lo, rel=0.05)


def test_school_classrooms_pupils_and_teachers():
    b = default("school")
    pupils = [g for g in b.groups if g.id.endswith("pupils")]
    teachers = [g for g in b.groups if g.id.endswith("teacher")]
    assert len(pupils) == len(teachers) == 4 * 8
    assert all(g.count == 45 and g.radius == pytest.approx(0.18) for g in pupils)
    assert all(g.count == 1 and g.radius == pytest.approx(0.25) for g in teachers)
    assert all(10 <= g.premovement_min <= g.premovement_max <= 60 for g in b.groups)
    s = b.scene
    assert len(s.floors) == 4
    assert len([st for st in s.stairs if st.floors == (1, 0)]) == 2
    assert len([e for e in s.exits if e.floor == 0]) >= 2
    for st in s.stairs:
        assert 10.0 <= st.length <= 12.5 and st.width >= 1.2


def test_school_stairwells_parameter():
    s = build(5).scene
    assert len([st for st in s.stairs if st.floors == (1, 0)]) == 3


def test_mine_exits_refuge_inclines_and_zones():
    b = default("mine")
    s = b.scene
    ids = [f.id for f in s.floors]
    assert ids == ["underground", "surface"]
    under, surf = s.floors
    assert surf.elevation == 0 and under.elevation < -50
    surface_exits = [e for e in s.exits if e.floor == 1 and e.kind == "exit"]
    refuges = [e for e in s.exits if e.kind == "refuge"]
    assert len(surface_exits) >= 2 and len(refuges) == 1 and refuges[0].floor == 0
    inclines = [st for st in s.stairs if st.kind == "incline"]
    assert len(inclines) >= 2 and all(st.floors == (1, 0) for st in inclines)
    assert inclines[0].length == 300.0 and inclines[0].speed_up == pytest.approx(0.6)
    # The surface ends of the inclines are at least 30 m apart (煤矿安全规程).
    assert shapely.distance(inclines[0].areas[0], inclines[1].areas[0]) >= 30
    assert [z for z in under.zones if z.reason == "slope"]
    assert not [z for z in under.zones if z.reason == "smoke"]
    smoky = build(8).scene.floors[0]
    assert [z for z in smoky.zones if z.reason == "smoke" and z.factor <= 0.5]
    assert all(8 <= g.count <= 15 for g in b.groups if g.id.startswith("face"))
    assert len([g for g in b.groups if g.id.startswith("face")]) == 3
    assert under.elevation == pytest.approx(-300 * math.sin(math.radians(20)), abs=0.1)


# --------------------------------------------------------------------------- bad parameters


BAD = [
    ("mall", {"storeys": 0}, "storeys"),
    ("mall", {"storeys": 5}, "storeys"),
    ("mall", {"storeys": 2.5}, "storeys"),
    ("mall", {"storeys": True}, "storeys"),
    ("mall", {"width": -80.0}, "width"),
    ("mall", {"width": 20.0}, "width"),
    ("mall", {"depth": 500.0}, "depth"),
    ("mall", {"width": 50.0, "depth": 60.0, "storeys": 4, "atrium": False}, "width"),
    ("mall", {"depth": "50"}, "depth"),
    ("mall", {"exits": 3}, "exits"),
    ("mall", {"exits": 40}, "exits"),
    ("mall", {"width": 50.0, "exits": 12}, "exits"),
    ("mall", {"load_factor": 0.0}, "load_factor"),
    ("mall", {"load_factor": float("nan")}, "load_factor"),
    ("mall", {"atrium": "yes"}, "atrium"),
    ("mall", {"seed": -1}, "seed"),
    ("school", {"storeys": 0}, "storeys"),
    ("school", {"storeys": 6}, "storeys"),
    ("school", {"classrooms_per_floor": 0}, "classrooms_per_floor"),
    ("school", {"classrooms_per_floor": 30}, "classrooms_per_floor"),
    ("school", {"pupils_per_class": 0}, "pupils_per_class"),
    ("school", {"pupils_per_class": 51}, "pupils_per_class"),
    ("school", {"pupils_per_class": 40, "seats_per_class": 30}, "pupils_per_class"),
    ("school", {"seats_per_class": 100}, "seats_per_class"),
    ("school", {"stairwells": 1}, "stairwells"),
    ("school", {"stairwells": 5}, "stairwells"),
    ("mine", {"branches": 0}, "branches"),
    ("mine", {"branches": 9}, "branches"),
    ("mine", {"branches": 5, "main_length": 100.0}, "branches"),
    ("mine", {"main_length": 50.0}, "main_length"),
    ("mine", {"roadway_width": -4.0}, "roadway_width"),
    ("mine", {"roadway_width": 0.0}, "roadway_width"),
    ("mine", {"branch_length": 1000.0}, "branch_length"),
    ("mine", {"incline_length": 10.0}, "incline_length"),
    ("mine", {"incline_length": float("inf")}, "incline_length"),
    ("mine", {"smoke": 1}, "smoke"),
]


@pytest.mark.parametrize(("name", "kw", "field"), BAD,
                         ids=[f"{n}-{f}-{v!r}" for n, kw, f in BAD for v in [kw[f]]])
def test_out_of_range_parameters_raise(name, kw, field):
    with pytest.raises(ScenarioError) as err:
        builders()[name](**kw)
    assert err.value.field == field
    assert "between" in err.value.reason or "true or false" in err.value.reason


def test_range_messages_name_the_allowed_range():
    with pytest.raises(ScenarioError, match=r"must be between 2 and 4, got 7"):
        builders()["mall"](storeys=7)
    with pytest.raises(ScenarioError, match=r"between 1 and 30 \(seats_per_class\), got 40"):
        builders()["school"](pupils_per_class=40, seats_per_class=30)
    with pytest.raises(ScenarioError, match=r"between 2 and \d+ with 2 stairwells, got 30"):
        builders()["school"](classrooms_per_floor=30)
    with pytest.raises(ScenarioError, match=r"between 1 and 3 for main_length 100 m, got 5"):
        builders()["mine"](branches=5, main_length=100.0)


def test_school_allows_more_classrooms_with_more_stairwells():
    def most(k: int) -> int:
        with pytest.raises(ScenarioError) as err:
            builders()["school"](classrooms_per_floor=60, stairwells=k)
        return int(err.value.reason.split(" and ")[1].split()[0])

    m2, m3 = most(2), most(3)
    assert 8 <= m2 < m3
    builders()["school"](classrooms_per_floor=m2)  # the largest allowed builds
