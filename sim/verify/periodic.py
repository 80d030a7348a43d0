"""The crowd model on a corridor that is periodic in x: the fundamental diagram (RiMEA 4).

The engine has no periodic boundaries, so this steps the model kernel itself
(:func:`sim.agents.model.desired_velocity` and :func:`~sim.agents.model.wall_repulsion`)
on agents walking in +x in a corridor ``length`` × ``width`` m with walls at y = 0 and
y = ``width``. Neighbours come from a k-d tree that wraps x (``boxsize``); a neighbour
seen across the seam is passed to the kernel as a *ghost*, a copy shifted by ±length,
so that the kernel's ``x[neighbours] - x[:n]`` is the minimum-image distance. Everything
is vectorised over agents. The kernel gets what :meth:`sim.drill.Drill.step` gives it:
desired directions plus wall repulsion, the route-based right of way (route length falls
towards +x), and, where the kernel takes them, the last step's velocities and which
agents stand in a constriction (none: the corridor is wider than ``narrow_width``).

Density and mean speed are measured in the middle of the corridor with PedPy (classic
density and mean speed in a measurement area) when it is installed, else by the same
classic estimator here.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree
from shapely.geometry import box

from sim.agents.model import FAR, desired_velocity, wall_repulsion
from sim.agents.population import GAP, lattice
from sim.errors import ScenarioError
from sim.scenario import ModelParams

__all__ = ["FdPoint", "Speeds", "fd_point", "weidmann"]

NEIGHBOURS = 12
"""Neighbours per agent, as in :class:`sim.agents.neighbours.NeighbourList`."""
CUTOFF = 3.0
"""Neighbour search radius, m (the engine's 2 m cutoff plus its 1 m skin)."""
WEIDMANN_V0, WEIDMANN_GAMMA, WEIDMANN_JAM = 1.34, 1.913, 5.4
_KERNEL_TAKES = set(inspect.signature(desired_velocity).parameters)


def weidmann(rho: float | np.ndarray) -> float | np.ndarray:
    """Weidmann (1993): v(ρ) = 1.34 (1 − exp(−1.913 (1/ρ − 1/5.4))), m/s; ρ in persons/m²."""
    rho = np.asarray(rho, float)
    return WEIDMANN_V0 * (1 - np.exp(-WEIDMANN_GAMMA * (1 / rho - 1 / WEIDMANN_JAM)))


@dataclass(frozen=True)
class Speeds:
    """Desired speeds: normal(mean, sd) clipped to [lo, hi], m/s."""

    mean: float = 1.34
    sd: float = 0.26
    lo: float = 0.5
    hi: float = 2.0


@dataclass
class FdPoint:
    """One point of the fundamental diagram."""

    target: float
    """Density the agents were placed at, persons/m²."""
    agents: int
    density: float
    """Mean classic density in the measurement area, persons/m²."""
    speed: float
    """Mean speed in the measurement area, m/s."""
    estimator: str
    """``"pedpy"`` or ``"classic"`` (PedPy not importable)."""

    @property
    def weidmann(self) -> float:
        """Weidmann's speed at the measured density, m/s."""
        return float(weidmann(self.density))

    @property
    def deviation(self) -> float:
        """(speed − Weidmann) / Weidmann, %."""
        return 100.0 * (self.speed - self.weidmann) / self.weidmann


def fd_point(density: float, params: ModelParams, rng: np.random.Generator, *,
             length: float = 20.0, width: float = 4.0, speeds: Speeds = Speeds(),
             radius: float = 0.2, dt: float = 0.05, duration: float = 40.0,
             discard: float = 20.0) -> FdPoint:
    """Run the periodic corridor at ``density`` persons/m² and measure its middle 10 m."""
    x, y = _place(density, length, width, radius, rng)
    n = len(x)
    v0 = np.clip(rng.normal(speeds.mean, speeds.sd, n), speeds.lo, speeds.hi)
    r = np.full(n, radius)
    heading = np.tile([1.0, 0.0], (n, 1))
    velocity = np.zeros((n, 2))
    xu = x.copy()  # x unwrapped, for speeds
    steps, skip = round(duration / dt), round(discard / dt)
    keep_x, keep_xu, keep_y = [], [], []
    for k in range(steps):
        e, speed = _velocity(x, y, v0, heading, r, params, length, width, velocity)
        velocity = e * speed[:, None]
        step = velocity * dt
        xu = xu + step[:, 0]
        x = np.mod(x + step[:, 0], length)
        y = np.clip(y + step[:, 1], r, width - r)
        heading = e
        if k + 1 >= skip:
            keep_x.append(x)
            keep_xu.append(xu)
            keep_y.append(y)
    mid = (length / 2 - 5.0, length / 2 + 5.0)
    xs, xus, ys = np.stack(keep_x), np.stack(keep_xu), np.stack(keep_y)
    try:
        rho, v = _pedpy(xs, xus, ys, 1.0 / dt, mid, width)
        how = "pedpy"
    except ImportError:
        rho, v = _classic(xs, xus, ys, dt, mid, width)
        how = "classic"
    return FdPoint(target=density, agents=n, density=rho, speed=v, estimator=how)


def _place(density: float, length: float, width: float, radius: float,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random non-overlapping start positions, also across the seam at x = 0 / length."""
    n = round(density * length * width)
    spacing = 2 * radius + GAP
    pts = lattice(box(0.0, radius, length - spacing, width - radius), spacing, rng)
    if len(pts) < n:
        raise ScenarioError(f"{n} agents of radius {radius:g} m do not fit in a "
                            f"{length:g} m x {width:g} m corridor ({len(pts)} places)")
    pts = pts[rng.choice(len(pts), size=n, replace=False)]
    return pts[:, 0].copy(), pts[:, 1].copy()


def _velocity(x: np.ndarray, y: np.ndarray, v0: np.ndarray, heading: np.ndarray,
              r: np.ndarray, params: ModelParams, length: float, width: float,
              velocity: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The kernel's direction and speed of every agent, with ghosts across the seam.

    ``velocity``: (n, 2) velocities of the last step, m/s (None: standing).
    """
    n = len(x)
    tree = cKDTree(np.column_stack([x, y]), boxsize=[length, 1.0e6])
    k = min(NEIGHBOURS + 1, n)
    _, idx = tree.query(np.column_stack([x, y]), k=k, distance_upper_bound=CUTOFF)
    idx = np.asarray(idx).reshape(n, k)
    own = idx == np.arange(n)[:, None]
    own[:, -1] |= ~own.any(axis=1)
    idx = idx[~own].reshape(n, k - 1)
    valid = idx < n
    j = np.where(valid, idx, 0)
    shift = np.where(valid, -length * np.round((x[j] - x[:, None]) / length), 0.0)
    across = valid & (shift != 0)
    # One ghost per (neighbour, side of the seam); the kernel indexes x by neighbour id.
    keys, inverse = np.unique(j[across] * 2 + (shift[across] > 0), return_inverse=True)
    ghost_of, ghost_shift = keys // 2, np.where(keys % 2 == 1, length, -length)
    table = np.where(valid, idx, n)
    table[across] = n + 1 + inverse
    xe = np.concatenate([x, [FAR], x[ghost_of] + ghost_shift]).astype(np.float32)
    ye = np.concatenate([y, [FAR], y[ghost_of]]).astype(np.float32)
    # Route length to an exit far ahead in +x: whoever is further back has the longer route.
    route = np.concatenate([-x, [np.inf], -(x[ghost_of] + ghost_shift)]).astype(np.float32)
    queue = np.concatenate([np.zeros(n), [-1], np.zeros(len(keys))]).astype(np.int16)
    rr = np.concatenate([r, [0.0], r[ghost_of]])
    reach = (r[:, None] + rr[table]).astype(np.float32)
    vec = np.stack([np.column_stack([np.zeros(n), -y]),
                    np.column_stack([np.zeros(n), width - y])], axis=1)
    dist = np.column_stack([y, width - y])
    e0 = np.tile([1.0, 0.0], (n, 1)) + wall_repulsion(r, vec, dist, params)
    extra = {}
    if "velocity" in _KERNEL_TAKES:  # as Drill.step gives it, ghosts included
        vel = np.zeros((n, 2)) if velocity is None else velocity
        extra["velocity"] = np.concatenate([vel, [[0.0, 0.0]], vel[ghost_of]]).astype(
            np.float32)
    if "narrow" in _KERNEL_TAKES:
        extra["narrow"] = np.full(n, width < getattr(params, "narrow_width", 0.0))
    return desired_velocity(xe, ye, v0, e0, heading, np.ascontiguousarray(table.T),
                            np.ascontiguousarray(reach.T), route, queue, params, **extra)


def _pedpy(xs: np.ndarray, xus: np.ndarray, ys: np.ndarray, fps: float,
           mid: tuple[float, float], width: float) -> tuple[float, float]:
    """PedPy's classic density and mean speed in the area ``mid`` × [0, width]."""
    import warnings

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pedpy

        frames, n = xs.shape
        ids = np.tile(np.arange(n), frames)
        fr = np.repeat(np.arange(frames), n)
        wrapped = pedpy.TrajectoryData(pd.DataFrame(
            {"id": ids, "frame": fr, "x": xs.ravel(), "y": ys.ravel()}), frame_rate=fps)
        unwrapped = pedpy.TrajectoryData(pd.DataFrame(
            {"id": ids, "frame": fr, "x": xus.ravel(), "y": ys.ravel()}), frame_rate=fps)
        area = pedpy.MeasurementArea([(mid[0], 0), (mid[1], 0), (mid[1], width),
                                      (mid[0], width)])
        density = pedpy.compute_classic_density(traj_data=wrapped, measurement_area=area)
        # Speed along the corridor (the walking direction), as corridor diagrams are
        # measured (e.g. Zhang et al. 2011): sideways shuffling is not progress.
        speed = pedpy.compute_individual_speed(
            traj_data=unwrapped, frame_step=max(1, round(fps / 4)), compute_velocity=True,
            speed_calculation=pedpy.SpeedCalculation.BORDER_SINGLE_SIDED)
        speed["speed"] = speed["v_x"]
        mean = pedpy.compute_mean_speed_per_frame(traj_data=wrapped, individual_speed=speed,
                                                  measurement_area=area)
    return float(density["density"].mean()), float(mean["speed"].mean())


def _classic(xs: np.ndarray, xus: np.ndarray, ys: np.ndarray, dt: float,
             mid: tuple[float, float], width: float) -> tuple[float, float]:
    """Classic density (count / area) and the mean speed along x of the agents in the area."""
    inside = (xs >= mid[0]) & (xs <= mid[1])
    area = (mid[1] - mid[0]) * width
    step = np.diff(xus, axis=0) / dt  # along the corridor, as with PedPy above
    v = step[inside[1:]]
    rho = float(inside.sum(axis=1).mean()) / area
    return rho, float(v.mean()) if len(v) else math.nan
