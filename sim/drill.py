"""A drill in progress: the scene, its navigation, the crowd and the clock.

:meth:`Drill.step` advances the drill by one time step and returns what happened in it
(agents that left, exits that closed), so that writers, recorders and the network layer
can observe a drill without reaching into it.
"""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from sim.agents.crowd import Choice, Crowd, State
from sim.agents.model import FAR, MAX_EXPONENT, desired_velocity
from sim.agents.neighbours import NeighbourList
from sim.agents.population import populate
from sim.errors import ScenarioError, SimulationError
from sim.exit_choice import LogitChoice, queue_ahead, quickest_cost
from sim.hazards import Hazard, hazard_from_dict
from sim.nav import Navigation, build_navigation, route_to
from sim.scenario import Scenario
from sim.stair_walk import WalkedStairs
from sim.stairs import QueuedStairs
from sim.steering import MAX_SPEED, Steering, free_spot, person_row, walkable
from sim.walls import WallIndex, build_wall_index

__all__ = ["SPECIFIC_FLOW", "Drill", "MeasureLog"]

SPECIFIC_FLOW = 1.3
"""Persons per metre of door width per second assumed for queue estimates (SFPE handbook)."""
CHOICE_INTERVAL = 1.0
"""How often each agent on the quickest rule reconsiders its exit, s."""
EXIT_CHOICE = LogitChoice(scale=0.5, relative=0.05, inertia=3.0)
"""How an agent on the quickest rule picks among the exits' costs (:mod:`sim.exit_choice`)."""
COMPACT_FRACTION = 0.05
"""Rows of agents that left are dropped once they are this fraction of the crowd."""


@dataclass
class MeasureLog:
    """Crossings of one measuring line."""

    times: list[float] = field(default_factory=list)
    """Simulated time of every crossing (either direction), s."""


class Drill:
    """One evacuation run of a scenario, advanced by :meth:`step`."""

    def __init__(self, scenario: Scenario, *, seed: int | None = None):
        self.scenario = scenario
        self.scene = scenario.scene
        self.params = scenario.model
        self.dt = scenario.settings.dt
        self.seed = scenario.settings.seed if seed is None else seed
        self.rng = np.random.default_rng(self.seed)
        try:
            self.nav: Navigation = build_navigation(self.scene, scenario.settings.cell_size)
        except ScenarioError as exc:
            raise ScenarioError(exc.reason, source=scenario.source, field=exc.field) from None
        self.crowd: Crowd = populate(scenario, self.rng)
        vmax = float(self.crowd.v0.max(initial=1.0))
        rmax = float(self.crowd.radius.max(initial=0.2))
        self._reach = rmax + vmax * self.dt + 0.2
        self.walls: list[WallIndex] = [
            build_wall_index(f, self._reach, tuple(
                e.polygon for e in self.scene.exits if e.floor == fi))
            for fi, f in enumerate(self.scene.floors)
        ]
        self.neighbours = NeighbourList()
        self.exit_open = np.array([e.open for e in self.scene.exits], dtype=bool)
        self._capacity = np.array([SPECIFIC_FLOW * e.width for e in self.scene.exits])
        self._exit_cells = self._exit_rasters()
        for ex in self.scene.exits:
            shapely.prepare(ex.polygon)  # many point and segment tests per step
        self.total = len(self.crowd)
        self.time = 0.0
        self.tick = 0
        self.exit_time = np.full(self.total, np.nan)
        """Per agent id, the time it left, s (NaN while inside)."""
        self.exit_used = np.full(self.total, -1, np.int16)
        """Per agent id, the exit it left by (-1 while inside)."""
        self.measures = [MeasureLog() for _ in self.scene.measures]
        self._present = np.ones(self.total, bool)
        self.cells = self._locate()
        """(n,) raster cell of every crowd row on its floor's grid."""
        self._from, self._from_cells = self.crowd.pos, self.cells
        self.stairs: WalkedStairs | QueuedStairs = (
            WalkedStairs(self.scene, self.params) if self.params.stairs == "walked"
            else QueuedStairs(self.scene))
        """Traffic on the stairs (:mod:`sim.stair_walk`, or the queue link of :mod:`sim.stairs`)."""
        self.floor_last_occupied = np.full(len(self.scene.floors), np.nan)
        """Per floor, the last time anyone stood on it (not on a stair), s."""
        self._pending = list(scenario.events)
        self.hazards: list[Hazard] = []
        """Hazards in force (injected by an instructor); see :mod:`sim.hazards`."""
        self.commands: list[tuple[int, dict[str, Any]]] = []
        """Every command applied by :meth:`apply`, with the tick it took effect at."""
        self._held: np.ndarray | None = None
        self._closed_by: dict[str, list[str]] = {}
        self._base_speed = self.nav.speed_factor
        self._hazard_seq = 0
        self._quickest = bool((self.crowd.choice == Choice.QUICKEST).any())
        self.steering = Steering()
        """Agents steered by participants (:mod:`sim.steering`)."""
        self.stair_armed = np.ones(self.total, bool)
        """Per agent id: a steered agent boards the next stair end it walks into (False
        from boarding until it has stepped out of every stair end)."""
        self._check_reachable()
        self._choose_exits(force=True)

    # ------------------------------------------------------------------ snapshots

    def snapshot(self) -> bytes:
        """The whole state of the drill as bytes (pickle): its crowd, clock, random state,
        hazards, pending events, exits, stairs and people. :meth:`restore` of it continues
        bit for bit as this drill does. The navigation fields are left out (they follow
        from the scene and are rebuilt, or taken from the cache); their hazard speeds are
        kept."""
        state = dict(self.__dict__)
        nav = state.pop("nav")
        state.pop("_base_speed")
        state["_speed_factor"] = nav.speed_factor
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def restore(cls, data: bytes) -> Drill:
        """A drill from :meth:`snapshot` bytes (in this process or another)."""
        try:
            state = pickle.loads(data)
            speed = state.pop("_speed_factor")
            scenario = state["scenario"]
        except Exception as exc:  # any damage to the bytes
            raise SimulationError(f"not a drill snapshot ({type(exc).__name__}: {exc})") \
                from None
        drill = cls.__new__(cls)
        drill.__dict__.update(state)
        nav = build_navigation(drill.scene, scenario.settings.cell_size)
        drill._base_speed = nav.speed_factor
        drill.nav = dataclasses.replace(nav, speed_factor=speed)
        return drill

    # ------------------------------------------------------------------ queries

    @property
    def evacuated(self) -> int:
        """Number of agents that have left."""
        return int(np.count_nonzero(self.exit_used >= 0))

    @property
    def remaining(self) -> int:
        """Number of agents still in the building."""
        return self.total - self.evacuated

    def active(self) -> np.ndarray:
        """Row mask of agents still in the building (rows of :attr:`crowd`)."""
        return self._present

    def done(self) -> bool:
        """Whether everyone has left or the scenario's max_time is reached."""
        return self.remaining == 0 or self.time >= self.scenario.settings.max_time - 1e-9

    # ------------------------------------------------------------------ commands

    def set_exit(self, exit_id: str, is_open: bool) -> dict[str, Any]:
        """Open or close an exit now; agents heading for a closed exit choose again."""
        try:
            ei = self.scene.exit_index(exit_id)
        except KeyError:
            raise SimulationError(f"no exit with id '{exit_id}'") from None
        self.exit_open[ei] = is_open
        self._choose_exits(force=True)
        return {"t": round(self.time, 6), "type": "exit_opened" if is_open else "exit_closed",
                "exit": exit_id}

    def apply(self, command: dict[str, Any]) -> list[dict[str, Any]]:
        """Apply one validated command now (between steps) and log it in :attr:`commands`.

        ``command["type"]`` is ``door`` (``exit``, ``open``), ``order_evacuation``
        (``zone`` group id, ``floor`` floor id, or neither for all), ``inject`` (``event``:
        hazard fields, see :func:`sim.hazards.hazard_from_dict`; ``kind`` may also be
        ``block_exit``, ``unblock_exit`` or ``clear`` with ``id``), ``hold_premovement``,
        or a person's avatar (:mod:`sim.steering`): ``person_join`` (``floor`` index,
        ``near`` [x, y] m or an exact ``pos``, ``name``; fills in ``agent`` and ``pos``),
        ``steer`` (``agent``, ``dir`` [dx, dy] or ``to`` [x, y] m, ``speed`` m/s) and
        ``release`` (``agent``: the simulation walks it out from now on).
        Returns the events it caused. Raises SimulationError if the command does not fit
        this drill (unknown exit, zone or floor); the drill is then unchanged.
        """
        kind = command.get("type")
        cmd = dict(command)
        if kind == "door":
            events = [self.set_exit(str(cmd["exit"]), bool(cmd["open"]))]
        elif kind == "order_evacuation":
            n = self.order_evacuation(zone=cmd.get("zone"), floor=cmd.get("floor"))
            events = [{"t": round(self.time, 6), "type": "evacuation_ordered", "agents": n,
                       **{k: cmd[k] for k in ("zone", "floor") if cmd.get(k) is not None}}]
        elif kind == "inject":
            event = dict(cmd["event"])
            events = self._inject_event(event)
            cmd["event"] = event
        elif kind == "hold_premovement":
            self.hold_premovement()
            events = []
        elif kind == "person_join":
            events = self._person_join(cmd)
        elif kind == "steer":
            self._steer(cmd)
            events = []
        elif kind == "release":
            agent = self._steered(cmd.get("agent"))
            self.steering.remove(agent)
            rows = np.flatnonzero(self.crowd.id == agent)
            self.crowd.choice[rows] = Choice.NEAREST
            events = [{"t": round(self.time, 6), "type": "person_released", "agent": agent}]
        else:
            raise SimulationError(f"unknown command type {kind!r}")
        self.commands.append((self.tick, cmd))
        return events

    def _person_join(self, cmd: dict[str, Any]) -> list[dict[str, Any]]:
        """Add a person's avatar at a free spot (fills ``cmd["agent"]`` and ``cmd["pos"]``)."""
        fi = cmd.get("floor", 0)
        if not isinstance(fi, int) or not 0 <= fi < len(self.scene.floors):
            raise SimulationError(f"person_join: no floor with index {fi!r}")
        floor = self.scene.floors[fi]
        agent = self.total
        if cmd.get("agent", agent) != agent:
            raise SimulationError(f"person_join: agent {cmd['agent']} expected, next id is {agent}")
        if "pos" in cmd:  # as recorded: the place found when the drill ran
            x, y = (float(v) for v in cmd["pos"])
        else:
            c = self.crowd
            on = np.flatnonzero(self._present & (c.floor == fi) & (c.state != State.ON_STAIRS))
            try:
                x, y = free_spot(floor, tuple(cmd.get("near", floor.walkable.centroid.coords[0])),
                                 c.pos[on], c.radius[on])
            except ValueError as exc:
                raise SimulationError(f"person_join: {exc}") from None
        row = person_row(agent, fi, (x, y), self.time)
        self.crowd.extend(row)
        self.total += 1
        self.exit_time = np.append(self.exit_time, np.nan)
        self.exit_used = np.append(self.exit_used, np.int16(-1))
        if self._held is not None:
            self._held = np.append(self._held, np.nan)
        self._present = np.append(self._present, True)
        self.stair_armed = np.append(self.stair_armed, False)  # may spawn on a stair end
        cell = self.nav.grids[fi].cells(row.pos)
        self.cells = np.concatenate([self.cells, cell])
        self._from = np.concatenate([self._from, row.pos])
        self._from_cells = np.concatenate([self._from_cells, cell])
        self.neighbours.invalidate()
        dist = self._distances(np.array([len(self.crowd) - 1]))[0]
        dist[~self.exit_open] = np.inf
        self.crowd.target[-1] = int(dist.argmin()) if np.isfinite(dist).any() else -1
        name = str(cmd.get("name", ""))
        self.steering.add(agent, name)
        cmd.update(agent=agent, pos=[round(x, 6), round(y, 6)], floor=fi)
        return [{"t": round(self.time, 6), "type": "person_joined", "agent": agent,
                 "name": name, "floor": floor.id, "pos": cmd["pos"]}]

    def _steered(self, agent: Any) -> int:
        """``agent`` as an int if it is a steered agent still inside; else SimulationError."""
        if isinstance(agent, bool) or not isinstance(agent, int):
            raise SimulationError(f"no steered agent {agent!r}")
        if 0 <= agent < self.total and self.exit_used[agent] >= 0:
            raise SimulationError(f"agent {agent} has already left the building")
        try:
            self.steering.index(agent)
        except KeyError:
            raise SimulationError(f"agent {agent} is not steered by a person") from None
        return agent

    def _steer(self, cmd: dict[str, Any]) -> None:
        agent = self._steered(cmd.get("agent"))
        speed = min(max(float(cmd.get("speed", MAX_SPEED)), 0.0), MAX_SPEED)
        if "to" in cmd:
            row = int(np.searchsorted(self.crowd.id, agent))
            fi = int(self.crowd.floor[row])
            x, y = (float(v) for v in cmd["to"])
            if not walkable(self.scene.floors[fi], x, y):
                raise SimulationError(f"({x:.1f}, {y:.1f}) is not walkable on floor "
                                      f"'{self.scene.floors[fi].id}' (a wall, or outside)")
            length, route = route_to(self.nav.grids[fi], (x, y))
            if not np.isfinite(length[self.cells[row]]):
                raise SimulationError(f"({x:.1f}, {y:.1f}) cannot be reached from where you "
                                      f"are on floor '{self.scene.floors[fi].id}'")
            self.steering.set(agent, to=(x, y), floor=fi, route=route, speed=speed)
        else:
            self.steering.set(agent, direction=cmd.get("dir", (0.0, 0.0)), speed=speed)

    def _inject_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Apply an inject event dict; fills in the hazard id it was given."""
        kind = event.get("kind")
        if kind == "clear":
            return self.clear_hazard(str(event.get("id")))
        if kind == "unblock_exit":
            eid = str(event.get("exit"))
            blocking = [h.id for h in self.hazards if h.kind == "blocked_exit" and h.exit == eid]
            events: list[dict[str, Any]] = []
            for hid in blocking:
                events.extend(self.clear_hazard(hid))
            if not blocking:
                events.append(self.set_exit(eid, True))
            return events
        fields = {**event, "kind": "blocked_exit" if kind == "block_exit" else kind}
        hid = event.get("id")
        if hid is None:
            taken = {h.id for h in self.hazards}
            while hid is None or hid in taken:
                self._hazard_seq += 1
                hid = f"H{self._hazard_seq}"
        elif not isinstance(hid, str) or not hid:
            raise SimulationError("inject: id must be a non-empty string")
        try:
            hazard = hazard_from_dict(fields, hazard_id=hid, start=round(self.time, 6))
        except ValueError as exc:
            raise SimulationError(f"inject: {exc}") from None
        event["id"] = hid
        return self.inject(hazard)

    def inject(self, hazard: Hazard) -> list[dict[str, Any]]:
        """Put a hazard in force now; its effects are described in :mod:`sim.hazards`.

        Raises SimulationError (drill unchanged) for an unknown floor or exit.
        """
        if not 0 <= hazard.floor < len(self.scene.floors):
            raise SimulationError(f"no floor with index {hazard.floor}")
        floor = self.scene.floors[hazard.floor]
        placed = hazard.kind in ("fire", "smoke", "gas", "flood") or (
            hazard.kind == "power_cut" and hazard.radius > 0)
        if placed and floor.walkable.distance(shapely.Point(hazard.x, hazard.y)) > hazard.radius:
            raise SimulationError(f"a {hazard.kind} at ({hazard.x:g}, {hazard.y:g}) lies outside "
                                  f"floor '{floor.id}'", code="outside_floor",
                                  detail={"kind": hazard.kind, "x": round(hazard.x, 1),
                                          "y": round(hazard.y, 1), "floor": floor.id})
        if hazard.exit is not None:
            try:
                self.scene.exit_index(hazard.exit)
            except KeyError:
                raise SimulationError(f"no exit with id '{hazard.exit}'") from None
        if any(h.id == hazard.id for h in self.hazards):
            raise SimulationError(f"a hazard with id '{hazard.id}' is already in force")
        self.hazards.append(hazard)
        events: list[dict[str, Any]] = [{"t": round(self.time, 6), "type": "hazard",
                                         "hazard": hazard.to_dict()}]
        closing: list[str] = []
        if hazard.kind == "blocked_exit" and hazard.exit is not None:
            closing = [hazard.exit]
        elif hazard.kind == "fire":
            centre = shapely.Point(hazard.x, hazard.y)
            closing = [e.id for e in self.scene.exits if e.floor == hazard.floor
                       and e.polygon.distance(centre) <= hazard.radius]
        self._closed_by[hazard.id] = closing
        for eid in closing:
            if self.exit_open[self.scene.exit_index(eid)]:
                events.append(self.set_exit(eid, False))
        if hazard.kind == "alarm":
            self.sound_alarm()
        self._apply_speed_hazards()
        return events

    def clear_hazard(self, hazard_id: str) -> list[dict[str, Any]]:
        """End a hazard: its speed effect stops; exits it closed reopen unless still covered.

        Raises SimulationError if no hazard with that id is in force.
        """
        found = [h for h in self.hazards if h.id == hazard_id]
        if not found:
            raise SimulationError(f"no hazard '{hazard_id}' in force")
        self.hazards.remove(found[0])
        events: list[dict[str, Any]] = [{"t": round(self.time, 6), "type": "hazard_cleared",
                                         "id": hazard_id}]
        still = {e for h in self.hazards for e in self._closed_by.get(h.id, [])}
        for eid in self._closed_by.pop(hazard_id, []):
            if eid not in still and not self.exit_open[self.scene.exit_index(eid)]:
                events.append(self.set_exit(eid, True))
        self._apply_speed_hazards()
        return events

    def order_evacuation(self, *, zone: str | None = None, floor: str | None = None) -> int:
        """Agents still waiting in group ``zone``, on floor ``floor`` (or all) start now.

        Returns how many were told to go. Raises SimulationError for an unknown zone/floor.
        """
        c = self.crowd
        mask = self._present & (c.state == State.WAITING)
        if zone is not None:
            ids = [g.id for g in self.scenario.groups]
            if zone not in ids:
                raise SimulationError(f"no zone (group) '{zone}' (zones: {', '.join(ids)})")
            mask &= c.group == ids.index(zone)
        if floor is not None:
            try:
                mask &= c.floor == self.scene.floor_index(floor)
            except KeyError:
                raise SimulationError(f"no floor with id '{floor}'") from None
        c.premovement[mask] = self.time
        if self._held is not None:
            self._held[c.id[mask]] = np.nan
        return int(np.count_nonzero(mask))

    def hold_premovement(self) -> None:
        """No alarm yet: waiting agents keep waiting until :meth:`sound_alarm`.

        Each keeps the pre-movement delay still ahead of it, counted again from the alarm.
        """
        c = self.crowd
        if self._held is None:
            self._held = np.full(self.total, np.nan)
        wait = self._present & (c.state == State.WAITING) & np.isfinite(c.premovement)
        self._held[c.id[wait]] = np.maximum(c.premovement[wait] - self.time, 0.0)
        c.premovement[wait] = np.inf

    def sound_alarm(self) -> int:
        """Held pre-movement delays start counting now; returns how many agents that concerns.

        Without a hold (the scenario's default: pre-movement counts from t = 0) it changes
        nothing.
        """
        if self._held is None:
            return 0
        c = self.crowd
        held = self._held[c.id]
        rows = np.flatnonzero(self._present & (c.state == State.WAITING) & np.isfinite(held))
        c.premovement[rows] = self.time + held[rows]
        self._held = None
        return len(rows)

    def _apply_speed_hazards(self) -> None:
        """Rebuild the per-cell speed factors from the scene's zones and the hazards."""
        factors = [f.copy() for f in self._base_speed]
        for h in self.hazards:
            k = h.speed_factor
            if k >= 1.0:
                continue
            grid = self.nav.grids[h.floor]
            if h.radius <= 0:
                if h.kind == "power_cut":
                    factors[h.floor] *= np.float32(k)
                continue
            gx, gy = grid.centres()
            inside = ((gx - h.x) ** 2 + (gy - h.y) ** 2 <= h.radius ** 2).ravel()
            factors[h.floor][inside] *= np.float32(k)
        for f in factors:
            f.flags.writeable = False
        # The cached Navigation is shared between drills: replace, never modify it.
        self.nav = dataclasses.replace(self.nav, speed_factor=tuple(factors))

    # ------------------------------------------------------------------ stepping

    def step(self) -> list[dict[str, Any]]:
        """Advance by one time step; returns the events of the step, in order."""
        events: list[dict[str, Any]] = []
        while self._pending and self._pending[0].time <= self.time + 1e-9:
            ev = self._pending.pop(0)
            events.append(self.set_exit(self.scene.exits[ev.exit].id, ev.action == "open_exit"))
        c = self.crowd
        if len(c) and (self._present.size - np.count_nonzero(self._present)
                       > COMPACT_FRACTION * len(c) or
                       (not self._present.all() and self.neighbours.stale(c.pos))):
            self._compact()
            c = self.crowd
        starting = (c.state == State.WAITING) & (c.premovement <= self.time + 1e-9)
        c.state[starting] = State.MOVING
        if self.stairs.land(self):
            self.cells = self._locate()
        self._choose_exits()
        if len(c):
            steered = np.zeros(len(c), bool)
            if len(self.steering):
                steered[self.steering.rows(c, self._present)[0]] = True
            self._move(hold=self.stairs.board(self, steered), steered=steered)
            self.stairs.walk(self)
            events.extend(self._arrivals())
        self.time = (self.tick + 1) * self.dt
        self.tick += 1
        events.extend(self._floors_cleared())
        return events

    def on_plan(self) -> np.ndarray:
        """Row mask of agents standing on a floor plan (inside, and not on a stair)."""
        return self._present & (self.crowd.state != State.ON_STAIRS)

    def positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows of agents still inside and their (x, y, z) positions, m.

        Agents on a stair are placed along it, between the elevations of its two floors.
        """
        c = self.crowd
        rows = np.flatnonzero(self._present)
        elev = np.array([f.elevation for f in self.scene.floors])
        xyz = np.column_stack([c.pos[rows], elev[c.floor[rows]]])
        stair = c.state[rows] == State.ON_STAIRS
        if stair.any():
            xyz[stair] = self.stairs.positions(self, rows[stair])
        return rows, xyz

    def _floors_cleared(self) -> list[dict[str, Any]]:
        """Note who is on each floor; an event when the last person leaves one."""
        c = self.crowd
        counts = np.bincount(c.floor[self.on_plan()], minlength=len(self.scene.floors))
        was = ~np.isnan(self.floor_last_occupied)
        prev_clear = was & (self.floor_last_occupied < self.time - self.dt - 1e-9)
        self.floor_last_occupied[counts > 0] = self.time
        events = []
        for fi in np.flatnonzero((counts == 0) & was & ~prev_clear):
            events.append({"t": round(self.time, 6), "type": "floor_clear",
                           "floor": self.scene.floors[fi].id})
        return events

    def _locate(self) -> np.ndarray:
        """Raster cell of every agent row on its own floor's grid: (n,) int64."""
        c = self.crowd
        cells = np.zeros(len(c), np.int64)
        for fi, grid in enumerate(self.nav.grids):
            rows = np.flatnonzero(c.floor == fi) if len(self.nav.grids) > 1 else slice(None)
            cells[rows] = grid.cells(c.pos[rows])
        return cells

    def _move(self, hold: np.ndarray, steered: np.ndarray) -> None:
        """Walk every agent on a floor plan for one step; ``hold`` rows stand still.

        ``steered`` rows walk as their person steers them instead of down the field.
        """
        c = self.crowd
        n = len(c)
        e0 = np.zeros((n, 2))
        people = np.flatnonzero(steered)
        rep = np.zeros((len(people), 2))
        factor = np.ones(n)
        narrow = np.zeros(n, bool)
        route = np.full(n + 1, np.inf, np.float32)
        near_rows: list[tuple[int, np.ndarray, np.ndarray]] = []
        for fi, grid in enumerate(self.nav.grids):
            rows = np.flatnonzero(c.floor == fi)
            if not len(rows):
                continue
            tgt = c.target[rows]
            go = tgt >= 0
            going = rows[go] if not go.all() else rows
            flat = tgt[go].astype(np.int64) * (grid.nx * grid.ny) + self.cells[going]
            e0[going] = np.take(self.nav.direction[fi].reshape(-1, 2), flat, axis=0)
            route[going] = np.take(self.nav.distance[fi].reshape(-1), flat)
            factor[rows] = self.nav.speed_factor[fi][self.cells[rows]]
            narrow[rows] = self.nav.clear_width[fi][self.cells[rows]] < self.params.narrow_width
            walls = self.walls[fi]
            has, cand = walls.near_some(c.pos[rows])
            if len(cand):
                r = rows[has]
                wall = walls.forces(c.pos[r], c.radius[r], cand, self.params.wall_strength,
                                    self.params.wall_range, MAX_EXPONENT)
                e0[r] += wall
                if len(people):
                    at = np.searchsorted(r, people)
                    hit = at < len(r)
                    hit[hit] = r[at[hit]] == people[hit]
                    rep[hit] = wall[at[hit]]
                near_rows.append((fi, r, cand))
        self._into_exits(e0, route)
        plan = self.on_plan()
        moving = (c.state == State.MOVING) & ((c.target >= 0) | steered) & plan & ~hold
        v0 = np.where(moving, c.v0 * factor, 0.0)
        if len(people):
            e_p, v_p = self.steering.desired(c, people, self.steering.rows(c, self._present)[1],
                                             self.cells)
            e0[people] = e_p + rep
            v0[people] = np.where(moving[people], v_p * factor[people], 0.0)
        nb = self.neighbours.update(c.pos, c.floor, c.radius)
        x = np.append(c.pos[:, 0], FAR).astype(np.float32)
        y = np.append(c.pos[:, 1], FAR).astype(np.float32)
        x[:-1][~plan] = FAR
        y[:-1][~plan] = FAR
        queue = np.append(c.target, -1).astype(np.int16)
        vel = np.zeros((n + 1, 2), np.float32)
        vel[:-1] = c.heading * c.speed[:, None]
        e, speed = desired_velocity(x, y, v0, e0, c.heading, nb, self.neighbours.reach,
                                    route, queue, self.params, velocity=vel, narrow=narrow)
        new = c.pos + e * (speed * self.dt)[:, None]
        for fi, r, cand in near_rows:
            new[r] = self.walls[fi].keep_off(c.pos[r], new[r], c.radius[r], cand)
        self._count_crossings(c.pos, new)
        c.heading = np.where(moving[:, None], e, c.heading)
        step = new - c.pos
        c.speed = np.where(plan, np.hypot(step[:, 0], step[:, 1]) / self.dt, c.speed)
        self._from = c.pos
        self._from_cells = self.cells
        c.pos = np.where(plan[:, None], new, c.pos)
        self.cells = self._locate()

    def _into_exits(self, e0: np.ndarray, route: np.ndarray) -> None:
        """Point agents standing in a cell of their exit straight at the exit's area.

        The raster field is flat inside an exit, so there the exact geometry decides.
        """
        c = self.crowd
        at = np.flatnonzero(route[:-1] == 0.0)
        for ei in np.unique(c.target[at]):
            rows = at[c.target[at] == ei]
            pts = shapely.points(c.pos[rows])
            line = shapely.shortest_line(pts, self.scene.exits[ei].polygon)
            xy = shapely.get_coordinates(line).reshape(-1, 2, 2)
            d = xy[:, 1] - xy[:, 0]
            norm = np.hypot(d[:, 0], d[:, 1])
            ok = norm > 1e-6
            e0[rows[ok]] = d[ok] / norm[ok, None]

    def _count_crossings(self, p: np.ndarray, q: np.ndarray) -> None:
        c = self.crowd
        for log, m in zip(self.measures, self.scene.measures, strict=True):
            (ax, ay), (bx, by) = np.asarray(m.line.coords)[[0, -1]]
            on = (c.floor == m.floor) & self.on_plan()
            side_p = (bx - ax) * (p[:, 1] - ay) - (by - ay) * (p[:, 0] - ax)
            side_q = (bx - ax) * (q[:, 1] - ay) - (by - ay) * (q[:, 0] - ax)
            cross = on & (np.sign(side_p) != np.sign(side_q)) & (side_p != 0)
            if not cross.any():
                continue
            # Where the move meets the line's infinite extension: must lie on the segment.
            t = side_p[cross] / (side_p[cross] - side_q[cross])
            x = p[cross] + (q[cross] - p[cross]) * t[:, None]
            s = ((x[:, 0] - ax) * (bx - ax) + (x[:, 1] - ay) * (by - ay)) / (
                (bx - ax) ** 2 + (by - ay) ** 2)
            hits = int(np.count_nonzero((s >= 0) & (s <= 1)))
            log.times.extend([self.time + self.dt] * hits)

    def _arrivals(self) -> list[dict[str, Any]]:
        c = self.crowd
        events = []
        for fi, exit_cells in enumerate(self._exit_cells):
            rows = np.flatnonzero((c.floor == fi) & self.on_plan())
            if not len(rows):
                continue
            ecell = exit_cells[self.cells[rows]]
            before = exit_cells[self._from_cells[rows]]
            for ei in np.unique(np.concatenate([ecell[ecell >= 0], before[before >= 0]])):
                if not self.exit_open[ei]:
                    continue
                r = rows[(ecell == ei) | (before == ei)]
                # The move, not just its end, counts: a fast step may cross a thin exit strip.
                poly = self.scene.exits[ei].polygon
                inside = shapely.contains_xy(poly, c.pos[r, 0], c.pos[r, 1])
                out = np.flatnonzero(~inside)
                if len(out):
                    moves = shapely.linestrings(np.stack([self._from[r[out]], c.pos[r[out]]], 1))
                    inside[out] = shapely.intersects(poly, moves)
                gone = r[inside]
                if not len(gone):
                    continue
                ids = c.id[gone]
                if len(self.steering):
                    for agent in np.intersect1d(ids, self.steering.ids):
                        self.steering.remove(int(agent))  # a handful of people, not the crowd
                t_out = self.time + self.dt
                self.exit_time[ids] = t_out
                self.exit_used[ids] = ei
                self._present[gone] = False
                c.state[gone] = State.EVACUATED
                c.speed[gone] = 0.0
                eid = self.scene.exits[ei].id
                events.extend({"t": round(t_out, 6), "type": "evacuated", "agent": int(i),
                               "exit": eid} for i in ids)
        return events

    def _compact(self) -> None:
        self.crowd.keep(self._present)
        self.cells = self.cells[self._present]
        self._from, self._from_cells = self.crowd.pos, self.cells
        self._present = np.ones(len(self.crowd), bool)
        self.neighbours.invalidate()

    # ------------------------------------------------------------------ exits

    def _exit_rasters(self) -> list[np.ndarray]:
        """Per floor, (cells,) int16: an exit that may contain a point of the cell, or -1."""
        out = []
        for fi, grid in enumerate(self.nav.grids):
            cells = np.full(grid.nx * grid.ny, -1, np.int16)
            for ei, ex in enumerate(self.scene.exits):
                if ex.floor == fi:
                    # Exit cells have distance 0; their neighbours lie within a cell or two.
                    cells[self.nav.distance[fi][ei] <= 2.0 * grid.cell] = ei
            out.append(cells)
        return out

    def _distances(self, rows: np.ndarray) -> np.ndarray:
        """Route length from each agent row to each exit: (len(rows), n_exits), m."""
        c = self.crowd
        out = np.full((len(rows), len(self.scene.exits)), np.inf)
        for fi, grid in enumerate(self.nav.grids):
            on = c.floor[rows] == fi
            if on.any():
                out[on] = self.nav.distance[fi][:, grid.cells(c.pos[rows[on]])].T
        return out

    def _own_distances(self, rows: np.ndarray) -> np.ndarray:
        """Route length from each agent row to the exit it heads for, m (inf if none)."""
        c = self.crowd
        out = np.full(len(rows), np.inf)
        for fi, grid in enumerate(self.nav.grids):
            on = (c.floor[rows] == fi) & (c.target[rows] >= 0)
            r = rows[on]
            flat = c.target[r].astype(np.int64) * (grid.nx * grid.ny) + self.cells[r]
            out[on] = self.nav.distance[fi].reshape(-1)[flat]
        return out

    def _check_reachable(self) -> None:
        d = self._distances(np.arange(len(self.crowd)))
        stuck = ~np.isfinite(d).any(axis=1)
        if stuck.any():
            gi = int(self.crowd.group[np.flatnonzero(stuck)[0]])
            n = int(np.count_nonzero(self.crowd.group[stuck] == gi))
            raise ScenarioError(
                f"{n} agents of group '{self.scenario.groups[gi].id}' can reach no exit "
                "from their area (walls enclose them)",
                source=self.scenario.source, field=f"groups[{gi}].area",
            )

    def _choose_exits(self, *, force: bool = False) -> None:
        """Assigned, nearest or quickest exit for agents on a floor plan.

        Quickest: an agent picks its exit with EXIT_CHOICE (:mod:`sim.exit_choice`) from each
        exit's cost, the walking time or the time to let the queue ahead of it through the
        door. Each step another slice of the agents on the quickest rule reconsiders (each
        agent once per CHOICE_INTERVAL). Forced (at the start, when an exit opens or closes)
        everyone chooses: the other rules first, then the quickest slice after slice, each
        slice counting in the queues the choices of the slices before it, in
        EXIT_CHOICE.rounds rounds (a whole crowd choosing at once would all see the same
        queues, at the start none at all, and then switch together; rounds = 0 does that,
        as drills once did).
        """
        c = self.crowd
        if not force and not self._quickest:
            return
        plan = np.flatnonzero(self.on_plan())
        m = max(1, round(CHOICE_INTERVAL / self.dt))
        quick, slot = c.choice[plan] == Choice.QUICKEST, c.id[plan] % m
        if force and EXIT_CHOICE.rounds:
            slices = [plan[quick & (slot == k)] for k in range(m)]
            waves = [plan[~quick], *slices * EXIT_CHOICE.rounds]
        elif force:
            waves = [plan]
        else:
            waves = [plan[quick & (slot == self.tick % m)]]
        for rows in waves:
            if not len(rows):
                continue
            dist = self._distances(rows)
            dist[:, ~self.exit_open] = np.inf
            reachable = np.isfinite(dist)
            rule = c.choice[rows]
            assigned = c.assigned[rows].astype(np.int64)
            assigned_ok = (assigned >= 0) & reachable[np.arange(len(rows)),
                                                      np.maximum(assigned, 0)]
            target = np.where(rule == Choice.ASSIGNED, assigned, dist.argmin(axis=1))
            # Quickest, and the fallback of an assigned exit that is closed or unreachable.
            q = (rule == Choice.QUICKEST) | ((rule == Choice.ASSIGNED) & ~assigned_ok)
            if q.any():
                ahead = queue_ahead(dist[q], self._own_distances(plan), c.target[plan])
                cost = quickest_cost(dist[q], c.v0[rows[q]], ahead, self._capacity)
                target[q] = EXIT_CHOICE.choose(cost, c.target[rows[q]], agents=c.id[rows[q]],
                                               seed=self.seed)
            c.target[rows] = np.where(reachable.any(axis=1), target, -1)
