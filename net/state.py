"""Quantised agent state: full snapshots and per-tick deltas (encoder and decoder).

Positions travel as integer centimetres. The encoder keeps the last state it sent, in
agent-id order, and codes each tick against it, so rounding never drifts: a client that
applies every delta holds exactly the encoder's integers.

Delta layout (fields of a ``delta`` message; integers little-endian; docs/protocol.md):

1. ``gone``: u32 ids of agents that left; removed, order kept; slots are then indices
   into the remaining agents;
2. ``st``, ``stv``: u32 slots and u8 new states of agents whose state changed;
3. ``moved``: one bit per remaining agent that is not waiting (state != 0), in slot
   order (:func:`numpy.packbits`, MSB first); ``dxy``: int8 dx, dy in cm for each set bit;
   ``dz``: int8 dz in cm for each set bit of an agent on a stair (state 3), in order;
4. ``far``: i32 quads (slot, dx, dy, dz) for every other move (more than 127 cm, a height
   change off a stair, or a waiting agent nudged);
5. ``born``, ``born_pos``, ``born_st``: u32 ids (ascending), i32 (x, y, z) cm and u8
   states of agents that were not in the last state: participants' avatars that joined
   the crowd, and, for a client subscribed to some floors (:class:`View`), agents that
   came into its view. They are merged into the id order.

A moving agent costs 2 bytes plus its share of the bit mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ALL", "AgentDecoder", "AgentEncoder", "CrowdSample", "View", "quantise"]

WAITING = 0
"""State code of an agent that has not started to move (sim.agents.crowd.State.WAITING)."""
ON_STAIRS = 3
"""State code of an agent walking a stair (sim.agents.crowd.State.ON_STAIRS)."""
SCALE = 100.0
"""Quantisation: units per metre (centimetres)."""


def quantise(xyz: np.ndarray) -> np.ndarray:
    """Positions (n, 3) in metres to (n, 3) int32 centimetres."""
    return np.rint(np.asarray(xyz, float) * SCALE).astype(np.int32)


@dataclass(frozen=True)
class View:
    """What part of the crowd a client receives in full: some floors, optionally a box.

    ``floors`` are floor indices (None: every floor); ``box`` is (x0, y0, x1, y1) in m
    (None: the whole floor). The default view is everything.
    """

    floors: tuple[int, ...] | None = None
    box: tuple[float, float, float, float] | None = None

    def mask(self, floor: np.ndarray, xyz: np.ndarray) -> np.ndarray:
        """Which of the agents (floor indices, (n, 3) positions m) are in view."""
        keep = np.ones(len(floor), bool) if self.floors is None else np.isin(floor, self.floors)
        if self.box is not None:
            x0, y0, x1, y1 = self.box
            keep &= ((xyz[:, 0] >= x0) & (xyz[:, 0] <= x1)
                     & (xyz[:, 1] >= y0) & (xyz[:, 1] <= y1))
        return keep


ALL = View()
"""The view of every agent on every floor."""


@dataclass(frozen=True)
class CrowdSample:
    """The agents inside at one moment, in ascending id order (taken once per tick and
    shared by every view's encoder)."""

    ids: np.ndarray
    q: np.ndarray
    """(n, 3) int32 positions, cm."""
    state: np.ndarray
    floor: np.ndarray
    """(n,) floor index of each agent (the floor a stair walker left)."""
    xyz: np.ndarray
    """(n, 3) float positions, m."""

    @classmethod
    def of(cls, drill: Any) -> CrowdSample:
        """Sample a drill (or anything with ``positions()`` and ``crowd.id/state/floor``)."""
        rows, xyz = drill.positions()
        crowd = drill.crowd
        ids = crowd.id[rows]
        state = crowd.state[rows].astype(np.uint8)
        floor = np.asarray(crowd.floor[rows])
        if len(ids) > 1 and not (np.diff(ids) > 0).all():
            order = np.argsort(ids, kind="stable")
            ids, state, floor, xyz = ids[order], state[order], floor[order], xyz[order]
        return cls(ids, quantise(xyz), state, floor, xyz)

    def floor_counts(self, floors: int) -> list[int]:
        """Agents inside per floor index (``floors`` entries)."""
        return np.bincount(self.floor, minlength=floors)[:floors].tolist()


class AgentEncoder:
    """Server side: samples a drill's crowd (the agents in ``view``) and codes snapshots
    and deltas."""

    def __init__(self, view: View = ALL) -> None:
        self.view = view
        self.ids = np.zeros(0, np.int64)
        """Agent ids in the last sent state, ascending."""
        self.q = np.zeros((0, 3), np.int32)
        """(n, 3) int32 positions in the last sent state, cm."""
        self.state = np.zeros(0, np.uint8)
        """(n,) uint8 agent state (sim.agents.crowd.State) in the last sent state."""

    def sample(self, drill: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ids (ascending), quantised positions and states of the agents inside in view;
        ``drill`` is a drill or a :class:`CrowdSample` of it."""
        c = drill if isinstance(drill, CrowdSample) else CrowdSample.of(drill)
        if self.view == ALL:
            return c.ids, c.q, c.state
        keep = self.view.mask(c.floor, c.xyz)
        return c.ids[keep], c.q[keep], c.state[keep]

    def reset(self, drill: Any) -> None:
        """Take the drill's current state as the last sent one (before the first snapshot)."""
        self.ids, self.q, self.state = self.sample(drill)

    def snapshot(self) -> dict[str, Any]:
        """Fields of the full agent state as last sent (``ids``, ``pos``, ``state``)."""
        return {"n": len(self.ids), "ids": self.ids.astype("<u4").tobytes(),
                "pos": self.q.astype("<i4").tobytes(), "state": self.state.tobytes()}

    def delta(self, drill: Any) -> tuple[dict[str, Any], int]:
        """Code the drill's state against the last sent one; returns (fields, moved agents)."""
        ids, q, state = self.sample(drill)
        if len(ids) == len(self.ids) and np.array_equal(ids, self.ids):
            fields, moved = self._code(ids, q, state)
        else:
            old = np.isin(ids, self.ids, assume_unique=True)
            fields, moved = self._code(ids[old], q[old], state[old])
            new = ~old
            if new.any():  # avatars that joined, agents that came into view
                fields.update(born=ids[new].astype("<u4").tobytes(),
                              born_pos=q[new].astype("<i4").tobytes(),
                              born_st=state[new].tobytes())
                moved += int(np.count_nonzero(new))
        self.ids, self.q, self.state = ids, q, state
        return fields, moved

    def _code(self, ids: np.ndarray, q: np.ndarray, state: np.ndarray,
              ) -> tuple[dict[str, Any], int]:
        """Delta fields of the agents ``ids`` (a subset of those last sent), moved count."""
        out: dict[str, Any] = {}
        if len(ids) != len(self.ids):
            keep = np.isin(self.ids, ids, assume_unique=True)
            out["gone"] = self.ids[~keep].astype("<u4").tobytes()
            old_q, old_state = self.q[keep], self.state[keep]
        else:
            old_q, old_state = self.q, self.state
        changed = np.flatnonzero(state != old_state)
        if len(changed):
            out["st"] = changed.astype("<u4").tobytes()
            out["stv"] = state[changed].tobytes()
        d = q - old_q
        moved = (d != 0).any(axis=1)
        # The bit mask covers only agents that are not waiting (both sides know the states);
        # a waiting agent nudged off a wall, and any big or vertical move, goes in "far".
        active = state != WAITING
        stair = state == ON_STAIRS
        small = (moved & active & (np.abs(d[:, :2]) <= 127).all(axis=1)
                 & ((d[:, 2] == 0) | (stair & (np.abs(d[:, 2]) <= 127))))
        far = moved & ~small
        if small.any():
            out["moved"] = np.packbits(small[active]).tobytes()
            out["dxy"] = d[small, :2].astype(np.int8).tobytes()
            climb = small & stair
            if climb.any():
                out["dz"] = d[climb, 2].astype(np.int8).tobytes()
        if far.any():
            slots = np.flatnonzero(far)
            out["far"] = np.column_stack([slots, d[far]]).astype("<i4").tobytes()
        return out, int(np.count_nonzero(moved))


class AgentDecoder:
    """Client side: holds the agent state and applies snapshots and deltas to it."""

    def __init__(self) -> None:
        self.ids = np.zeros(0, np.int64)
        self.q = np.zeros((0, 3), np.int32)
        self.state = np.zeros(0, np.uint8)

    @property
    def positions(self) -> np.ndarray:
        """(n, 3) float positions of the agents inside, m."""
        return self.q / SCALE

    def apply_snapshot(self, snap: dict[str, Any]) -> None:
        """Replace the state with a snapshot's ``ids``, ``pos``, ``state``."""
        self.ids = np.frombuffer(snap["ids"], "<u4").astype(np.int64)
        self.q = np.frombuffer(snap["pos"], "<i4").reshape(-1, 3).astype(np.int32)
        self.state = np.frombuffer(snap["state"], np.uint8).copy()

    def apply_delta(self, delta: dict[str, Any]) -> None:
        """Apply a delta's agent fields (in the order the encoder wrote them)."""
        if "gone" in delta:
            gone = np.frombuffer(delta["gone"], "<u4").astype(np.int64)
            keep = ~np.isin(self.ids, gone)
            self.ids, self.q, self.state = self.ids[keep], self.q[keep], self.state[keep]
        if "st" in delta:
            self.state[np.frombuffer(delta["st"], "<u4")] = np.frombuffer(delta["stv"], np.uint8)
        if "moved" in delta:
            active = np.flatnonzero(self.state != WAITING)
            bits = np.unpackbits(np.frombuffer(delta["moved"], np.uint8), count=len(active))
            dxy = np.frombuffer(delta["dxy"], np.int8).reshape(-1, 2)
            slots = active[bits.astype(bool)]
            self.q[slots, :2] += dxy
            if "dz" in delta:
                climb = slots[self.state[slots] == ON_STAIRS]
                self.q[climb, 2] += np.frombuffer(delta["dz"], np.int8)
        if "far" in delta:
            far = np.frombuffer(delta["far"], "<i4").reshape(-1, 4)
            self.q[far[:, 0]] += far[:, 1:]
        if "born" in delta:
            ids = np.concatenate([self.ids, np.frombuffer(delta["born"], "<u4")])
            q = np.concatenate([self.q, np.frombuffer(delta["born_pos"], "<i4").reshape(-1, 3)])
            state = np.concatenate([self.state, np.frombuffer(delta["born_st"], np.uint8)])
            order = np.argsort(ids, kind="stable")  # merged into the id order
            self.ids, self.q, self.state = ids[order], q[order].astype(np.int32), state[order]
