"""Placing a scenario's groups: positions without overlap, speeds and pre-movement times."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

from sim.agents.crowd import Choice, Crowd, State
from sim.errors import ScenarioError
from sim.scenario import Scenario

__all__ = ["lattice", "populate"]

GAP = 0.01
"""Clearance between neighbouring agents at placement, m."""
_CHOICE = {"assigned": Choice.ASSIGNED, "nearest": Choice.NEAREST, "quickest": Choice.QUICKEST}


def lattice(region: shapely.Geometry, spacing: float, rng: np.random.Generator) -> np.ndarray:
    """Points of a randomly shifted hexagonal lattice inside ``region``: (m, 2), m."""
    minx, miny, maxx, maxy = region.bounds
    dy = spacing * np.sqrt(3) / 2
    ox, oy = rng.uniform(0, spacing), rng.uniform(0, dy)
    ys = np.arange(miny - dy + oy, maxy + dy, dy)
    xs = np.arange(minx - spacing + ox, maxx + spacing, spacing)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + (np.arange(len(ys)) % 2)[:, None] * spacing / 2
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    shapely.prepare(region)
    return pts[shapely.contains_xy(region, pts[:, 0], pts[:, 1])]


def populate(scenario: Scenario, rng: np.random.Generator) -> Crowd:
    """Place every group of ``scenario`` and sample its agents' parameters."""
    scene = scenario.scene
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "pos", "floor", "radius", "v0", "premovement", "choice", "assigned", "group")}
    placed: list[tuple[int, np.ndarray, np.ndarray]] = []  # (floor, positions, radii)
    for gi, g in enumerate(scenario.groups):
        region = shapely.intersection(g.area, scene.floors[g.floor].area).buffer(-g.radius)
        pts = lattice(region, 2 * g.radius + GAP, rng) if not region.is_empty else np.zeros((0, 2))
        others = [(p, r) for f, p, r in placed if f == g.floor and len(p)]
        if others and len(pts):
            op = np.concatenate([p for p, _ in others])
            orad = np.concatenate([r for _, r in others])
            # Every earlier agent close enough to touch a new one, whatever its radius.
            pairs = cKDTree(pts).sparse_distance_matrix(
                cKDTree(op), float(orad.max()) + g.radius + GAP, output_type="ndarray")
            clash = pairs["v"] < orad[pairs["j"]] + g.radius + GAP
            keep = np.ones(len(pts), bool)
            keep[pairs["i"][clash]] = False
            pts = pts[keep]
        if len(pts) < g.count:
            raise ScenarioError(
                f"more agents than fit: {g.count} requested, at most {len(pts)} of radius "
                f"{g.radius:g} m fit in the area (after walls and other groups)",
                source=scenario.source, field=f"groups[{gi}].count",
            )
        pos = pts[np.sort(rng.choice(len(pts), size=g.count, replace=False))]
        n = g.count
        v0 = np.clip(rng.normal(g.speed_mean, g.speed_sd, n), g.speed_min, g.speed_max)
        pre = rng.uniform(g.premovement_min, g.premovement_max, n)
        radius = np.full(n, g.radius)
        placed.append((g.floor, pos, radius))
        cols["pos"].append(pos)
        cols["floor"].append(np.full(n, g.floor, np.int16))
        cols["radius"].append(radius)
        cols["v0"].append(v0)
        cols["premovement"].append(pre)
        cols["choice"].append(np.full(n, _CHOICE[g.exit_choice], np.uint8))
        cols["assigned"].append(np.full(n, -1 if g.exit is None else g.exit, np.int16))
        cols["group"].append(np.full(n, gi, np.int16))
    arrays = {k: np.concatenate(v) for k, v in cols.items()}
    n = len(arrays["v0"])
    return Crowd(
        id=np.arange(n, dtype=np.int64),
        state=np.full(n, State.WAITING, np.uint8),
        target=np.full(n, -1, np.int16),
        heading=np.zeros((n, 2)),
        speed=np.zeros(n),
        stair_end=np.full(n, -1, np.int16),
        stair_times=np.zeros((n, 2)),
        stair_pos=np.zeros((n, 2)),
        **arrays,
    )
