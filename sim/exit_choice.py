"""Exit choice of the *quickest* rule: a logit with inertia, and the old threshold rule.

An agent compares the estimated cost of every open exit (s: the walking time, or the time
to let the queue ahead of it through the door; :func:`queue_ahead`, :func:`quickest_cost`).
With the threshold rule, agents who see the same queues make the same choice at the same
moment, so a crowd switches exits together (herding). The logit rule is a random utility
model (Ben-Akiva & Lerman 1985, ch. 5):

    U_e = -cost_e / scale + inertia * [e is the exit the agent heads for now] + eps_e

with ``eps_e`` independent standard Gumbel, so that

    P(e) = exp(V_e) / sum_k exp(V_k),   V_e = U_e - eps_e   (:func:`logit_probabilities`).

``scale`` (s) is the cost difference that changes the odds of two exits by a factor e; the
``inertia`` makes staying preferred unless another exit is clearly better. Each agent's
``eps`` is drawn once (:func:`exit_tastes`): its own, lasting taste for each exit, as in the
panel (mixed) logit models fitted to exit choices. Redrawing it at every reconsideration
would make agents whose exits cost about the same flip between them at random, more often
the longer the run. Different tastes give different agents different switching points, so a
growing queue makes them switch one by one rather than all together.

Sources: logit exit choice in evacuations, Lovreglio, Borri, dell'Olio & Ibeas (2014),
Safety Science 62; a mixed logit with the number of evacuees near an exit as a deterrent and
a large behavioural uncertainty, Lovreglio, Fonzone & dell'Olio (2016), Transportation
Research Part A 92; herding in exit choice, Lovreglio, Fonzone, dell'Olio & Borri (2016),
Safety Science 82; evacuees avoid congested exits rather than follow the crowd, and differ in
how much, Haghani & Sarvi (2017), Transportation Research Part B 95; changing an exit once
chosen, Haghani & Sarvi (2019), Transportation Research Part C 103.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "LogitChoice",
    "ThresholdChoice",
    "exit_tastes",
    "logit_choice",
    "logit_probabilities",
    "queue_ahead",
    "quickest_cost",
    "threshold_choice",
]


def queue_ahead(dist: np.ndarray, own: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """Agents ahead of each chooser at each exit: (n, k) float64.

    ``dist``: (n, k) route length of each chooser to each exit, m. ``own``: (N,) route
    length of every agent on the plan to the exit it heads for, m; ``heading``: (N,) that
    exit (-1 for none). Ahead at exit e: agents heading for e with a shorter route to it.
    """
    dist = np.asarray(dist, float)
    own, heading = np.asarray(own, float), np.asarray(heading)
    ahead = np.zeros_like(dist)
    for e in range(dist.shape[1]):  # a loop over exits, not agents
        ahead[:, e] = np.searchsorted(np.sort(own[heading == e]), dist[:, e])
    return ahead


def quickest_cost(dist: np.ndarray, v0: np.ndarray, ahead: np.ndarray,
                  capacity: np.ndarray) -> np.ndarray:
    """Estimated time to get out by each exit: (n, k) s, ``inf`` where ``dist`` is.

    The walking time ``dist / v0`` (m, m/s) or the time ``ahead / capacity`` to let the
    agents ahead through the door (``capacity``: (k,) persons/s), whichever is longer.
    """
    dist = np.asarray(dist, float)
    walk = dist / np.maximum(np.asarray(v0, float), 0.1)[:, None]
    cost = np.maximum(walk, np.asarray(ahead, float) / np.asarray(capacity, float))
    return np.where(np.isfinite(dist), cost, np.inf)


def _utility(cost: np.ndarray, current: np.ndarray, scale: float | np.ndarray,
             inertia: float) -> np.ndarray:
    """V_e = -cost_e / scale + inertia * [e == current]; -inf where cost is inf."""
    cost = np.asarray(cost, float)
    current = np.asarray(current, np.int64)
    n, k = cost.shape
    ok = np.isfinite(cost)
    per_agent = np.broadcast_to(np.asarray(scale, float), (n,))[:, None]
    v = np.where(ok, -cost / per_agent, -np.inf)
    if k:
        mine = np.flatnonzero((current >= 0) & ok[np.arange(n), np.clip(current, 0, k - 1)])
        v[mine, current[mine]] += inertia
    return v


def logit_probabilities(cost: np.ndarray, current: np.ndarray, *, scale: float | np.ndarray,
                        inertia: float) -> np.ndarray:
    """Logit choice probabilities: (n, k) float64, rows sum to 1 (all 0 if no exit is open).

    ``cost``: (n, k) estimated time to get out by each exit, s, ``inf`` where closed or
    unreachable. ``current``: (n,) exit each agent heads for now, -1 for none. ``scale``:
    s per unit of utility (> 0), one for all or (n,) one per agent. ``inertia``: utility
    bonus of the current exit.
    """
    v = _utility(cost, current, scale, inertia)
    top = v.max(axis=1, initial=-np.inf)
    has = np.isfinite(top)
    w = np.where(np.isfinite(v), np.exp(v - np.where(has, top, 0.0)[:, None]), 0.0)
    total = w.sum(axis=1)
    return w / np.where(total > 0, total, 1.0)[:, None]


@lru_cache(maxsize=16)
def _tastes(seed: int, n: int, k: int) -> np.ndarray:
    u = np.random.default_rng([seed, 1]).random((n, k))  # a stream apart from placing agents
    g = -np.log(-np.log(np.clip(u, 1e-12, 1.0 - 1e-12)))
    g.flags.writeable = False
    return g


def exit_tastes(seed: int, agents: np.ndarray, k: int) -> np.ndarray:
    """Each agent's lasting taste for each exit: (len(agents), k) standard Gumbel values.

    A function of ``seed`` and the agent ids alone (the same every call and every run with
    that seed), drawn from ``numpy.random.default_rng([seed, 1])``.
    """
    agents = np.asarray(agents, np.int64)
    top = int(agents.max(initial=0)) + 1
    n = 1 << max(10, (top - 1).bit_length())  # rows for every id up to a power of two
    # Row i depends only on the seed: a longer table starts with the same numbers.
    return _tastes(int(seed), n, int(k))[agents]


def logit_choice(cost: np.ndarray, current: np.ndarray, taste: np.ndarray, *,
                 scale: float | np.ndarray, inertia: float) -> np.ndarray:
    """The exit of highest utility ``V_e + taste_e``: (n,) int64, -1 where none is open.

    ``taste``: (n, k) Gumbel draws (:func:`exit_tastes`); over independent tastes an exit
    is chosen with :func:`logit_probabilities`. Other arguments as there.
    """
    u = _utility(cost, current, scale, inertia) + np.asarray(taste, float)
    if not u.shape[1]:
        return np.full(len(u), -1, np.int64)
    return np.where(np.isfinite(u).any(axis=1), u.argmax(axis=1), -1)


def threshold_choice(cost: np.ndarray, current: np.ndarray, *, margin: float,
                     min_saving: float) -> np.ndarray:
    """The deterministic rule: the cheapest exit, taken only if it saves enough: (n,) int64.

    An agent with a current exit (``current`` >= 0, finite cost) changes to the cheapest
    one only if that saves ``margin`` of its current cost and at least ``min_saving`` s.
    """
    cost = np.asarray(cost, float)
    current = np.asarray(current, np.int64)
    n, k = cost.shape
    if k == 0:
        return np.full(n, -1, np.int64)
    at = np.arange(n)
    ok = np.isfinite(cost)
    best = cost.argmin(axis=1)  # inf where closed, so an open exit wins if there is one
    cur = np.clip(current, 0, k - 1)
    cur_ok = (current >= 0) & ok[at, cur]
    cur_cost = np.where(cur_ok, cost[at, cur], 0.0)
    switch = ~cur_ok | (cost[at, best] < cur_cost - np.maximum(min_saving, margin * cur_cost))
    return np.where(ok.any(axis=1), np.where(switch, best, current), -1)


@dataclass(frozen=True, kw_only=True)
class LogitChoice:
    """Logit exit choice with inertia and lasting tastes (:func:`logit_choice`)."""

    scale: float
    """Cost difference that changes the odds of two exits by a factor e, s (plus
    :attr:`relative` of the agent's cheapest cost)."""
    relative: float = 0.0
    """Part of an agent's cheapest exit cost added to its :attr:`scale`: a few seconds
    matter in a room, not in a mall's five-minute evacuation."""
    inertia: float
    """Utility bonus of the exit an agent heads for now (dimensionless)."""
    rounds: int = 2
    """Rounds of slice-by-slice choosing when the whole crowd must choose (see
    :meth:`sim.drill.Drill._choose_exits`); 0: all at once, each blind to the others."""

    def choose(self, cost: np.ndarray, current: np.ndarray, *, agents: np.ndarray,
               seed: int) -> np.ndarray:
        """(n,) exit per row from (n, k) costs in s; -1 where no exit is open.

        ``agents``: (n,) agent ids; ``seed``: the drill's seed (for :func:`exit_tastes`).
        """
        cost = np.asarray(cost, float)
        taste = exit_tastes(seed, agents, cost.shape[1])
        cheapest = np.where(np.isfinite(cost), cost, np.inf).min(axis=1, initial=np.inf)
        scale = self.scale + self.relative * np.where(np.isfinite(cheapest), cheapest, 0.0)
        return logit_choice(cost, current, taste, scale=scale, inertia=self.inertia)


@dataclass(frozen=True, kw_only=True)
class ThresholdChoice:
    """The deterministic quickest rule (:func:`threshold_choice`); herds, kept to compare."""

    margin: float = 0.1
    """Fraction of its current cost an agent must save to change exit."""
    min_saving: float = 1.0
    """Time an agent must save at least to change exit, s."""
    rounds: int = 0
    """As :attr:`LogitChoice.rounds`; 0, all at once, is how drills chose before the logit."""

    def choose(self, cost: np.ndarray, current: np.ndarray, *, agents: np.ndarray,
               seed: int) -> np.ndarray:
        """(n,) exit per row from (n, k) costs in s; -1 where no exit is open."""
        return threshold_choice(cost, current, margin=self.margin, min_saving=self.min_saving)
