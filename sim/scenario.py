"""Scenario files (TOML, version 1): reading and validating them into a :class:`Scenario`.

Every problem is reported as a :class:`~sim.errors.ScenarioError` naming the file, the
field (``groups[0].count``) and what is wrong. The format is documented in
``docs/scenario.md``.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

from sim.drill_info import parse_cover
from sim.errors import ScenarioError
from sim.scenes.model import STAIR_KINDS, Exit, Floor, Measure, Scene, SpeedZone, Stair

if TYPE_CHECKING:
    from sim.scenes.builtin import Built

__all__ = [
    "ASSETS",
    "EXIT_CHOICES",
    "Event",
    "Group",
    "ModelParams",
    "PLAN_ACTIONS",
    "PlanStep",
    "Scenario",
    "Settings",
    "builtin_names",
    "load",
    "load_file",
    "parse",
]

FORMAT_VERSION = 1
ASSETS = Path(__file__).resolve().parents[1] / "assets"
"""Folder of the scenarios that ship with the package; their stems are built-in names."""
EXIT_CHOICES = ("assigned", "nearest", "quickest")
MAX_COORDINATE = 1.0e5
"""Largest coordinate accepted, m: a building, a campus or a mine, not a continent."""
EVENT_ACTIONS = ("close_exit", "open_exit")
EXIT_KINDS = ("exit", "refuge")
PLAN_ACTIONS = ("alarm", "report", "order_evacuation", "door", "first_out", "evacuated",
                "floor_clear", "zone_clear")
"""What a plan step ([[plan]]) may require; see docs/scenario.md."""
PLAN_AFTER = ("alarm", "start")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How a run is stepped and written."""

    dt: float = 0.05
    """Time step, s."""
    max_time: float = 600.0
    """The run stops at this simulated time even if agents remain, s."""
    seed: int = 1
    cell_size: float = 0.15
    """Raster cell of the navigation fields, m."""
    exit_choice: str = "quickest"
    """Default exit-choice rule for groups without an assigned exit."""
    trajectory_every: int = 2
    """Write every k-th step to the trajectory file."""


@dataclass(frozen=True, kw_only=True)
class ModelParams:
    """Collision-free speed model parameters (Tordeux, Chraibi & Seyfried 2016)."""

    time_gap: float = 0.5
    """T: time gap to the agent in front, s (JuPedSim's default is 1 s; 0.5 s reproduces the
    flows measured at bottlenecks, see docs/model.md)."""
    neighbour_strength: float = 8.0
    """a: strength of the repulsion between agents (dimensionless)."""
    neighbour_range: float = 0.1
    """D: range of the repulsion between agents, m."""
    wall_strength: float = 5.0
    """Strength of the repulsion from walls (dimensionless)."""
    wall_range: float = 0.02
    """Range of the repulsion from walls, m."""
    evasion_strength: float = 4.0
    """Strength of the sideways step around oncoming people ahead (0: none)."""
    evasion_range: float = 1.0
    """Range of that step: it decays as exp(-gap / range), gap in m."""
    keep_side: str = "right"
    """Side people keep to when they evade: "right" (mainland China, Europe) or "left"."""
    anticipation: float = 0.0
    """Time over which the progress of the person ahead counts as free space, s (0: off;
    it raises speeds in dense crowds above Weidmann's, docs/model.md)."""
    narrow_width: float = 1.6
    """Clear width below which a passage is a constriction (zipper rules), m."""
    narrow_band: float = 0.5
    """In a constriction, a person ahead blocks only within this share of the two radii."""
    narrow_time_gap: float = 0.35
    """Time gap in a constriction, s."""
    stairs: str = "walked"
    """How stairs are crossed: "walked" (people walk the flight with this model, queues form
    at its entry) or "queue" (a fast link: a width-capped boarding rate and a fixed walking
    time, nobody interacts on the flight)."""
    stair_time_gap: float = 1.4
    """Time gap on a walked stair, s (people keep a tread or two between them; calibrated
    to SFPE's largest specific flow on stairs, docs/model.md)."""


@dataclass(frozen=True, kw_only=True)
class Group:
    """A population placed in one area at the start."""

    id: str
    floor: int
    area: Polygon
    count: int
    speed_mean: float = 1.34
    speed_sd: float = 0.26
    speed_min: float = 0.3
    speed_max: float = 2.5
    premovement_min: float = 0.0
    premovement_max: float = 0.0
    radius: float = 0.2
    exit: int | None = None
    """Index of the assigned exit, or None to use :attr:`exit_choice`."""
    exit_choice: str = "quickest"


@dataclass(frozen=True, kw_only=True)
class Event:
    """Something that happens at a set time: an exit closes or opens."""

    time: float
    action: str
    exit: int


@dataclass(frozen=True, kw_only=True)
class PlanStep:
    """One step of a digitised plan (预案): who must do what within how long."""

    id: str
    role: str
    """Who is responsible (free text, e.g. "现场指挥")."""
    action: str
    """One of :data:`PLAN_ACTIONS`."""
    within: float
    """Deadline, s after :attr:`after`."""
    after: str = "alarm"
    """The moment the deadline counts from: "alarm" or "start" (t = 0)."""
    text: str = ""
    floor: str | None = None
    """For ``floor_clear``: the floor id (None: every floor)."""
    zone: str | None = None
    """For ``zone_clear``: the zone (group) id."""
    fraction: float = 1.0
    """For ``evacuated``: the share of the occupants that must be out."""


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A validated scenario: a scene, populations, settings and timed events."""

    name: str
    scene: Scene
    groups: tuple[Group, ...]
    settings: Settings = field(default_factory=Settings)
    model: ModelParams = field(default_factory=ModelParams)
    events: tuple[Event, ...] = ()
    source: str = "<scenario>"
    """Where the scenario came from (file path or built-in name), for messages."""
    plan: tuple[PlanStep, ...] = ()
    """The digitised plan (``[[plan]]``), checked by the drill report."""


def builtin_names() -> list[str]:
    """Names of the scenarios shipped in ``assets/``."""
    return sorted(p.stem for p in ASSETS.glob("*.toml"))


def load(name_or_path: str | Path) -> Scenario:
    """Load a built-in scenario by name, or a scenario file by path."""
    p = Path(name_or_path)
    if p.suffix.lower() != ".toml" and not p.exists():
        candidate = ASSETS / f"{name_or_path}.toml"
        if not candidate.exists():
            known = ", ".join(builtin_names()) or "none"
            raise ScenarioError(
                f"no such file, and not a built-in scenario (built-in: {known})",
                source=str(name_or_path),
            )
        p = candidate
    return load_file(p)


def load_file(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file."""
    src = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError("file not found", source=src) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read file ({exc})", source=src) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"malformed TOML: {exc}", source=src) from None
    return parse(data, source=src)


# --------------------------------------------------------------------------- field reading


class _Table:
    """A TOML table being read: remembers its path and which keys were used."""

    def __init__(self, data: Any, path: str, source: str):
        self.path, self.source = path, source
        if not isinstance(data, dict):
            self.fail(f"must be a table, got {_kind(data)}")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, message: str, key: str | None = None) -> None:
        raise ScenarioError(message, source=self.source, field=self.at(key) if key else self.path)

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                self.fail("is required", key)
            return default
        return self.data[key]

    def string(self, key: str, default: Any = ...) -> str:
        v = self.raw(key, default)
        if not isinstance(v, str) or not v:
            self.fail(f"must be a non-empty string, got {_kind(v)}", key)
        return v

    def number(
        self, key: str, default: Any = ..., *, lo: float | None = None, hi: float | None = None,
        lo_open: bool = False,
    ) -> float:
        v = self.raw(key, default)
        if isinstance(v, bool) or not isinstance(v, int | float) or not _finite(v):
            self.fail(f"must be a finite number, got {_kind(v)}", key)
        if lo is not None and (v < lo or (lo_open and v == lo)):
            self.fail(f"must be {'>' if lo_open else '>='} {lo:g}, got {v:g}", key)
        if hi is not None and v > hi:
            self.fail(f"must be <= {hi:g}, got {v:g}", key)
        return float(v)

    def integer(self, key: str, default: Any = ..., *, lo: int | None = None) -> int:
        v = self.raw(key, default)
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(f"must be an integer, got {_kind(v)}", key)
        if lo is not None and v < lo:
            self.fail(f"must be >= {lo}, got {v}", key)
        return int(v)

    def boolean(self, key: str, default: Any = ...) -> bool:
        v = self.raw(key, default)
        if not isinstance(v, bool):
            self.fail(f"must be true or false, got {_kind(v)}", key)
        return v

    def choice(self, key: str, options: tuple[str, ...], default: Any = ...) -> str:
        v = self.raw(key, default)
        if v not in options:
            self.fail(f"must be one of {', '.join(options)}; got {v!r}", key)
        return v

    def table(self, key: str, default: Any = ...) -> _Table:
        return _Table(self.raw(key, default), self.at(key), self.source)

    def tables(self, key: str) -> list[_Table]:
        v = self.raw(key, [])
        if not isinstance(v, list):
            self.fail(f"must be an array of tables ([[{key}]]), got {_kind(v)}", key)
        return [_Table(item, f"{self.at(key)}[{i}]", self.source) for i, item in enumerate(v)]

    def points(self, key: str, n_min: int) -> list[tuple[float, float]]:
        v = self.raw(key)
        ok = isinstance(v, list) and all(
            isinstance(p, list)
            and len(p) == 2
            and all(isinstance(c, int | float) and not isinstance(c, bool) for c in p)
            and all(_finite(c) for c in p)
            for p in v
        )
        if not ok:
            self.fail("must be a list of [x, y] number pairs (metres)", key)
        if any(abs(c) > MAX_COORDINATE for p in v for c in p):
            self.fail(f"coordinates must lie within ±{MAX_COORDINATE:g} m", key)
        if len(v) < n_min:
            self.fail(f"needs at least {n_min} points, got {len(v)}", key)
        return [(float(x), float(y)) for x, y in v]

    def polygon(self, key: str) -> Polygon:
        return _valid_polygon(self.points(key, 3), self, key)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            self.fail(f"unknown key '{unknown[0]}'", unknown[0])


def _finite(v: float) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:  # an int too large for a float
        return False


def _kind(v: Any) -> str:
    if isinstance(v, str):
        return f"'{v}'"
    if isinstance(v, bool | int | float):
        return repr(v)
    return type(v).__name__


def _valid_polygon(pts: list[tuple[float, float]], t: _Table, key: str) -> Polygon:
    rel = np.asarray(pts) - pts[0]
    ref = rel[np.argmax(np.hypot(rel[:, 0], rel[:, 1]))]
    if np.all(np.abs(rel[:, 0] * ref[1] - rel[:, 1] * ref[0]) < 1e-12):
        t.fail("polygon has no area: its points lie on one line", key)
    poly = Polygon(pts)
    if not poly.is_valid:
        reason = shapely.is_valid_reason(poly)
        if "Self-intersection" in reason or "Ring Self-intersection" in reason:
            t.fail(f"polygon is self-intersecting ({reason})", key)
        t.fail(f"invalid polygon ({reason})", key)
    if poly.area <= 0:
        t.fail("polygon has no area", key)
    return poly


# --------------------------------------------------------------------------- the document

_TOP_KEYS_SCENE = ("floors", "exits", "stairs")


def parse(data: dict[str, Any], *, source: str = "<scenario>") -> Scenario:
    """Validate a scenario already read from TOML into a :class:`Scenario`."""
    top = _Table(data, "", source)
    version = top.integer("version", FORMAT_VERSION, lo=1)
    if version > FORMAT_VERSION:
        top.fail(
            f"scenario format version {version} is newer than this program reads "
            f"(version {FORMAT_VERSION})",
            "version",
        )
    name = top.string("name")
    top.raw("description", "")
    sim_table = top.table("simulation", {})
    settings = _settings(sim_table, Settings().max_time)
    model = _model(top.table("model", {}))
    built = None
    if top.has("scene"):
        scene_name = top.string("scene")
        params = top.table("scene_params", {})
        for key in _TOP_KEYS_SCENE:
            if top.has(key):
                top.fail(f"cannot be given together with scene = '{scene_name}'", key)
        built = _builtin_scene(scene_name, params, top)
        scene = dataclasses.replace(built.scene, name=name,
                                    measures=_measures(top, built.scene.floors))
    else:
        scene = _scene(name, top)
    if built is not None and not sim_table.has("max_time"):
        settings = dataclasses.replace(settings, max_time=built.max_time)
    groups = tuple(
        _group(i, t, scene, settings) for i, t in enumerate(top.tables("groups"))
    )
    if not groups and built is not None:
        groups = tuple(dataclasses.replace(g, exit_choice=settings.exit_choice)
                       if g.exit is None else g for g in built.groups)
    if not groups:
        top.fail("a scenario needs at least one [[groups]] entry", "groups")
    ids = [g.id for g in groups]
    _no_duplicates(ids, top, "groups")
    events = tuple(_event(t, scene) for t in top.tables("events"))
    plan = tuple(_plan_step(i, t, scene, ids) for i, t in enumerate(top.tables("plan")))
    _no_duplicates([p.id for p in plan], top, "plan")
    # A drill file's own tables: [drill] (its description for the report, checked here,
    # and a served drill's options) and [[injects]] (a served drill's timeline); both are
    # read by net/script.py for `drill serve` and are not part of the simulation.
    drill = top.raw("drill", {})
    if not isinstance(drill, dict):
        top.fail("must be a table ([drill])", "drill")
    parse_cover(drill, source)
    top.raw("injects", [])
    top.done()
    return Scenario(
        name=name,
        scene=scene,
        groups=groups,
        settings=settings,
        model=model,
        events=tuple(sorted(events, key=lambda e: e.time)),
        source=source,
        plan=plan,
    )


def _settings(t: _Table, max_time: float) -> Settings:
    d = Settings()
    s = Settings(
        dt=t.number("dt", d.dt, lo=0.001, hi=0.1),
        max_time=t.number("max_time", max_time, lo=0, lo_open=True),
        seed=t.integer("seed", d.seed, lo=0),
        cell_size=t.number("cell_size", d.cell_size, lo=0.02, hi=0.2),
        exit_choice=t.choice("exit_choice", ("nearest", "quickest"), d.exit_choice),
        trajectory_every=t.integer("trajectory_every", d.trajectory_every, lo=1),
    )
    t.done()
    return s


def _model(t: _Table) -> ModelParams:
    d = ModelParams()
    m = ModelParams(
        time_gap=t.number("time_gap", d.time_gap, lo=0.1, hi=10),
        neighbour_strength=t.number("neighbour_strength", d.neighbour_strength, lo=0),
        neighbour_range=t.number("neighbour_range", d.neighbour_range, lo=0.001, hi=2),
        wall_strength=t.number("wall_strength", d.wall_strength, lo=0),
        wall_range=t.number("wall_range", d.wall_range, lo=0.001, hi=2),
        evasion_strength=t.number("evasion_strength", d.evasion_strength, lo=0, hi=20),
        evasion_range=t.number("evasion_range", d.evasion_range, lo=0.01, hi=5),
        keep_side=t.choice("keep_side", ("right", "left"), d.keep_side),
        anticipation=t.number("anticipation", d.anticipation, lo=0, hi=2),
        narrow_width=t.number("narrow_width", d.narrow_width, lo=0, hi=10),
        narrow_band=t.number("narrow_band", d.narrow_band, lo=0.1, hi=1),
        narrow_time_gap=t.number("narrow_time_gap", d.narrow_time_gap, lo=0.1, hi=10),
        stairs=t.choice("stairs", ("walked", "queue"), d.stairs),
        stair_time_gap=t.number("stair_time_gap", d.stair_time_gap, lo=0.1, hi=10),
    )
    t.done()
    return m


def _builtin_scene(name: str, params: _Table, top: _Table) -> Built:
    from sim.scenes import builtin

    try:
        build = builtin.builders()[name]
    except KeyError:
        known = ", ".join(sorted(builtin.BUILDERS)) or "none yet"
        top.fail(f"unknown built-in scene '{name}' (known: {known})", "scene")
    kwargs = dict(params.data)
    params.used.update(kwargs)
    known_params = list(inspect.signature(build).parameters)
    for key in kwargs:
        if key not in known_params:
            params.fail(f"unknown parameter '{key}' of scene '{name}' "
                        f"(known: {', '.join(known_params)})", key)
    try:
        return build(**kwargs)
    except TypeError as exc:
        params.fail(f"{exc}".replace(f"{build.__name__}() ", ""))
    except ScenarioError as exc:
        field = f"scene_params.{exc.field}" if exc.field else "scene_params"
        raise ScenarioError(exc.reason, source=top.source, field=field) from None


def _no_duplicates(ids: list[str], t: _Table, key: str) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            t.fail(f"duplicate id '{x}'", f"{key}[{i}].id")
        seen.add(x)


def _floor_ref(t: _Table, floors: tuple[Floor, ...] | list[Floor]) -> int:
    ids = [f.id for f in floors]
    if not t.has("floor") and len(ids) == 1:
        t.raw("floor", None)
        return 0
    fid = t.raw("floor")
    if not isinstance(fid, str) or fid not in ids:
        t.fail(f"no floor with id {_kind(fid)} (floors: {', '.join(ids)})", "floor")
    return ids.index(fid)


def _scene(name: str, top: _Table) -> Scene:
    floors: list[Floor] = []
    for t in top.tables("floors"):
        walkable = t.polygon("walkable")
        obstacles = []
        raw = t.raw("obstacles", [])
        if not isinstance(raw, list):
            t.fail("must be a list of polygons", "obstacles")
        for j in range(len(raw)):
            sub = _Table({"p": raw[j]}, t.at(f"obstacles[{j}]"), t.source)
            obstacles.append(_valid_polygon(sub.points("p", 3), sub, None))  # type: ignore[arg-type]
        zones = []
        for zt in t.tables("zones"):
            zones.append(SpeedZone(
                polygon=zt.polygon("polygon"),
                factor=zt.number("factor", lo=0.05, hi=1.0),
                reason=zt.string("reason", "slow"),
            ))
            zt.done()
        floor = Floor(
            id=t.string("id"), elevation=t.number("elevation", 0.0), walkable=walkable,
            obstacles=tuple(obstacles), zones=tuple(zones),
        )
        if floor.area.is_empty or floor.area.area <= 0:
            t.fail("the obstacles cover the whole walkable area", "obstacles")
        t.done()
        floors.append(floor)
    if not floors:
        top.fail("a scenario needs at least one [[floors]] entry (or scene = \"name\")", "floors")
    _no_duplicates([f.id for f in floors], top, "floors")

    exits: list[Exit] = []
    for t in top.tables("exits"):
        eid = t.string("id")
        fi = _floor_ref(t, floors)
        poly = t.polygon("polygon")
        inside = shapely.intersection(poly, floors[fi].area).area
        if inside <= 1e-9:
            on_other = [f.id for f in floors if shapely.intersection(poly, f.area).area > 1e-9]
            hint = f" (it overlaps floor '{on_other[0]}')" if on_other else " or any floor"
            t.fail(f"exit '{eid}' lies outside the walkable area of floor "
                   f"'{floors[fi].id}'{hint}", "polygon")
        rect = shapely.minimum_rotated_rectangle(poly)
        xy = shapely.get_coordinates(rect)[:4]
        sides = [math.dist(xy[k], xy[(k + 1) % 4]) for k in range(2)]
        width = t.number("width", max(sides), lo=0, lo_open=True)
        exits.append(Exit(id=eid, floor=fi, polygon=poly, width=width,
                          open=t.boolean("open", True),
                          kind=t.choice("kind", EXIT_KINDS, "exit")))
        t.done()
    if not exits:
        top.fail("a scenario needs at least one [[exits]] entry", "exits")
    _no_duplicates([e.id for e in exits], top, "exits")

    stairs = [_stair(t, floors) for t in top.tables("stairs")]
    _no_duplicates([st.id for st in stairs], top, "stairs")
    return Scene(name=name, floors=tuple(floors), exits=tuple(exits),
                 measures=_measures(top, floors), stairs=tuple(stairs))


def _measures(top: _Table, floors: tuple[Floor, ...] | list[Floor]) -> tuple[Measure, ...]:
    measures: list[Measure] = []
    for t in top.tables("measure"):
        mid = t.string("id")
        fi = _floor_ref(t, floors)
        line = LineString(t.points("line", 2))
        if line.length <= 0:
            t.fail("line has zero length", "line")
        measures.append(Measure(id=mid, floor=fi, line=line))
        t.done()
    _no_duplicates([m.id for m in measures], top, "measure")
    return tuple(measures)


def _stair(t: _Table, floors: list[Floor]) -> Stair:
    ends = []
    for key in ("from", "to"):
        et = t.table(key)
        fi = _floor_ref(et, floors)
        area = et.polygon("area")
        inside = shapely.intersection(area, floors[fi].area).area
        if inside < 0.99 * area.area:
            et.fail(f"stair end lies outside the walkable area of floor '{floors[fi].id}' "
                    f"({area.area - inside:.2f} m² outside)", "area")
        et.done()
        ends.append((fi, area))
    if ends[0][0] == ends[1][0]:
        t.fail("a stair must link two different floors", "to.floor")
    kind = t.choice("kind", STAIR_KINDS, "stair")
    d = Stair(id="", floors=(0, 1), areas=(ends[0][1], ends[1][1]), length=1, width=1)
    st = Stair(
        id=t.string("id"), floors=(ends[0][0], ends[1][0]), areas=(ends[0][1], ends[1][1]),
        length=t.number("length", lo=0.5, hi=5000), width=t.number("width", lo=0.5, hi=20),
        kind=kind,
        speed_down=t.number("speed_down", d.speed_down, lo=0.05, hi=1.5),
        speed_up=t.number("speed_up", d.speed_up, lo=0.05, hi=1.5),
    )
    t.done()
    return st


def _group(i: int, t: _Table, scene: Scene, settings: Settings) -> Group:
    fi = _floor_ref(t, scene.floors)
    floor = scene.floors[fi]
    area = t.polygon("area")
    outside = shapely.difference(area, floor.walkable).area
    if outside > 1e-6 * max(area.area, 1e-9):
        t.fail(f"area lies outside the walkable area of floor '{floor.id}' "
               f"({outside:.2f} m² of {area.area:.2f} m² outside)", "area")
    count = t.integer("count", lo=1)
    d = Group(id="", floor=0, area=area, count=1)
    speed = t.table("speed", {})
    mean = speed.number("mean", d.speed_mean, lo=0, lo_open=True)
    sd = speed.number("sd", d.speed_sd, lo=0)
    vmin = speed.number("min", d.speed_min, lo=0, lo_open=True)
    vmax = speed.number("max", d.speed_max, lo=0, lo_open=True, hi=10)
    if vmin > vmax:
        speed.fail(f"min ({vmin:g}) is greater than max ({vmax:g})", "min")
    speed.done()
    pre = t.table("premovement", {})
    pmin = pre.number("min", d.premovement_min, lo=0)
    pmax = pre.number("max", d.premovement_max, lo=0)
    if pmin > pmax:
        pre.fail(f"min ({pmin:g}) is greater than max ({pmax:g})", "min")
    pre.done()
    radius = t.number("radius", d.radius, lo=0.05, hi=1.0)
    exit_idx = None
    if t.has("exit"):
        eid = t.string("exit")
        try:
            exit_idx = scene.exit_index(eid)
        except KeyError:
            known = ", ".join(e.id for e in scene.exits)
            t.fail(f"no exit with id '{eid}' (exits: {known})", "exit")
    choice = t.choice("exit_choice", EXIT_CHOICES,
                      "assigned" if exit_idx is not None else settings.exit_choice)
    if choice == "assigned" and exit_idx is None:
        t.fail("exit_choice = 'assigned' needs an exit = \"ID\"", "exit_choice")
    g = Group(
        id=t.string("id", f"group{i}"), floor=fi, area=area, count=count,
        speed_mean=mean, speed_sd=sd, speed_min=vmin, speed_max=vmax,
        premovement_min=pmin, premovement_max=pmax, radius=radius,
        exit=exit_idx, exit_choice=choice,
    )
    t.done()
    return g


def _event(t: _Table, scene: Scene) -> Event:
    time = t.number("time", lo=0)
    action = t.choice("action", EVENT_ACTIONS)
    eid = t.string("exit")
    try:
        idx = scene.exit_index(eid)
    except KeyError:
        t.fail(f"no exit with id '{eid}' (exits: {', '.join(e.id for e in scene.exits)})", "exit")
    t.done()
    return Event(time=time, action=action, exit=idx)


def _plan_step(i: int, t: _Table, scene: Scene, groups: list[str]) -> PlanStep:
    action = t.choice("action", PLAN_ACTIONS)
    floor = zone = None
    if action == "floor_clear" and t.has("floor"):
        fid = t.string("floor")
        if fid not in [f.id for f in scene.floors]:
            t.fail(f"no floor with id '{fid}' (floors: "
                   f"{', '.join(f.id for f in scene.floors)})", "floor")
        floor = fid
    if action == "zone_clear":
        zone = t.string("zone")
        if zone not in groups:
            t.fail(f"no zone (group) '{zone}' (zones: {', '.join(groups)})", "zone")
    fraction = t.number("fraction", 1.0, lo=0, lo_open=True, hi=1.0) \
        if action == "evacuated" else 1.0
    step = PlanStep(id=t.string("id", f"P{i + 1}"), role=t.string("role", "—"), action=action,
                    within=t.number("within", lo=0), after=t.choice("after", PLAN_AFTER, "alarm"),
                    text=t.string("text", action), floor=floor, zone=zone, fraction=fraction)
    t.done()
    return step
