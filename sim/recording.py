"""Drill recordings: an append-only, crash-safe file of everything a drill did.

A recording holds the scenario (its TOML text), the seed, every command with the tick
it took effect at, the participants' journal (reports, orders, who sent what) and the
state stream: keyframes (full quantised state) and per-frame deltas. The file is a
sequence of chunks; each chunk is a zlib-compressed msgpack list of records behind a
small header with a CRC, written, flushed and fsynced at most a second apart, so a
killed process leaves a file that reads up to its last whole chunk. The format is
described in docs/recording.md.

:class:`Recorder` observes a :class:`~sim.drill.Drill` (``drill run`` and the drill
server both feed it); :class:`Recording` reads a file; :class:`Player` decodes the state
at any time (seekable through the keyframe index); :func:`verify` re-simulates.
"""

from __future__ import annotations

import os
import struct
import time
import tomllib
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import msgpack
import numpy as np

from sim.errors import RecordingError, SimError

__all__ = [
    "FORMAT_VERSION",
    "FRAME_HZ",
    "ChunkInfo",
    "Frame",
    "Player",
    "Recorder",
    "Recording",
    "VerifyResult",
    "apply_record",
    "scenario_from_header",
    "scenario_of",
    "verify",
]

FORMAT_VERSION = 1
"""Version of the recording format this program writes and reads."""
MAGIC = b"EVDRREC\n"
FILE_HEAD = struct.Struct("<8sHH")
"""magic, format version, reserved."""
CHUNK = struct.Struct("<2sBIIId")
"""b"RC", flags, payload bytes, CRC-32 of the payload, first tick, first time (s)."""
TRAILER = struct.Struct("<8sQ")
"""b"EVDRIDX1", file offset of the index chunk (last 16 bytes of a closed file)."""
TRAILER_MAGIC = b"EVDRIDX1"
F_KEY, F_INDEX, F_HEADER = 1, 2, 4
SCALE = 100.0
"""Quantisation of positions: units per metre (centimetres, as on the wire)."""
FRAME_HZ = 10.0
"""Frames per simulated second that ``drill run`` records (the server records per tick)."""
KEYFRAME_S = 10.0
"""Simulated seconds between keyframes (a seek decodes at most this much)."""
FLUSH_S = 1.0
"""Wall seconds after which the open chunk is written, flushed and fsynced."""
MAX_CHUNK_BYTES = 8 << 20
"""Uncompressed bytes after which a chunk is written anyway."""
WAITING = 0
ZLIB_LEVEL = 1
"""zlib level of the chunks: level 1 costs a third of level 6's time for ~10 % more bytes."""


def _quantise(xyz: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(xyz, float) * SCALE).astype(np.int32)


def _b(a: np.ndarray, dtype: str) -> bytes:
    return np.ascontiguousarray(a, dtype=dtype).tobytes()


def scenario_of(source: str) -> dict[str, Any]:
    """The ``scenario`` entry of a header for a scenario read from ``source`` (a path).

    Holds the full TOML text, and the built-in name when the file is one of ``assets/``.
    """
    from sim.scenario import ASSETS

    path = Path(source)
    out: dict[str, Any] = {"source": source, "toml": None, "builtin": None}
    try:
        out["toml"] = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        pass
    try:
        if path.resolve().parent == ASSETS.resolve():
            out["builtin"] = path.stem
    except OSError:
        pass
    return out


# --------------------------------------------------------------------------- writing


class Recorder:
    """Writes a drill to a recording file as it runs; call :meth:`frame` after steps.

    ``frame`` samples the drill (ids, positions in cm, states), codes it against the
    last frame (or as a keyframe every :data:`KEYFRAME_S` simulated seconds), and logs
    new entries of ``drill.commands`` and the events and journal entries it is given.
    """

    def __init__(self, path: str | Path, drill: Any, *, scenario: dict[str, Any] | None = None,
                 meta: dict[str, Any] | None = None, keyframe_s: float = KEYFRAME_S,
                 flush_s: float = FLUSH_S):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[bytes] = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._fh.write(FILE_HEAD.pack(MAGIC, FORMAT_VERSION, 0))
        self.keyframe_s, self.flush_s = keyframe_s, flush_s
        self.closed = False
        sc = drill.scenario
        scene = sc.scene
        header = {
            "k": "header", "format": FORMAT_VERSION, "created": time.time(),
            "scenario": scenario or scenario_of(sc.source), "name": sc.name,
            "seed": int(drill.seed), "dt": float(drill.dt), "total": int(drill.total),
            "floors": [{"id": f.id, "elevation": f.elevation} for f in scene.floors],
            "exits": [{"id": e.id, "floor": e.floor, "width": e.width} for e in scene.exits],
            "groups": [g.id for g in sc.groups], "keyframe_s": keyframe_s,
            "meta": meta or {},
        }
        self._index: list[list[Any]] = []
        self._write_chunk([header], F_HEADER, 0, 0.0)
        self._sync()
        self._records: list[dict[str, Any]] = []
        self._raw = 0
        self._chunk_flags, self._chunk_tick, self._chunk_t = 0, 0, 0.0
        self._last_write = time.monotonic()
        self._last_sync = self._last_write
        self._ncmd = 0
        self._ids = np.zeros(0, np.int64)
        self._q = np.zeros((0, 3), np.int32)
        self._state = np.zeros(0, np.uint8)
        self._exits: list[bool] | None = None
        self._hazards: list[dict[str, Any]] | None = None
        self._tick = -1
        self._next_key = 0.0
        self.bytes_written = FILE_HEAD.size
        self.frames = 0

    # ------------------------------------------------------------------ public

    def frame(self, drill: Any, events: Sequence[dict[str, Any]] = (),
              journal: Sequence[dict[str, Any]] = ()) -> None:
        """Record the drill's state now, new commands, ``events`` and ``journal`` entries.

        Events of type ``evacuated`` are dropped (departures are in the state stream with
        their exit and tick). A frame at a tick already recorded only logs the rest.
        """
        if self.closed:
            return
        for tick, cmd in drill.commands[self._ncmd:]:
            self._add({"k": "cmd", "tick": int(tick), "cmd": cmd})
        self._ncmd = len(drill.commands)
        evs = [e for e in events if e.get("type") != "evacuated"]
        if evs:
            self._add({"k": "ev", "tick": int(drill.tick), "events": evs})
        for entry in journal:
            self._add({"k": "log", "entry": entry})
        if drill.tick != self._tick:
            self._sample(drill)
        self._maybe_flush()

    def close(self, summary: dict[str, Any] | None = None) -> None:
        """Write what is pending, an ``end`` record, the keyframe index and the trailer."""
        if self.closed:
            return
        if summary is not None:
            self._add({"k": "end", "summary": summary})
        self._flush()
        off = self._fh.tell()
        self._write_chunk([{"k": "index", "chunks": self._index}], F_INDEX, 0, 0.0)
        self._fh.write(TRAILER.pack(TRAILER_MAGIC, off))
        self._sync()
        self._fh.close()
        self.closed = True

    # ------------------------------------------------------------------ internals

    def _sample(self, drill: Any) -> None:
        rows, xyz = drill.positions()
        ids = drill.crowd.id[rows].astype(np.int64)
        state = drill.crowd.state[rows].astype(np.uint8)
        q = _quantise(xyz)
        if len(ids) > 1 and not (np.diff(ids) > 0).all():
            order = np.argsort(ids, kind="stable")
            ids, q, state = ids[order], q[order], state[order]
        t = float(drill.time)
        exits = [bool(x) for x in drill.exit_open]
        hazards = [h.to_dict() for h in drill.hazards]
        # A keyframe also when agents joined (people's avatars: new ids are the largest).
        key = t >= self._next_key - 1e-9 or bool(
            len(ids) and (not len(self._ids) or ids[-1] > self._ids[-1]) and self.frames)
        rec: dict[str, Any] = {"tick": int(drill.tick), "t": round(t, 6),
                               "evacuated": int(drill.evacuated)}
        keep = None
        if len(ids) != len(self._ids):
            keep = _kept(self._ids, ids)
            gone = self._ids[~keep]
            rec["gone"] = _b(gone, "<u4")
            rec["gone_exit"] = _b(drill.exit_used[gone], "<i2")
            rec["gone_t"] = _b(drill.exit_time[gone], "<f4")
        if key:
            self._next_key = (np.floor(t / self.keyframe_s + 1e-9) + 1) * self.keyframe_s
            rec.update(k="key", ids=_b(ids, "<u4"), pos=_b(q, "<i4"), state=state.tobytes(),
                       exits=exits, hazards=hazards)
            self._flush()
            self._chunk_flags, self._chunk_tick, self._chunk_t = F_KEY, rec["tick"], t
        else:
            rec["k"] = "f"
            q0, st0 = (self._q, self._state) if keep is None else (self._q[keep],
                                                                    self._state[keep])
            rec.update(_delta(q0, st0, q, state))
            if exits != self._exits:
                rec["exits"] = exits
            if hazards != self._hazards:
                rec["hazards"] = hazards
        self._ids, self._q, self._state = ids, q, state
        self._exits, self._hazards, self._tick = exits, hazards, int(drill.tick)
        self._add(rec)
        self.frames += 1

    def _add(self, rec: dict[str, Any]) -> None:
        if not self._records and not self._chunk_flags:
            self._chunk_tick = int(rec.get("tick", self._tick if self._tick >= 0 else 0))
            self._chunk_t = float(rec.get("t", self._chunk_t))
        self._records.append(rec)
        self._raw += sum(len(v) for v in rec.values() if isinstance(v, bytes)) + 64

    def _maybe_flush(self) -> None:
        now = time.monotonic()
        if now - self._last_write >= self.flush_s or self._raw >= MAX_CHUNK_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self._records:
            self._write_chunk(self._records, self._chunk_flags, self._chunk_tick, self._chunk_t)
            self._records, self._raw, self._chunk_flags = [], 0, 0
        now = time.monotonic()
        self._last_write = now
        if now - self._last_sync >= self.flush_s:
            self._sync()

    def _write_chunk(self, records: list[dict[str, Any]], flags: int, tick: int,
                     t: float) -> None:
        payload = zlib.compress(msgpack.packb(records, use_bin_type=True), ZLIB_LEVEL)
        off = self._fh.tell()
        self._fh.write(CHUNK.pack(b"RC", flags, len(payload), zlib.crc32(payload), tick, t))
        self._fh.write(payload)
        self._fh.flush()
        self.bytes_written = off + CHUNK.size + len(payload)
        if not flags & (F_INDEX | F_HEADER):
            self._index.append([off, tick, t, flags & F_KEY])

    def _sync(self) -> None:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._last_sync = time.monotonic()


def _kept(ids0: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Mask of ``ids0`` still in ``ids`` (both ascending, ``ids`` a subset of ``ids0``)."""
    if not len(ids):
        return np.zeros(len(ids0), bool)
    at = np.minimum(np.searchsorted(ids, ids0), len(ids) - 1)
    return ids[at] == ids0


def _delta(q0: np.ndarray, st0: np.ndarray, q: np.ndarray,
           state: np.ndarray) -> dict[str, Any]:
    """Code (q, state) against the previous frame's rows of the same agents.

    See docs/recording.md: state changes, a bit mask of the moving agents that moved,
    their dx then dy (int8 cm), and (slot, dx, dy, dz) for every other move.
    """
    out: dict[str, Any] = {}
    changed = np.flatnonzero(state != st0)
    if len(changed):
        out["st"] = _b(changed, "<u4")
        out["stv"] = state[changed].tobytes()
    d = q - q0
    dx, dy, dz = d[:, 0], d[:, 1], d[:, 2]
    moved = (dx != 0) | (dy != 0) | (dz != 0)
    active = state != WAITING
    # |dx|, |dy| <= 127 as one unsigned comparison each
    fits = ((dx + 127).view(np.uint32) <= 254) & ((dy + 127).view(np.uint32) <= 254)
    small = moved & active & fits & (dz == 0)
    far = moved & ~small
    if small.any():
        out["moved"] = np.packbits(small[active]).tobytes()
        # dx of every mover, then dy: planes compress better than interleaved pairs.
        out["dxy"] = np.concatenate([dx[small], dy[small]]).astype(np.int8).tobytes()
    if far.any():
        out["far"] = _b(np.column_stack([np.flatnonzero(far), d[far]]), "<i4")
    return out


# --------------------------------------------------------------------------- reading


@dataclass
class Frame:
    """The decoded state at one recorded frame."""

    tick: int
    t: float
    """Simulated time, s."""
    ids: np.ndarray
    """(n,) int64 ids of the agents inside, ascending."""
    q: np.ndarray
    """(n, 3) int32 positions, cm."""
    state: np.ndarray
    """(n,) uint8 agent state (0 waiting, 1 moving, 3 on a stair)."""
    exits: list[bool]
    hazards: list[dict[str, Any]]
    evacuated: int
    gone: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """Ids that left since the previous frame."""
    gone_exit: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    gone_t: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    @property
    def xyz(self) -> np.ndarray:
        """(n, 3) positions, m."""
        return self.q / SCALE


@dataclass
class ChunkInfo:
    """Where a chunk starts (byte offset), its first tick and time (s), keyframe or not."""

    offset: int
    tick: int
    t: float
    key: bool


class Recording:
    """A recording file opened for reading: header, chunk index, damage report.

    Raises RecordingError for a file that is not a recording, or one of a newer format.
    A truncated or corrupted file opens; :attr:`damage` then says where it stops.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._fh: IO[bytes] = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        except OSError as exc:
            raise RecordingError(f"{path}: cannot open ({exc.strerror or exc})") from None
        self.size = self.path.stat().st_size
        head = self._fh.read(FILE_HEAD.size)
        if len(head) < FILE_HEAD.size or head[:8] != MAGIC:
            raise RecordingError(f"{path}: not a drill recording (bad magic)")
        _, version, _ = FILE_HEAD.unpack(head)
        if version > FORMAT_VERSION:
            raise RecordingError(f"{path}: recording format version {version} is newer than "
                                 f"this program reads (version {FORMAT_VERSION})")
        self.damage: str | None = None
        """Where and why reading stops early, or None for a whole file."""
        self.closed_cleanly = False
        """Whether the file ends with its index and trailer (the recorder closed it)."""
        self.end_offset = self.size
        try:
            recs, _ = self._read_chunk(FILE_HEAD.size)
        except RecordingError as exc:
            raise RecordingError(f"{path}: no readable header ({exc})") from None
        self.header: dict[str, Any] = recs[0]
        if self.header.get("format", 0) > FORMAT_VERSION:
            raise RecordingError(f"{path}: recording format version {self.header['format']} is "
                                 f"newer than this program reads (version {FORMAT_VERSION})")
        self._first = self._fh.tell()
        self.chunks = self._load_index() or self._scan()
        self._all: list[dict[str, Any]] | None = None
        self._range = (0.0, 0.0)

    # ------------------------------------------------------------------ chunks

    def _read_chunk(self, offset: int) -> tuple[list[dict[str, Any]], int]:
        """Records of the chunk at ``offset`` and its flags; RecordingError if damaged."""
        self._fh.seek(offset)
        head = self._fh.read(CHUNK.size)
        if len(head) < CHUNK.size:
            raise RecordingError(f"truncated chunk header at byte {offset}")
        magic, flags, n, crc, _, _ = CHUNK.unpack(head)
        if magic != b"RC":
            raise RecordingError(f"no chunk at byte {offset} (bad chunk magic)")
        payload = self._fh.read(n)
        if len(payload) < n:
            raise RecordingError(f"chunk at byte {offset} is cut off ({len(payload)} of {n} "
                                 "bytes)")
        if zlib.crc32(payload) != crc:
            raise RecordingError(f"chunk at byte {offset} is corrupted (CRC mismatch)")
        try:
            recs = msgpack.unpackb(zlib.decompress(payload), raw=False, strict_map_key=False)
        except Exception as exc:  # noqa: BLE001 - zlib/msgpack raise many kinds
            raise RecordingError(f"chunk at byte {offset} cannot be decoded "
                                 f"({type(exc).__name__})") from None
        if not isinstance(recs, list) or not all(isinstance(r, dict) for r in recs):
            raise RecordingError(f"chunk at byte {offset} does not hold a list of records")
        return recs, flags

    def _load_index(self) -> list[ChunkInfo] | None:
        if self.size < FILE_HEAD.size + TRAILER.size:
            return None
        self._fh.seek(self.size - TRAILER.size)
        magic, off = TRAILER.unpack(self._fh.read(TRAILER.size))
        if magic != TRAILER_MAGIC or not self._first <= off < self.size:
            return None
        try:
            recs, flags = self._read_chunk(off)
        except RecordingError:
            return None
        if not flags & F_INDEX:
            return None
        self.closed_cleanly = True
        self.end_offset = off
        return [ChunkInfo(int(o), int(k), float(t), bool(key)) for o, k, t, key
                in recs[0]["chunks"]]

    def _scan(self) -> list[ChunkInfo]:
        """Walk the chunk headers (no index): stop at the first damaged one."""
        out: list[ChunkInfo] = []
        off = self._first
        while off < self.size:
            self._fh.seek(off)
            head = self._fh.read(CHUNK.size)
            if len(head) < CHUNK.size:
                self.damage = f"file ends inside a chunk header at byte {off}"
                break
            magic, flags, n, _, tick, t = CHUNK.unpack(head)
            if magic != b"RC":
                self.damage = f"no chunk at byte {off} (bad chunk magic)"
                break
            if off + CHUNK.size + n > self.size:
                self.damage = (f"file is cut off in the chunk at byte {off} "
                               f"(t = {t:.1f} s); {self.size - off} of {CHUNK.size + n} bytes")
                break
            if flags & F_INDEX:
                break
            out.append(ChunkInfo(off, tick, t, bool(flags & F_KEY)))
            off += CHUNK.size + n
        self.end_offset = off
        return out

    def records(self, start: int = 0) -> Iterator[dict[str, Any]]:
        """Records in file order from chunk number ``start``; stops at damage (noted)."""
        for ci in self.chunks[start:]:
            try:
                recs, _ = self._read_chunk(ci.offset)
            except RecordingError as exc:
                self.damage = self.damage or f"{exc} (t = {ci.t:.1f} s)"
                self.chunks = self.chunks[:self.chunks.index(ci)]
                return
            yield from recs

    def all_records(self) -> list[dict[str, Any]]:
        """Every readable record other than frames (cached; frames: :meth:`frames`)."""
        if self._all is None:
            self._all, first, last = [], None, None
            for r in self.records():
                if r["k"] in ("key", "f"):
                    first = float(r["t"]) if first is None else first
                    last = float(r["t"])
                else:
                    self._all.append(r)
            self._range = (first or 0.0, last or 0.0)
        return self._all

    # ------------------------------------------------------------------ content

    @property
    def dt(self) -> float:
        """Time step of the recorded drill, s."""
        return float(self.header["dt"])

    @property
    def seed(self) -> int:
        """Seed of the recorded drill."""
        return int(self.header["seed"])

    def commands(self) -> list[tuple[int, dict[str, Any]]]:
        """Every command with the tick it took effect at, in order."""
        return [(int(r["tick"]), r["cmd"]) for r in self.all_records() if r["k"] == "cmd"]

    def people(self) -> list[dict[str, Any]]:
        """Participants who walked in the crowd: agent id, name, participant id, joined (s)."""
        return [{"agent": int(c["agent"]), "name": str(c.get("name", "")),
                 "pid": c.get("pid"), "joined_s": round(tick * self.dt, 3)}
                for tick, c in self.commands() if c.get("type") == "person_join"]

    @property
    def total(self) -> int:
        """Agents of the recorded drill: the scenario's and the participants' avatars."""
        return int(self.header["total"]) + len(self.people())

    def journal(self) -> list[dict[str, Any]]:
        """Journal entries (who sent which command or report, when)."""
        return [r["entry"] for r in self.all_records() if r["k"] == "log"]

    def events(self) -> list[dict[str, Any]]:
        """Drill events other than departures (exits closed, hazards, floors clear)."""
        return [e for r in self.all_records() if r["k"] == "ev" for e in r["events"]]

    def summary(self) -> dict[str, Any] | None:
        """The ``end`` record's summary, if the drill was closed with one."""
        ends = [r for r in self.all_records() if r["k"] == "end"]
        return ends[-1]["summary"] if ends else None

    def time_range(self) -> tuple[float, float]:
        """First and last frame time that can be read, s."""
        self.all_records()
        return self._range

    def frames(self, start: int = 0) -> Iterator[Frame]:
        """Decoded frames in order, from chunk ``start`` (which must start with a keyframe)."""
        frame: Frame | None = None
        for r in self.records(start):
            if r["k"] not in ("key", "f"):
                continue
            frame = apply_record(frame, r)
            if frame is not None:
                yield frame

    def scenario(self) -> Any:
        """The recorded scenario, parsed again (RecordingError if it cannot be)."""
        return scenario_from_header(self.header)

    def close(self) -> None:
        """Close the file."""
        self._fh.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def apply_record(frame: Frame | None, r: dict[str, Any]) -> Frame | None:
    """The frame after record ``r`` (a ``key`` or ``f`` record); None before a keyframe."""
    gone_fields: dict[str, np.ndarray] = {}
    if "gone" in r:
        gone_fields = {"gone": np.frombuffer(r["gone"], "<u4").astype(np.int64),
                       "gone_exit": np.frombuffer(r["gone_exit"], "<i2"),
                       "gone_t": np.frombuffer(r["gone_t"], "<f4")}
    if r["k"] == "key":
        return Frame(tick=int(r["tick"]), t=float(r["t"]),
                     ids=np.frombuffer(r["ids"], "<u4").astype(np.int64),
                     q=np.frombuffer(r["pos"], "<i4").reshape(-1, 3).copy(),
                     state=np.frombuffer(r["state"], np.uint8).copy(),
                     exits=list(r["exits"]), hazards=list(r["hazards"]),
                     evacuated=int(r["evacuated"]), **gone_fields)
    if frame is None:
        return None
    ids, q, state = frame.ids, frame.q, frame.state
    if "gone" in gone_fields:
        keep = ~np.isin(ids, gone_fields["gone"])
        ids, q, state = ids[keep], q[keep], state[keep]
    q, state = q.copy(), state.copy()
    if "st" in r:
        state[np.frombuffer(r["st"], "<u4")] = np.frombuffer(r["stv"], np.uint8)
    if "moved" in r:
        active = np.flatnonzero(state != WAITING)
        bits = np.unpackbits(np.frombuffer(r["moved"], np.uint8), count=len(active))
        dxy = np.frombuffer(r["dxy"], np.int8).reshape(2, -1).T
        q[active[bits.astype(bool)], :2] += dxy
    if "far" in r:
        far = np.frombuffer(r["far"], "<i4").reshape(-1, 4)
        q[far[:, 0]] += far[:, 1:]
    return Frame(tick=int(r["tick"]), t=float(r["t"]), ids=ids, q=q, state=state,
                 exits=list(r.get("exits", frame.exits)),
                 hazards=list(r.get("hazards", frame.hazards)),
                 evacuated=int(r["evacuated"]), **gone_fields)


def scenario_from_header(header: dict[str, Any]) -> Any:
    """Parse the scenario stored in a recording header (tables of net scripts dropped)."""
    from sim.scenario import load, parse

    sc = header.get("scenario") or {}
    text = sc.get("toml")
    try:
        if text is None:
            if not sc.get("builtin"):
                raise RecordingError("the recording holds neither scenario text nor a "
                                     "built-in name")
            return load(sc["builtin"])
        data = tomllib.loads(text)
        data.pop("drill", None)  # live-drill tables (net/script.py): injects are commands
        data.pop("injects", None)
        return parse(data, source=f"{sc.get('source') or '<recording>'} (recorded)")
    except tomllib.TOMLDecodeError as exc:
        raise RecordingError(f"recorded scenario is not valid TOML: {exc}") from None


# --------------------------------------------------------------------------- playing


class Player:
    """The state of a recording at a chosen time: :meth:`seek` and :meth:`advance`.

    Seeking jumps to the last keyframe at or before the time (chunk index) and decodes
    forward, so it costs at most :data:`KEYFRAME_S` of frames.
    """

    def __init__(self, rec: Recording):
        self.rec = rec
        self.frame: Frame | None = None
        self._it: Iterator[dict[str, Any]] = iter(())
        self._peek: dict[str, Any] | None = None
        self.finished = False
        """No frame after the current one can be read."""
        self.seek(0.0)

    def _key_chunk(self, t: float) -> int:
        keys = [i for i, c in enumerate(self.rec.chunks) if c.key and c.t <= t + 1e-9]
        if not keys:
            keys = [i for i, c in enumerate(self.rec.chunks) if c.key][:1]
        if not keys:
            raise RecordingError(f"{self.rec.path}: no keyframe can be read"
                                 + (f" ({self.rec.damage})" if self.rec.damage else ""))
        return keys[-1]

    def seek(self, t: float) -> list[dict[str, Any]]:
        """Go to the last frame at or before ``t`` (s); returns the records passed over."""
        self._it = self.rec.records(self._key_chunk(t))
        self._peek, self.frame, self.finished = None, None, False
        self._next()
        return self.advance_to(t)

    def _next(self) -> dict[str, Any] | None:
        self._peek = next(self._it, None)
        return self._peek

    def advance_to(self, t: float) -> list[dict[str, Any]]:
        """Decode frames up to time ``t`` (s); returns the non-frame records passed."""
        passed: list[dict[str, Any]] = []
        while self._peek is not None:
            r = self._peek
            if r["k"] in ("key", "f"):
                if self.frame is not None and float(r["t"]) > t + 1e-9:
                    break
                self.frame = apply_record(self.frame, r)
            else:
                passed.append(r)
            self._next()
        self.finished = self._peek is None
        return passed


# --------------------------------------------------------------------------- verifying


@dataclass
class VerifyResult:
    """Outcome of re-simulating a recording."""

    frames: int
    """Recorded frames compared."""
    first_mismatch_tick: int | None
    first_mismatch_t: float | None
    max_deviation_m: float
    """Largest distance between a recorded and a re-simulated position, m."""
    mismatched_frames: int
    id_mismatches: int
    """Frames where the set of agents inside differed."""
    damage: str | None

    @property
    def ok(self) -> bool:
        """Whether every compared frame matched."""
        return self.first_mismatch_tick is None


def verify(rec: Recording, *, progress: Any = None) -> VerifyResult:
    """Re-simulate the recorded scenario with its seed and commands; compare each frame.

    Compared: the agents inside, their states, their positions as recorded (integer
    cm), and which exits are open. Raises RecordingError if the
    scenario cannot be rebuilt.
    """
    from sim.drill import Drill

    try:
        drill = Drill(rec.scenario(), seed=rec.seed)
    except RecordingError:
        raise
    except SimError as exc:
        raise RecordingError(f"cannot rebuild the recorded drill: {exc}") from None
    cmds: dict[int, list[dict[str, Any]]] = {}
    for tick, cmd in rec.commands():
        cmds.setdefault(tick, []).append(cmd)
    if abs(drill.dt - rec.dt) > 1e-12:
        raise RecordingError(f"recorded dt {rec.dt} differs from the scenario's {drill.dt}")
    first_tick = first_t = None
    max_dev, bad, id_bad, n = 0.0, 0, 0, 0
    for frame in rec.frames():
        if frame.tick < drill.tick:
            continue
        while drill.tick < frame.tick and not drill.done():
            for cmd in cmds.pop(drill.tick, []):
                try:
                    drill.apply(cmd)
                except SimError as exc:
                    raise RecordingError(f"the command recorded at tick {drill.tick} fails "
                                         f"when re-simulated: {exc}") from None
            drill.step()
        if drill.tick < frame.tick:
            # A late command may have been applied after the end; stop comparing.
            break
        rows, xyz = drill.positions()
        ids = drill.crowd.id[rows]
        order = np.argsort(ids, kind="stable")
        ids, q = ids[order], _quantise(xyz)[order]
        state = drill.crowd.state[rows][order]
        n += 1
        same_ids = len(ids) == len(frame.ids) and bool((ids == frame.ids).all())
        if same_ids:
            dev = np.abs(q - frame.q).max(initial=0) / SCALE
            diff = dev > 0 or bool((state != frame.state).any())
        else:
            id_bad += 1
            common, ia, ib = np.intersect1d(ids, frame.ids, return_indices=True)
            dev = (np.linalg.norm((q[ia] - frame.q[ib]) / SCALE, axis=1).max(initial=0)
                   if len(common) else 0.0)
            diff = True
        if same_ids and dev > 0:
            dev = float(np.linalg.norm((q - frame.q) / SCALE, axis=1).max())
        if [bool(x) for x in drill.exit_open] != list(frame.exits):
            diff = True  # an exit open in one and closed in the other
        max_dev = max(max_dev, float(dev))
        if diff:
            bad += 1
            if first_tick is None:
                first_tick, first_t = frame.tick, frame.t
        if progress is not None:
            progress(frame)
    return VerifyResult(frames=n, first_mismatch_tick=first_tick, first_mismatch_t=first_t,
                        max_deviation_m=max_dev, mismatched_frames=bad, id_mismatches=id_bad,
                        damage=rec.damage)
