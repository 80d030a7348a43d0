"""学校 教学楼 — a school teaching building: classrooms on both sides of a corridor.

See :func:`school` and ``docs/scenes.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.scenario import Group
from sim.scenes.builtin import Built, register
from sim.scenes.kit import (
    WALL,
    WORLD,
    Frame,
    check_int,
    check_seed,
    dogleg_core,
    dogleg_length,
    flight_run,
    rect,
)
from sim.scenes.model import Exit, Floor, Scene, Stair

__all__ = ["school"]

STOREY = 3.9
"""Storey height, m: a classroom clear height of 3.05–3.10 m (GB 50099-2011 §7.2.1) plus
the floor structure."""
CORRIDOR = 2.7
"""Clear corridor width, m: GB 50099-2011 §8.2.3 asks >= 2.40 m for an inner corridor."""
BAY = 9.0
"""Classroom length along the corridor, partition axis to axis, m."""
SEAT_AREA = 1.39
"""Classroom area per seat, m² (GB 50099-2011 Table 7.1.1, secondary school 普通教室)."""
MIN_DEPTH = 7.2
"""Smallest classroom depth, m."""
TEACHER_ZONE = 2.0
"""Depth of the front of the room (blackboard, lectern) where the teacher stands, m."""
DOOR = 1.0
"""Classroom door, m: two per room, each >= 0.90 m clear (GB 50099-2011 §8.1.8)."""
END_DOOR = 2.4
"""Double doors at the ends of the corridor, m."""
MAIN_DOOR = 3.6
"""Main entrance doors to the playground, m."""
RISER, TREAD = 0.16, 0.28
"""Stair step limits for schools, m (GB 50099-2011 §8.7.3: tread >= 0.28, riser <= 0.16)."""
WELL = 0.1
"""Gap between the flights, m (GB 50099-2011 §8.7.5: at most 0.11 m in schools)."""
MAX_STAIR = 3.0
"""Widest flight built, m; a larger requirement should get more stairwells."""
MAX_TRAVEL = 35.0
"""Longest walk from a classroom door to a stair door along the corridor, m (GB 50016-2014
Table 5.5.17: teaching buildings, fire resistance class I/II, door between two exits)."""
PUPIL = {"speed_mean": 1.2, "speed_sd": 0.2, "speed_min": 0.6, "speed_max": 1.9,
         "radius": 0.18}
TEACHER = {"speed_mean": 1.3, "speed_sd": 0.2, "speed_min": 0.6, "speed_max": 1.9,
           "radius": 0.25}
PREMOVEMENT = (10.0, 60.0)
"""Pre-movement of drilled classes, s."""


@dataclass(frozen=True)
class _Bay:
    kind: str  # "class", "core", "office", "hall"
    x0: float
    x1: float


@dataclass(frozen=True)
class _Plan:
    length: float
    depth_south: float
    depth_north: float
    stair_width: float
    south: tuple[_Bay, ...]
    north: tuple[_Bay, ...]

    @property
    def width(self) -> float:
        return self.depth_south + 2 * WALL + CORRIDOR + self.depth_north


def _stair_width(per_floor: int, storeys: int, stairwells: int) -> float:
    """Flight width from GB 50016-2014 Table 5.5.21-1 (clear width per 100 persons: 0.65 m
    for 1–2 storeys, 0.75 m for 3, 1.00 m for 4 and more), shared by the stairwells and
    rounded up to GB 50099-2011 §8.7.2 (>= 1.2 m, in steps of 0.6 m)."""
    per100 = 0.65 if storeys <= 2 else 0.75 if storeys == 3 else 1.00
    need = per_floor / 100 * per100 / stairwells
    return min(MAX_STAIR, max(1.2, 0.6 * math.ceil(need / 0.6 - 1e-9)))


def _core_length(w: float) -> float:
    _, run = flight_run(STOREY, RISER, TREAD)
    return (w + 0.3) + run + w


def _plan(classrooms: int, stairwells: int, w: float, depth: float) -> _Plan:
    """Bays along the corridor: south row with the stair cores, north row with the hall."""
    n_s, n_n = (classrooms + 1) // 2, classrooms // 2
    core = 2 * w + WELL + WALL  # interior 2w + well between partition axes
    end_core = 2 * w + WELL + WALL / 2  # no partition on the outer wall
    # South row: core, classrooms with the middle cores among them, core.
    breaks = [round(n_s * j / (stairwells - 1)) for j in range(1, stairwells - 1)]
    kinds = ["core"]
    for i in range(n_s):
        kinds += ["core"] * breaks.count(i) + ["class"]
    kinds.append("core")
    south, x = [], 0.0
    for i, k in enumerate(kinds):
        bw = BAY if k == "class" else end_core if i in (0, len(kinds) - 1) else core
        south.append(_Bay(k, x, x + bw))
        x += bw
    length = x
    # North row: classrooms either side of the hall; offices at the ends if it is long.
    spare = length - n_n * BAY
    hall = spare if spare < BAY + 6.0 else BAY
    office = (spare - hall) / 2
    widths = ([("office", office)] if office else []) + [("class", BAY)] * (n_n // 2) + [
        ("hall", hall)] + [("class", BAY)] * (n_n - n_n // 2) + (
        [("office", office)] if office else [])
    north, x = [], 0.0
    for k, bw in widths:
        north.append(_Bay(k, x, x + bw))
        x += bw
    d_s = max(depth, math.ceil(_core_length(w) * 10 - 1e-6) / 10)
    return _Plan(length, d_s, depth, w, tuple(south), tuple(north))


def _doors(plan: _Plan) -> tuple[list[float], list[float]]:
    """x of every classroom door and every stair door along the corridor."""
    rooms, stairs = [], []
    for row in (plan.south, plan.north):
        for i, b in enumerate(row):
            if b.kind == "class":
                ix0, ix1 = _interior(b, i, len(row))
                rooms += [ix0 + 0.5 + DOOR / 2, ix1 - 0.5 - DOOR / 2]
    for i, b in enumerate(plan.south):
        if b.kind == "core":
            stairs.append(sum(_core_door_x(plan, b, i)) / 2)
    return rooms, stairs


def _interior(b: _Bay, i: int, n: int) -> tuple[float, float]:
    return (b.x0 + (WALL / 2 if i > 0 else 0.0), b.x1 - (WALL / 2 if i < n - 1 else 0.0))


def _core_frame(plan: _Plan, b: _Bay, i: int) -> tuple[Frame, float]:
    """Frame of a stair core: u runs from the corridor wall into the core (south), v across
    from the door side. The door faces the middle of the building."""
    ix0, ix1 = _interior(b, i, len(plan.south))
    if i == 0:  # west end: door on the east side
        return Frame((ix1, plan.depth_south), (0, -1), (-1, 0)), ix1 - ix0
    return Frame((ix0, plan.depth_south), (0, -1), (1, 0)), ix1 - ix0


def _core_door_x(plan: _Plan, b: _Bay, i: int) -> tuple[float, float]:
    frame, span = _core_frame(plan, b, i)
    xa = frame.point(0, 0)[0]
    xb = frame.point(0, plan.stair_width)[0]
    return (min(xa, xb), max(xa, xb))


def _max_travel(plan: _Plan) -> float:
    rooms, stairs = _doors(plan)
    return max(min(abs(r - s) for s in stairs) for r in rooms)


@register("school")
def school(
    storeys: int = 4,
    classrooms_per_floor: int = 8,
    pupils_per_class: int = 45,
    seats_per_class: int = 50,
    stairwells: int = 2,
    seed: int = 0,
) -> Built:
    """A school teaching building (教学楼): classrooms either side of an inner corridor.

    Parameters (all checked; out of range raises ScenarioError naming the parameter):

    - ``storeys`` (2–5): GB 50099-2011 §4.3.2 keeps teaching rooms of secondary schools at
      or below the 5th floor (primary schools: 4th). Storey height 3.9 m.
    - ``classrooms_per_floor`` (2 up to what the stairwells serve): classrooms 9 m along a
      2.7 m corridor (GB 50099-2011 §8.2.3: inner corridors >= 2.40 m), alternately south
      and north. The largest number is the one that keeps every classroom door within
      35 m of a stair door (GB 50016-2014 Table 5.5.17, teaching buildings).
    - ``pupils_per_class`` (1–``seats_per_class``): pupils per class; each class also has
      one teacher.
    - ``seats_per_class`` (10–65): sets the room depth at 1.39 m² per seat (GB 50099-2011
      Table 7.1.1), at least 7.2 m (9 m x 8 m for the default 50 seats, the standard
      secondary-school class; 45 for primary schools). 65 is the "super-large class" limit.
    - ``stairwells`` (2–4): enclosed dog-leg stairwells (封闭楼梯间), two at the ends of
      the south row and the others among its classrooms. GB 50016-2014 §5.5.8 asks for
      at least two exits per floor. Flights are as wide as GB 50016-2014 Table 5.5.21-1
      requires for the fullest floor (0.65/0.75/1.00 m per 100 persons for 1–2/3/4+
      storeys), rounded up to 1.2, 1.8, 2.4 or 3.0 m (GB 50099-2011 §8.7.2); risers
      <= 0.16 m, treads 0.28 m, well 0.1 m (§8.7.3, §8.7.5).
    - ``seed``: unused randomness source (the layout is regular), kept for the interface.

    Every classroom has two 1.0 m doors (GB 50099-2011 §8.1.8: two doors of >= 0.90 m).
    The ground floor has 2.4 m doors at both ends of the corridor and a 3.6 m main entrance
    from the hall (门厅) on the north side to the playground (操场); on the upper floors the
    hall bay is a staff room. Stairs discharge into the corridor within a few metres of the
    corridor-end doors (GB 50016-2014 §5.5.17: within 15 m for up to 4 storeys).

    Population: per classroom one group of pupils (radius 0.18 m, speed 1.2 ± 0.2 m/s,
    0.6–1.9) at the desks and one teacher (radius 0.25 m, 1.3 ± 0.2 m/s) at the front.
    Pre-movement 10–60 s, uniform: classes that practise drills start within a minute
    (awake, familiar occupants led by staff — BS PD 7974-6 category A; school drills
    typically show pre-movement of tens of seconds).
    """
    storeys = check_int("storeys", storeys, 2, 5)
    stairwells = check_int("stairwells", stairwells, 2, 4)
    seats = check_int("seats_per_class", seats_per_class, 10, 65)
    pupils = check_int("pupils_per_class", pupils_per_class, 1, seats, "(seats_per_class)")
    check_seed(seed)
    depth = max(MIN_DEPTH, math.ceil(seats * SEAT_AREA / (BAY - WALL) * 10 - 1e-6) / 10)

    def plan_for(n: int) -> _Plan:
        w = _stair_width(n * (pupils + 1), storeys, stairwells)
        return _plan(n, stairwells, w, depth)

    n_max = 2
    while n_max < 60 and _max_travel(plan_for(n_max + 1)) <= MAX_TRAVEL:
        n_max += 1
    n = check_int("classrooms_per_floor", classrooms_per_floor, 2, n_max,
                  f"with {stairwells} stairwells")
    plan = plan_for(n)
    return _build(plan, storeys, n, pupils)


def _build(plan: _Plan, storeys: int, n: int, pupils: int) -> Built:
    L, W = plan.length, plan.width
    ys0, ys1 = 0.0, plan.depth_south  # south rooms
    yc0, yc1 = ys1 + WALL, ys1 + WALL + CORRIDOR  # corridor
    yn0, yn1 = yc1 + WALL, W  # north rooms
    w = plan.stair_width
    _, run = flight_run(STOREY, RISER, TREAD)
    floors, exits, stairs, groups = [], [], [], []
    cores: list[list] = []  # per floor, the Core of each stairwell
    for k in range(storeys):
        fid = f"{k + 1}F"
        obstacles = []
        south_doors, north_doors = [], []
        floor_cores = []
        classroom_no = 0
        # South row
        for i, b in enumerate(plan.south):
            ix0, ix1 = _interior(b, i, len(plan.south))
            if i > 0:
                obstacles.append(rect(b.x0 - WALL / 2, ys0, b.x0 + WALL / 2, ys1))
            if b.kind == "core":
                frame, span = _core_frame(plan, b, i)
                core = dogleg_core(frame, 0.0, 0.0, span, w, w + 0.3, run, back=ys1 - ys0)
                obstacles.append(core.flights)
                floor_cores.append(core)
                south_doors.append(_core_door_x(plan, b, i))
            else:
                classroom_no += 1
                south_doors += [(ix0 + 0.5, ix0 + 0.5 + DOOR), (ix1 - 0.5 - DOOR, ix1 - 0.5)]
                groups += _class_groups(fid, k, classroom_no, ix0, ix1, ys0, ys1, pupils)
        # North row
        for i, b in enumerate(plan.north):
            ix0, ix1 = _interior(b, i, len(plan.north))
            if i > 0:
                obstacles.append(rect(b.x0 - WALL / 2, yn0, b.x0 + WALL / 2, yn1))
            if b.kind == "class":
                classroom_no += 1
                north_doors += [(ix0 + 0.5, ix0 + 0.5 + DOOR), (ix1 - 0.5 - DOOR, ix1 - 0.5)]
                groups += _class_groups(fid, k, classroom_no, ix0, ix1, yn0, yn1, pupils)
            elif b.kind == "hall" and k == 0:
                north_doors.append((ix0, ix1))  # the hall opens onto the corridor
                xm = (ix0 + ix1) / 2
                dw = min(MAIN_DOOR, ix1 - ix0 - 1.0)
                exits.append(Exit(id="main-entrance", floor=0, width=dw,
                                  polygon=rect(xm - dw / 2, yn1 - 0.4, xm + dw / 2, yn1)))
            else:  # office, or the staff room above the hall
                xm = (ix0 + ix1) / 2
                north_doors.append((xm - DOOR / 2, xm + DOOR / 2))
        obstacles += WORLD.wall_u(0.0, L, ys1, yc0, south_doors)
        obstacles += WORLD.wall_u(0.0, L, yc1, yn0, north_doors)
        if k == 0:
            ym = (yc0 + yc1) / 2
            exits.append(Exit(id="west-door", floor=0, width=END_DOOR,
                              polygon=rect(0.0, ym - END_DOOR / 2, 0.4, ym + END_DOOR / 2)))
            exits.append(Exit(id="east-door", floor=0, width=END_DOOR,
                              polygon=rect(L - 0.4, ym - END_DOOR / 2, L, ym + END_DOOR / 2)))
        floors.append(Floor(id=fid, elevation=round(k * STOREY, 3), walkable=rect(0, 0, L, W),
                            obstacles=tuple(obstacles)))
        cores.append(floor_cores)
    length = dogleg_length(STOREY, w, RISER, TREAD)
    for k in range(1, storeys):
        for c in range(len(cores[k])):
            stairs.append(Stair(
                id=f"stair{c + 1}-{k + 1}F", floors=(k, k - 1),
                areas=(cores[k][c].down, cores[k - 1][c].arrive),
                length=round(length, 2), width=w, kind="stair"))
    scene = Scene(name="school", floors=tuple(floors), exits=tuple(exits), stairs=tuple(stairs))
    return Built(scene=scene, groups=tuple(groups), max_time=600.0 + 60.0 * storeys)


def _class_groups(fid: str, k: int, no: int, ix0: float, ix1: float, y0: float, y1: float,
                  pupils: int) -> list[Group]:
    """Pupils at the desks and the teacher at the front (west end) of one classroom."""
    pre = {"premovement_min": PREMOVEMENT[0], "premovement_max": PREMOVEMENT[1]}
    return [
        Group(id=f"{fid}-C{no:02d}-pupils", floor=k, count=pupils,
              area=rect(ix0 + TEACHER_ZONE, y0, ix1, y1), **PUPIL, **pre),
        Group(id=f"{fid}-C{no:02d}-teacher", floor=k, count=1,
              area=rect(ix0, y0, ix0 + TEACHER_ZONE, y1), **TEACHER, **pre),
    ]

