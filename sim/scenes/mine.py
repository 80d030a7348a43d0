"""矿山 — an underground mine: a main roadway, branch roadways to the working faces, two
inclined shafts to the surface and a refuge chamber.

See :func:`mine` and ``docs/scenes.md``.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

from sim.scenario import Group
from sim.scenes.builtin import Built, register
from sim.scenes.kit import check_bool, check_float, check_int, check_seed, rect
from sim.scenes.model import Exit, Floor, Scene, SpeedZone, Stair

__all__ = ["mine"]

MAIN_ANGLE = 20.0
"""Inclination of the main inclined shaft (主斜井), degrees; it sets the depth of the level."""
RETURN_ANGLE = 25.0
"""Inclination of the return-air inclined shaft (回风斜井), degrees."""
BRANCH_RATIO = 0.75
"""Branch roadway width as a share of the main roadway width (3 m for 4 m)."""
STUB = 8.0
"""Length of the shaft bottom (井底) between the roadway and the foot of an incline, m."""
FACE_DEPTH = 4.0
"""Width of the working-face area (the travelling way along the face), m."""
FACE_MAX = 40.0
"""Length of working face modelled (the end of a longwall where the crew works), m."""
CHAMBER = (20.0, 5.0)
"""Refuge chamber floor, m (about 1 m² per person for 100 miners)."""
PASSAGE = (3.0, 6.0)
"""Width and length of the connecting roadway (联络巷) to the refuge chamber, m."""
REFUGE_DOOR = 1.2
"""Clear width of the refuge chamber's protective door, m."""
YARD = (30.0, 20.0)
"""Length and width of the yard in front of each portal on the surface, m."""
GATE = 6.0
"""Width of the yard gate that leads off site (the surface exit), m."""
SLOPE_FACTOR = 0.8
"""Walking speed on the sloping branch roadways (上山/下山, about 8–12°) vs flat."""
SMOKE_FACTOR = 0.5
"""Walking speed in irritant smoke vs clear air (Jin 1978: 0.3–0.5 of normal)."""
MINER = {"speed_mean": 1.1, "speed_sd": 0.15, "speed_min": 0.5, "speed_max": 1.6,
         "radius": 0.25}
PREMOVEMENT = (30.0, 120.0)
"""Pre-movement of miners, s: hear the alarm, stop the machines, don the self-rescuer."""


@register("mine")
def mine(
    branches: int = 3,
    main_length: float = 400.0,
    roadway_width: float = 4.0,
    branch_length: float = 150.0,
    incline_length: float = 300.0,
    smoke: bool = False,
    seed: int = 0,
) -> Built:
    """An underground mine level (井下) and the surface (地面) joined by two inclined shafts.

    Parameters (all checked; out of range raises ScenarioError naming the parameter):

    - ``branches`` (1 up to ``main_length`` / 30 m, at most 8): branch roadways (采区巷道 /
      顺槽) leaving the main roadway northwards at even spacing, each ending at a working
      face (工作面, up to 40 m of it modelled, 4 m wide).
    - ``main_length`` (100–1000 m): the main roadway (大巷), east–west.
    - ``roadway_width`` (2.5–6 m): clear width of the main roadway; branch roadways are
      0.75 of it (3 m at the default 4 m).
    - ``branch_length`` (20–300 m): length of each branch roadway; they slope (上山, about
      8–12°), so they are speed zones with factor 0.8 (``reason="slope"``).
    - ``incline_length`` (100–1200 m): length of the main inclined shaft (主斜井) from the
      shaft bottom at the west end of the main roadway to its portal on the surface. At
      20° it sets the depth of the level: 300 m gives -102.6 m.
    - ``smoke`` (bool): a fire in the main roadway at 60 % of its length; with the
      ventilation running west to east (intake by the main incline, return by the east
      incline) smoke fills the roadway downstream of it: a speed zone with factor 0.5
      (``reason="smoke"``; Jin 1978: walking speed in irritant smoke 0.3–0.5 of normal).
    - ``seed``: the size of each crew is drawn with ``numpy.random.default_rng(seed)``.

    Safety exits (安全出口): 煤矿安全规程 (2016) requires every producing mine to have at
    least two walkable exits to the surface at least 30 m apart (第八十八条), with a
    walkway in inclined ones; the return-air shaft may serve as one in an emergency. Here:
    the main incline (``Stair(kind="incline")``, 4 m, walked up at 0.6 of flat speed) and
    the return-air incline at the east end (25°, branch width, 0.5 of flat speed), each
    ending in a yard on the surface whose gate is an exit. The emergency refuge system
    (紧急避险系统) is a refuge chamber (避难硐室, 20 m x 5 m) off the south side of the main
    roadway through a 6 m connecting roadway and a 1.2 m protective door: an
    ``Exit(kind="refuge")`` just inside that door.

    Population: a crew of 8–15 miners at each working face and 4–8 on the main roadway
    (radius 0.25 m with self-rescuer and lamp, 1.1 ± 0.15 m/s on the uneven floor).
    Pre-movement 30–120 s, uniform: receive the alarm, stop and secure machines and don the
    self-rescuer (自救器) — an assumption, no code gives pre-movement times for mines.
    """
    main_length = check_float("main_length", main_length, 100.0, 1000.0)
    n_max = min(8, int(main_length // 30))
    n = check_int("branches", branches, 1, n_max, f"for main_length {main_length:g} m")
    wm = check_float("roadway_width", roadway_width, 2.5, 6.0)
    lb = check_float("branch_length", branch_length, 20.0, 300.0)
    l1 = check_float("incline_length", incline_length, 100.0, 1200.0)
    smoke = check_bool("smoke", smoke)
    rng = np.random.default_rng(check_seed(seed))
    lm = main_length
    wb = round(BRANCH_RATIO * wm, 2)
    depth = round(l1 * math.sin(math.radians(MAIN_ANGLE)), 1)
    l2 = round(depth / math.sin(math.radians(RETURN_ANGLE)), 1)

    # ---- underground level
    spacing = lm / n
    face_len = min(FACE_MAX, spacing - wb - 8.0)
    xs = [lm * (i + 0.5) / n for i in range(n)]
    y_face = wm / 2 + lb
    branch_boxes = [rect(x - wb / 2, wm / 2, x + wb / 2, y_face) for x in xs]
    faces = [rect(x - wb / 2, y_face, x - wb / 2 + face_len, y_face + FACE_DEPTH) for x in xs]
    xr = 0.45 * lm
    y_door = -wm / 2 - PASSAGE[1]
    passage = rect(xr - PASSAGE[0] / 2, y_door, xr + PASSAGE[0] / 2, -wm / 2)
    chamber = rect(xr - CHAMBER[0] / 2, y_door - CHAMBER[1], xr + CHAMBER[0] / 2, y_door)
    west = rect(-STUB, -wm / 2, 0.0, wm / 2)
    east = rect(lm, -wb / 2, lm + STUB, wb / 2)
    main = rect(0.0, -wm / 2, lm, wm / 2)
    walkable = shapely.union_all([main, west, east, passage, chamber, *branch_boxes, *faces])
    half = REFUGE_DOOR / 2
    door_walls = (rect(xr - PASSAGE[0] / 2, y_door, xr - half, y_door + 0.3),
                  rect(xr + half, y_door, xr + PASSAGE[0] / 2, y_door + 0.3))
    zones = [SpeedZone(polygon=b, factor=SLOPE_FACTOR, reason="slope") for b in branch_boxes]
    if smoke:
        zones.append(SpeedZone(polygon=rect(0.6 * lm, -wm / 2, lm + STUB, wm / 2),
                               factor=SMOKE_FACTOR, reason="smoke"))
    under = Floor(id="underground", elevation=-depth, walkable=walkable, obstacles=door_walls,
                  zones=tuple(zones))

    # ---- surface: a yard at each portal, joined by the site road (a single polygon)
    xa = -STUB - l1 * math.cos(math.radians(MAIN_ANGLE))
    xb = lm + STUB + l2 * math.cos(math.radians(RETURN_ANGLE))
    yl, yw = YARD
    yard_a = rect(xa - yl, -yw / 2, xa + 2.0, yw / 2)
    yard_b = rect(xb - 2.0, -yw / 2, xb + yl, yw / 2)
    road = rect(xa + 2.0, yw / 2 - 6.0, xb - 2.0, yw / 2)  # along the north side
    surface = Floor(id="surface", elevation=0.0,
                    walkable=shapely.union_all([yard_a, road, yard_b]))

    exits = (
        Exit(id="refuge-chamber", floor=0, kind="refuge", width=REFUGE_DOOR,
             polygon=rect(xr - PASSAGE[0] / 2, y_door - 0.5, xr + PASSAGE[0] / 2, y_door)),
        Exit(id="west-gate", floor=1, width=GATE,
             polygon=rect(xa - yl, -GATE / 2, xa - yl + 0.4, GATE / 2)),
        Exit(id="east-gate", floor=1, width=GATE,
             polygon=rect(xb + yl - 0.4, -GATE / 2, xb + yl, GATE / 2)),
    )
    stairs = (
        Stair(id="main-incline", floors=(1, 0), kind="incline", length=l1, width=wm,
              areas=(rect(xa, -wm / 2, xa + 1.5, wm / 2), rect(-STUB, -wm / 2, -STUB + 1.5,
                                                               wm / 2)),
              speed_up=0.6, speed_down=0.8),
        Stair(id="return-incline", floors=(1, 0), kind="incline", length=l2, width=wb,
              areas=(rect(xb - 1.5, -wb / 2, xb, wb / 2), rect(lm + STUB - 1.5, -wb / 2,
                                                               lm + STUB, wb / 2)),
              speed_up=0.5, speed_down=0.75),
    )

    pre = {"premovement_min": PREMOVEMENT[0], "premovement_max": PREMOVEMENT[1]}
    groups = [Group(id=f"face{i + 1}", floor=0, area=f, count=int(rng.integers(8, 16)),
                    **MINER, **pre) for i, f in enumerate(faces)]
    groups.append(Group(id="haulage", floor=0, count=int(rng.integers(4, 9)),
                        area=rect(0.2 * lm, -wm / 2, 0.3 * lm, wm / 2), **MINER, **pre))

    route = face_len + lb / SLOPE_FACTOR + lm + 2 * STUB
    est = PREMOVEMENT[1] + route / MINER["speed_mean"] + l1 / (0.6 * MINER["speed_mean"])
    scene = Scene(name="mine", floors=(under, surface), exits=exits, stairs=stairs)
    return Built(scene=scene, groups=tuple(groups), max_time=100.0 * math.ceil(1.3 * est / 100))
