"""商场 — a shopping mall: shops along a mall street round a central atrium.

See :func:`mall` and ``docs/scenes.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Polygon

from sim.errors import ScenarioError
from sim.scenario import Group
from sim.scenes.builtin import Built, register
from sim.scenes.kit import (
    WALL,
    WORLD,
    Core,
    Frame,
    check_bool,
    check_float,
    check_int,
    check_seed,
    dogleg_core,
    dogleg_length,
    flight_run,
    rect,
    split_widths,
)
from sim.scenes.model import Exit, Floor, Scene, Stair

__all__ = ["DENSITY", "mall"]

STOREY = 5.0
"""Storey height, m (typical for retail floors)."""
DENSITY = (0.43, 0.43, 0.39, 0.30)
"""Design occupant density of the sales floor by storey (1F, 2F, 3F, 4F+), persons/m²: the
lower values of GB 50016-2014 Table 5.5.21-2 (地上第一、二层 0.43–0.60, 第三层 0.39–0.54,
第四层及以上 0.30–0.42)."""
DENSITY_HIGH = (0.60, 0.60, 0.54, 0.42)
"""The upper values of the same table."""
STREET = 5.0
"""Width of the mall street (corridor) along the atrium, m."""
SHOP_WIDTH = (6.0, 12.0)
"""Shop frontage, drawn uniformly, m."""
MIN_GAP = 5.0
"""Smallest run of shops between two entrance or stair slots, m."""
ROOM_ONE_DOOR = 120.0
"""A shop larger than this (m²) gets two doors (GB 50016-2014 §5.5.15)."""
SHOP_DOOR, SHOP_DOORS2 = 2.0, 1.6
"""Shop door widths (one door; each of two doors), m: >= 1.4 m in crowded places (GB
50016-2014 §5.5.19)."""
RISER, TREAD = 0.16, 0.28
"""Stair steps for shops, m (GB 50352-2019 §6.8.10: tread >= 0.28, riser <= 0.16)."""
STAIR_MIN, STAIR_MAX = 1.4, 3.0
"""Range of flight widths built, m."""
ENTRANCE_MIN, ENTRANCE_MAX = 2.4, 3.6
"""Range of public entrance door widths (one or two pairs of double doors), m."""
ESCALATOR_ANGLE = 30.0
"""Escalator inclination, degrees."""
ESCALATOR_WIDTH = 1.0
"""Step width (clear width) of an escalator, m; 1.6 m overall with balustrades."""
PREMOVEMENT = (30.0, 120.0)
"""Pre-movement of shoppers, s."""
SHOPPER = {"speed_mean": 1.34, "speed_sd": 0.26, "speed_min": 0.5, "speed_max": 2.0,
           "radius": 0.2}


@dataclass
class _FloorParts:
    obstacles: list[Polygon] = field(default_factory=list)
    shops: list[Polygon] = field(default_factory=list)
    cores: list[Core] = field(default_factory=list)
    exits: list[Exit] = field(default_factory=list)


@dataclass(frozen=True)
class _Slot:
    kind: str  # "core" or "entrance"
    a: float  # start along the facade
    width: float


def _per100(storeys: int) -> float:
    """Clear width per 100 persons, m (GB 50016-2014 Table 5.5.21-1, class I/II)."""
    return 0.65 if storeys <= 2 else 0.75 if storeys == 3 else 1.00


def _ceil(x: float, step: float = 0.1) -> float:
    return round(math.ceil(x / step - 1e-9) * step, 3)


@register("mall")
def mall(
    storeys: int = 3,
    width: float = 80.0,
    depth: float = 50.0,
    atrium: bool = True,
    exits: int = 4,
    load_factor: float = 0.7,
    seed: int = 0,
) -> Built:
    """A shopping mall (商场): shops along a mall street round a central atrium (中庭).

    Parameters (all checked; out of range raises ScenarioError naming the parameter):

    - ``storeys`` (2–4): storey height 5 m, so the top floor stays below 24 m and the
      building a multi-storey one (多层) in GB 50016-2014 terms.
    - ``width`` (50–200 m), ``depth`` (36–60 m): the outline (a 4-storey mall without
      atrium deeper than 55 m needs at least 52 m of width for its stair cores). Shops
      (a quarter of the depth deep, 9–15 m) line the long facades; between them runs the
      mall street, 5 m wide on each side of the atrium, which widens into entrance halls
      at both ends.
    - ``atrium`` (bool): a void over the middle of the street on the upper floors (walkable
      court on the ground floor) with two escalators per storey; ``False`` fills it with
      an island of shops on every floor and no escalators.
    - ``exits`` (4 up to what the facades hold): public entrances (出入口) on the ground
      floor: one at each end of the mall street, the rest through the shop rows. Each
      stair core also discharges through its own street door, so the ground floor has
      ``exits`` + the number of cores exits to the street. Door widths: the GB 50016-2014
      §5.5.21 requirement for the ground floor (its design occupancy x 0.65/0.75/1.00 m
      per 100 persons for 1–2/3/4+ storeys) less the stair doors, shared by the entrances,
      kept within 2.4–3.6 m (double doors; >= 1.4 m in crowded places, §5.5.19).
    - ``load_factor`` (0.05–1.4): the share of the design occupant density present at the
      drill. The design density is the lower value of GB 50016-2014 Table 5.5.21-2 for the
      storey — 0.43 persons/m² on 1F and 2F, 0.39 on 3F, 0.30 on 4F — applied to the net
      shop and mall-street area; 1.4 reaches the upper values (0.60/0.54/0.42). The
      default 0.7 is an ordinary busy day and keeps the default run under 3000 agents.
    - ``seed``: shop frontages (6–12 m) are drawn with ``numpy.random.default_rng(seed)``.

    Stair cores: enclosed dog-leg stairs (封闭楼梯间) in the shop rows, one per 40 m of
    each long facade (more if the flights would be too wide for the shop depth), the floor
    landing at the shop front with a door onto the mall street, the flights running to the
    facade. Beside each runs a passage that on the ground floor joins the landing to a
    street door (the stair discharges directly outside); upstairs it is a store room.
    Flight width: the largest upper-floor design
    occupancy (gross floor area x the table's density, as GB 50016-2014 §5.5.21 counts
    it) x the width per 100 persons, shared by the cores, rounded up to 0.1 m and kept
    within 1.4–3.0 m; risers <= 0.16 m, treads 0.28 m. Escalators do not count as escape
    routes in the code, but stopped ones are walked like stairs, so they are modelled
    (``kind="escalator"``, 30°, 1.0 m steps). Shops over 120 m² have two doors (§5.5.15).

    Population: one group per shop and one for the mall street of each floor, speeds of
    adults (1.34 ± 0.26 m/s, Weidmann 1993), radius 0.2 m. Pre-movement 30–120 s, uniform:
    awake occupants unfamiliar with the building (BS PD 7974-6 category B, shops) with a
    voice alarm and trained staff start within about half a minute to two minutes.
    """
    storeys = check_int("storeys", storeys, 2, 4)
    W = check_float("width", width, 50.0, 200.0)
    D = check_float("depth", depth, 36.0, 60.0)
    atrium = check_bool("atrium", atrium)
    lf = check_float("load_factor", load_factor, 0.05, 1.4)
    check_seed(seed)
    rng = np.random.default_rng(seed)

    lay = _layout(W, D, storeys, atrium, 4)
    if lay is None:  # only narrow, deep 4-storey malls without atrium
        w_min = next(x for x in range(math.ceil(W), 201)
                     if _layout(float(x), D, storeys, atrium, 4))
        raise ScenarioError(
            f"must be between {w_min} and 200 for depth {D:g} m, {storeys} storeys and "
            f"atrium = {atrium} (room for the stair cores), got {W:g}", field="width")
    n_max = 4
    while n_max < 12 and _layout(W, D, storeys, atrium, n_max + 1):
        n_max += 1
    n_exits = check_int("exits", exits, 4, n_max, f"for width {W:g} m")
    lay = _layout(W, D, storeys, atrium, n_exits)
    band, w, door, slots = lay.band, lay.stair, lay.door, lay.slots
    void = lay.void
    _, run = flight_run(STOREY, RISER, TREAD)
    landing = w + 0.6

    frames = {"S": Frame((0.0, 0.0), (1, 0), (0, 1)), "N": Frame((0.0, D), (1, 0), (0, -1))}
    esc = _escalators(void, storeys) if atrium else None
    floors, groups, floor_cores = [], [], []
    exit_list: list[Exit] = []
    for k in range(storeys):
        fid = f"{k + 1}F"
        parts = _FloorParts()
        for side, frame in frames.items():
            _band(parts, rng, frame, side, W, band, slots[side], k, w, landing, run, door)
        if atrium:
            if k == 0:
                parts.obstacles += esc["bodies"]
            else:
                parts.obstacles.append(shapely.difference(void, shapely.union_all(
                    esc["tongues"][k])))
        else:
            _island(parts, rng, void)
        if k == 0:
            ym = D / 2
            parts.exits += [
                Exit(id="west-entrance", floor=0, width=door,
                     polygon=rect(0, ym - door / 2, 0.4, ym + door / 2)),
                Exit(id="east-entrance", floor=0, width=door,
                     polygon=rect(W - 0.4, ym - door / 2, W, ym + door / 2)),
            ]
        floor = Floor(id=fid, elevation=k * STOREY, walkable=rect(0, 0, W, D),
                      obstacles=tuple(parts.obstacles))
        floors.append(floor)
        exit_list += parts.exits
        floor_cores.append(parts.cores)
        # Population
        dens = DENSITY[min(k, 3)] * lf
        for i, shop in enumerate(parts.shops):
            n = round(shop.area * dens)
            if n > 0:
                groups.append(Group(id=f"{fid}-shop{i + 1:02d}", floor=k, area=shop, count=n,
                                    premovement_min=PREMOVEMENT[0],
                                    premovement_max=PREMOVEMENT[1], **SHOPPER))
        street = shapely.intersection(rect(0, band, W, D - band), floor.area)
        n = round(street.area * dens)
        if n > 0:
            groups.append(Group(id=f"{fid}-street", floor=k, area=street, count=n,
                                premovement_min=PREMOVEMENT[0], premovement_max=PREMOVEMENT[1],
                                **SHOPPER))
    length = round(dogleg_length(STOREY, w, RISER, TREAD), 2)
    stairs = []
    for k in range(1, storeys):
        for c in range(len(floor_cores[k])):
            stairs.append(Stair(id=f"stair{c + 1}-{k + 1}F", floors=(k, k - 1),
                                areas=(floor_cores[k][c].down, floor_cores[k - 1][c].arrive),
                                length=length, width=w, kind="stair"))
    if atrium:
        esc_len = round(STOREY / math.sin(math.radians(ESCALATOR_ANGLE)) + 2.0, 2)
        for k in range(1, storeys):
            for b, (upper, lower) in enumerate(esc["areas"]):
                stairs.append(Stair(id=f"escalator{b + 1}-{k + 1}F", floors=(k, k - 1),
                                    areas=(upper, lower), length=esc_len,
                                    width=ESCALATOR_WIDTH, kind="escalator"))
    scene = Scene(name="mall", floors=tuple(floors), exits=tuple(exit_list),
                  stairs=tuple(stairs))
    return Built(scene=scene, groups=tuple(groups), max_time=600.0 + 150.0 * storeys)


@dataclass(frozen=True)
class _Layout:
    band: float
    """Depth of the shop rows along the long facades, m."""
    void: Polygon
    """The atrium (or the island of shops), m."""
    stair: float
    """Flight width, m."""
    door: float
    """Public entrance door width, m."""
    slots: dict[str, list[_Slot]]


def _layout(W: float, D: float, storeys: int, atrium: bool, n_exits: int) -> _Layout | None:
    """Sizes and slots of a mall, or None if its cores and entrances do not fit."""
    band = min(15.0, max(9.0, 0.25 * D))
    end = min(20.0, max(8.0, 0.15 * W))
    void = rect(end, band + STREET, W - end, D - band - STREET)
    void_area = void.area if atrium else 0.0
    # Stair width from the fullest upper floor at design density (gross area, GB 50016).
    design = [DENSITY[min(k, 3)] * (W * D - (void_area if k else 0.0)) for k in range(storeys)]
    need = max(design[1:]) / 100 * _per100(storeys)
    _, run = flight_run(STOREY, RISER, TREAD)
    # A core runs from the shop front to the facade: landing (w + 0.6), run, half landing.
    w_fit = min(STAIR_MAX, math.floor((band - WALL - 0.6 - run) / 2 * 10) / 10)
    per_side = max(1, round(W / 40.0))
    while need / (2 * per_side) > w_fit:
        per_side += 1
    w = max(STAIR_MIN, _ceil(need / (2 * per_side)))
    # Entrance doors: the ground floor's requirement less the stair doors, shared.
    door = _ceil((design[0] / 100 * _per100(storeys) - 2 * per_side * w) / n_exits)
    door = min(ENTRANCE_MAX, max(ENTRANCE_MIN, door))
    slots = _slots(W, per_side, n_exits, 3 * WALL + w + 2 * w + 0.2, _entrance_slot(door))
    return None if slots is None else _Layout(band=band, void=void, stair=w, door=door,
                                              slots=slots)


def _entrance_slot(door: float) -> float:
    return 2 * WALL + door + 1.0


def _slots(W: float, per_side: int, n_exits: int, core_slot: float,
           entrance_slot: float) -> dict[str, list[_Slot]] | None:
    """Stair and entrance slots along the south and north facades, or None if they do not
    fit with at least MIN_GAP of shops between them and at the ends."""
    rest = n_exits - 2  # the two ends of the mall street have the main entrances
    out = {}
    for side, m in (("S", (rest + 1) // 2), ("N", rest // 2)):
        n = per_side + m
        # Entrances take the middle positions, cores the outer ones.
        order = sorted(range(n), key=lambda i: abs(i - (n - 1) / 2))
        kinds = ["core"] * n
        for i in order[:m]:
            kinds[i] = "entrance"
        widths = [core_slot if kind == "core" else entrance_slot for kind in kinds]
        gap = (W - sum(widths)) / (n + 1)  # shops between the slots, evenly
        if gap < MIN_GAP:
            return None
        slots, at = [], gap
        for kind, sw in zip(kinds, widths, strict=True):
            slots.append(_Slot(kind, at, sw))
            at += sw + gap
        out[side] = slots
    return out


def _band(parts: _FloorParts, rng: np.random.Generator, frame: Frame, side: str, W: float,
          band: float, slots: list[_Slot], k: int, w: float, landing: float, run: float,
          door: float) -> None:
    """One row of shops along a long facade, with its stair and entrance slots.

    A stair slot is a passage (as wide as the flights) from the mall street to a street
    door, then the stair room: its floor landing at the shop front with a door onto the
    mall street, the flights running to the facade. On the ground floor the landing also
    opens into the passage, so the stair discharges straight to the street; on the upper
    floors the passage is a store room.
    """
    t = WALL
    front = band - t  # the shop fronts: v in [front, band]
    gaps: list[tuple[float, float]] = []  # openings in the front wall (u intervals)
    at = 0.0
    for s in slots:
        _shops(parts, rng, frame, at, s.a, 0.0, front, gaps)
        a = s.a
        parts.obstacles.append(frame.box(a, 0, a + t, band))
        if s.kind == "core":
            p0, p1 = a + t, a + t + w  # the passage
            c0, c1 = p1 + t, p1 + t + 2 * w + 0.2  # the stair room
            # Core frame: u from the shop front towards the facade, v along the facade.
            corner = frame.point(c0, front)
            cf = Frame(corner, (-frame.v[0], -frame.v[1]), frame.u)
            core = dogleg_core(cf, 0.0, 0.0, c1 - c0, w, landing, run, back=front)
            parts.cores.append(core)
            gaps.append((c0 + core.door[0], c0 + core.door[1]))
            parts.obstacles += [core.flights, frame.box(c1, 0, c1 + t, band)]
            if k == 0:
                side_door = [(front - landing + 0.1, front - 0.1)]
                gaps.append((p0, p1))
                n = sum(1 for e in parts.exits if e.id.startswith(f"stair-door-{side}"))
                parts.exits.append(Exit(id=f"stair-door-{side}{n + 1}", floor=0, width=w,
                                        polygon=frame.box(p0, 0.0, p1, 0.4)))
            else:
                side_door = []
                pm = (p0 + p1) / 2
                gaps.append((pm - 0.5, pm + 0.5))
            parts.obstacles += frame.wall_v(0.0, band, p1, c0, side_door)
            at = c1 + t
        else:
            p0, p1 = a + t, a + s.width - t
            parts.obstacles.append(frame.box(p1, 0, p1 + t, band))
            pm = (p0 + p1) / 2
            if k == 0:  # an entrance passage from the street to the mall street
                gaps.append((p0, p1))
                n = sum(1 for e in parts.exits if e.id.startswith(f"entrance-{side}"))
                parts.exits.append(Exit(id=f"entrance-{side}{n + 1}", floor=0, width=door,
                                        polygon=frame.box(pm - door / 2, 0.0, pm + door / 2,
                                                          0.4)))
            else:  # above the entrance: a small shop
                gaps.append((pm - SHOP_DOORS2 / 2, pm + SHOP_DOORS2 / 2))
                parts.shops.append(frame.box(p0, 0.0, p1, front))
            at = p1 + t
    _shops(parts, rng, frame, at, W, 0.0, front, gaps)
    parts.obstacles += frame.wall_u(0.0, W, front, band, gaps)


def _shops(parts: _FloorParts, rng: np.random.Generator, frame: Frame, u0: float, u1: float,
           v0: float, v1: float, gaps: list[tuple[float, float]]) -> None:
    """Shops side by side between u0 and u1 (walls at u0 and u1 are the caller's), their
    interiors v0..v1; door openings go to ``gaps``."""
    widths = split_widths(rng, u1 - u0, *SHOP_WIDTH)
    at = u0
    for i, sw in enumerate(widths):
        s0, s1 = at, at + sw
        if i > 0:
            parts.obstacles.append(frame.box(s0 - WALL / 2, v0, s0 + WALL / 2, v1))
        i0 = s0 + (WALL / 2 if i > 0 else 0.0)
        i1 = s1 - (WALL / 2 if i < len(widths) - 1 else 0.0)
        shop = frame.box(i0, v0, i1, v1)
        parts.shops.append(shop)
        if shop.area <= ROOM_ONE_DOOR or i1 - i0 < 2 * SHOP_DOORS2 + 2.0:
            m = (i0 + i1) / 2
            d = min(SHOP_DOOR, i1 - i0 - 0.6)
            gaps.append((m - d / 2, m + d / 2))
        else:
            gaps += [(i0 + 0.5, i0 + 0.5 + SHOP_DOORS2), (i1 - 0.5 - SHOP_DOORS2, i1 - 0.5)]
        at = s1


def _island(parts: _FloorParts, rng: np.random.Generator, block: Polygon) -> None:
    """Two rows of shops back to back filling ``block``, facing the mall street."""
    x0, y0, x1, y1 = block.bounds
    ym = (y0 + y1) / 2
    t = WALL
    parts.obstacles += [rect(x0, ym - t / 2, x1, ym + t / 2),
                        rect(x0, y0, x0 + t, y1), rect(x1 - t, y0, x1, y1)]
    for frame, d in ((Frame((0.0, ym), (1, 0), (0, -1)), ym - y0),
                     (Frame((0.0, ym), (1, 0), (0, 1)), y1 - ym)):
        gaps: list[tuple[float, float]] = []
        _shops(parts, rng, frame, x0 + t, x1 - t, t / 2, d - t, gaps)
        parts.obstacles += frame.wall_u(x0 + t, x1 - t, d - t, d, gaps)


def _escalators(void: Polygon, storeys: int) -> dict:
    """Two banks of escalators in the atrium, along its north and south edges.

    The north bank runs down from west to east, the south bank from east to west; each
    storey's escalator lies above the one below it. On the upper floors the slab reaches
    into the void at the ends of each bank (landing "tongues" 1.5 m long, 1.6 m wide); on
    the ground floor the bottom escalators stand in the court.
    """
    ax0, ay0, ax1, ay1 = void.bounds
    run = STOREY / math.tan(math.radians(ESCALATOR_ANGLE))
    xs = (ax0 + ax1) / 2 - run / 2
    xe = xs + run
    ew, tl, m = 1.6, 1.5, (1.6 - ESCALATOR_WIDTH) / 2
    n_west_t, n_east_t = WORLD.box(xs - tl, ay1 - ew, xs, ay1), WORLD.box(xe, ay1 - ew, xe + tl,
                                                                          ay1)
    s_west_t, s_east_t = WORLD.box(xs - tl, ay0, xs, ay0 + ew), WORLD.box(xe, ay0, xe + tl,
                                                                          ay0 + ew)
    tongues = {k: [n_west_t, s_east_t] + ([n_east_t, s_west_t] if k <= storeys - 2 else [])
               for k in range(1, storeys)}
    areas = [
        (rect(xs - 1.2, ay1 - ew + m, xs, ay1 - m), rect(xe, ay1 - ew + m, xe + 1.2, ay1 - m)),
        (rect(xe, ay0 + m, xe + 1.2, ay0 + ew - m), rect(xs - 1.2, ay0 + m, xs, ay0 + ew - m)),
    ]
    bodies = [rect(xs, ay1 - ew, xe, ay1), rect(xs, ay0, xe, ay0 + ew)]
    return {"tongues": tongues, "areas": areas, "bodies": bodies}
