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
4. ``far``: i32 quads (slot, dx, dy, dz) for every other move (more than 127 cm, a height
   change, or a waiting agent nudged);
5. ``born``, ``born_pos``, ``born_st``: u32 ids, i32 (x, y, z) cm and u8 states of agents
   that joined (participants' avatars), appended after all the rest (their ids are
   larger than any before them).

A moving agent costs 2 bytes plus its share of the bit mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["AgentDecoder", "AgentEncoder", "quantise"]

WAITING = 0
"""State code of an agent that has not started to move (sim.agents.crowd.State.WAITING)."""
SCALE = 100.0
"""Quantisation: units per metre (centimetres)."""


def quantise(xyz: np.ndarray) -> np.ndarray:
    """Positions (n, 3) in metres to (n, 3) int32 centimetres."""
    return np.rint(np.asarray(xyz, float) * SCALE).astype(np.int32)


class AgentEncoder:
    """Server side: samples a drill's crowd and codes snapshots and deltas."""

    def __init__(self) -> None:
        self.ids = np.zeros(0, np.int64)
        """Agent ids in the last sent state, ascending."""
        self.q = np.zeros((0, 3), np.int32)
        """(n, 3) int32 positions in the last sent state, cm."""
        self.state = np.zeros(0, np.uint8)
        """(n,) uint8 agent state (sim.agents.crowd.State) in the last sent state."""

    @staticmethod
    def sample(drill: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ids (ascending), quantised positions and states of the agents still inside."""
        rows, xyz = drill.positions()
        ids = drill.crowd.id[rows]
        state = drill.crowd.state[rows].astype(np.uint8)
        q = quantise(xyz)
        if len(ids) > 1 and not (np.diff(ids) > 0).all():
            order = np.argsort(ids, kind="stable")
            ids, q, state = ids[order], q[order], state[order]
        return ids, q, state

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
        out: dict[str, Any] = {}
        if len(ids) and (not len(self.ids) or ids[-1] > self.ids[-1]):
            # New agents joined; they carry the largest ids, so they come last.
            m = int(np.searchsorted(ids, self.ids[-1], side="right")) if len(self.ids) else 0
            out["born"] = ids[m:].astype("<u4").tobytes()
            out["born_pos"] = q[m:].astype("<i4").tobytes()
            out["born_st"] = state[m:].tobytes()
            fields, moved = self._code(ids[:m], q[:m], state[:m])
            self.ids, self.q, self.state = ids, q, state
            return {**fields, **out}, moved + len(ids) - m
        fields, moved = self._code(ids, q, state)
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
        small = moved & active & (np.abs(d[:, :2]) <= 127).all(axis=1) & (d[:, 2] == 0)
        far = moved & ~small
        if small.any():
            out["moved"] = np.packbits(small[active]).tobytes()
            out["dxy"] = d[small, :2].astype(np.int8).tobytes()
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
            self.q[active[bits.astype(bool)], :2] += dxy
        if "far" in delta:
            far = np.frombuffer(delta["far"], "<i4").reshape(-1, 4)
            self.q[far[:, 0]] += far[:, 1:]
        if "born" in delta:
            self.ids = np.concatenate([self.ids, np.frombuffer(delta["born"], "<u4")])
            self.q = np.concatenate([self.q, np.frombuffer(delta["born_pos"], "<i4").reshape(
                -1, 3)]).astype(np.int32)
            self.state = np.concatenate([self.state, np.frombuffer(delta["born_st"], np.uint8)])
