"""The recording file: written by drill run, read back frame for frame, damaged files."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from rec_util import hall_doc, recorded_run

from sim.drill import Drill
from sim.errors import RecordingError
from sim.recording import (
    CHUNK,
    FILE_HEAD,
    FORMAT_VERSION,
    Player,
    Recorder,
    Recording,
    verify,
)
from sim.scenario import parse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def hall_rec(tmp_path_factory) -> Path:
    return recorded_run(tmp_path_factory.mktemp("rec"), hall_doc())


def _states(doc, ticks):
    """Quantised (ids, cm) of a fresh simulation of ``doc`` at each of ``ticks``."""
    drill = Drill(parse(doc))
    out = {}
    for k in ticks:
        while drill.tick < k:
            drill.step()
        rows, xyz = drill.positions()
        out[k] = (drill.crowd.id[rows].copy(), np.rint(xyz * 100).astype(np.int32))
    return out


def test_drill_run_writes_a_recording_that_decodes_to_the_simulated_states(hall_rec):
    with Recording(hall_rec) as rec:
        assert rec.closed_cleanly and rec.damage is None
        assert rec.header["name"] == "rec_hall" and rec.header["total"] == 60
        assert "[[plan]]" in rec.header["scenario"]["toml"]
        frames = list(rec.frames())
        summary = rec.summary()
    ticks = [f.tick for f in frames]
    assert ticks == sorted(set(ticks)) and ticks[0] == 0
    assert all(b - a <= 2 for a, b in zip(ticks, ticks[1:], strict=False))  # 10 Hz at dt 0.05
    want = _states(hall_doc(), ticks[::25])
    for f in frames[::25]:
        ids, q = want[f.tick]
        assert np.array_equal(f.ids, ids) and np.array_equal(f.q, q)
    assert frames[-1].evacuated == 60 == summary["evacuated"]
    assert len(frames[-1].ids) == 0


def test_departures_carry_exit_and_time(hall_rec):
    with Recording(hall_rec) as rec:
        gone = np.concatenate([f.gone for f in rec.frames()])
        exits = np.concatenate([f.gone_exit for f in rec.frames()])
        summary = rec.summary()
    assert sorted(gone.tolist()) == list(range(60))
    assert np.bincount(exits, minlength=2).tolist() == [summary["exits"]["West"],
                                                          summary["exits"]["East"]]


def test_seek_gives_the_same_state_as_playing_through(hall_rec):
    with Recording(hall_rec) as rec:
        frames = list(rec.frames())
        player = Player(rec)
        for t in (7.3, 0.0, 15.0, 2.05, frames[-1].t + 5):
            player.seek(t)
            want = [f for f in frames if f.t <= t + 1e-9][-1]
            got = player.frame
            assert got.tick == want.tick
            assert np.array_equal(got.ids, want.ids) and np.array_equal(got.q, want.q)
            assert np.array_equal(got.state, want.state)


def test_keyframes_are_indexed(hall_rec):
    with Recording(hall_rec) as rec:
        keys = [c.t for c in rec.chunks if c.key]
        end = rec.time_range()[1]
    assert keys[0] == 0.0 and len(keys) == int(end // 10) + 1


def test_verify_matches_a_faithful_recording(hall_rec):
    with Recording(hall_rec) as rec:
        res = verify(rec)
    assert res.ok and res.frames > 100 and res.max_deviation_m == 0.0


def test_verify_reports_the_first_mismatch_when_an_unlogged_change_was_made(tmp_path):
    doc = hall_doc()
    drill = Drill(parse(doc))
    rec = Recorder(tmp_path / "x.rec", drill, scenario={"toml": None, "builtin": None,
                                                        "source": "x"})
    rec.close()  # header only, to be replaced below with the real text
    from rec_util import write_scenario

    from sim.recording import scenario_of

    text_src = write_scenario(tmp_path / "s.toml", doc)
    rec = Recorder(tmp_path / "x.rec", drill, scenario=scenario_of(str(text_src)))
    rec.frame(drill)
    while not drill.done():
        if drill.tick == 60:
            drill.set_exit("West", False)  # not through apply(): absent from the log
        drill.step()
        if drill.tick % 2 == 0:
            rec.frame(drill)
    rec.close()
    with Recording(tmp_path / "x.rec") as r:
        res = verify(r)
    assert not res.ok
    assert 60 < res.first_mismatch_tick <= 80
    assert res.max_deviation_m > 0.5


def test_a_truncated_file_reads_up_to_the_damage(hall_rec, tmp_path):
    data = hall_rec.read_bytes()
    with Recording(hall_rec) as rec:
        offsets = [c.offset for c in rec.chunks]
        full = [f.tick for f in rec.frames()]
    cut = offsets[len(offsets) // 2] + 30  # inside a chunk in the middle
    bad = tmp_path / "cut.rec"
    bad.write_bytes(data[:cut])
    with Recording(bad) as rec:
        assert not rec.closed_cleanly
        assert "cut off" in rec.damage and f"byte {offsets[len(offsets) // 2]}" in rec.damage
        ticks = [f.tick for f in rec.frames()]
        assert 0 < len(ticks) < len(full) and ticks == full[:len(ticks)]
        last = rec.time_range()[1]
        player = Player(rec)
        player.seek(1e9)
        assert player.frame.t == last and player.finished


def test_a_corrupted_chunk_stops_reading_there(hall_rec, tmp_path):
    data = bytearray(hall_rec.read_bytes())
    with Recording(hall_rec) as rec:
        c = rec.chunks[len(rec.chunks) // 2]
        assert c.offset > rec.chunks[0].offset
    data[c.offset + CHUNK.size + 5] ^= 0xFF
    bad = tmp_path / "bad.rec"
    bad.write_bytes(bytes(data))
    with Recording(bad) as rec:
        frames = list(rec.frames())
        assert "corrupted" in rec.damage and f"byte {c.offset}" in rec.damage
        assert frames and frames[-1].t < c.t + 1e-9


def test_newer_format_and_foreign_files_are_refused(hall_rec, tmp_path):
    data = bytearray(hall_rec.read_bytes())
    magic, _, reserved = FILE_HEAD.unpack(bytes(data[:FILE_HEAD.size]))
    data[:FILE_HEAD.size] = FILE_HEAD.pack(magic, FORMAT_VERSION + 1, reserved)
    newer = tmp_path / "newer.rec"
    newer.write_bytes(bytes(data))
    with pytest.raises(RecordingError, match=rf"version {FORMAT_VERSION + 1} is newer .*"
                                             rf"\(version {FORMAT_VERSION}\)"):
        Recording(newer)
    other = tmp_path / "other.rec"
    other.write_bytes(b"#framerate: 10\n1 0 0.0 0.0 0.0\n")
    with pytest.raises(RecordingError, match="not a drill recording"):
        Recording(other)
    assert struct.calcsize("<8sHH") == FILE_HEAD.size


_KILLED = """
import sys, time
from sim.drill import Drill
from sim.recording import Recorder, scenario_of
from sim.scenario import load_file
sc = load_file(sys.argv[1])
drill = Drill(sc)
rec = Recorder(sys.argv[2], drill, scenario=scenario_of(sys.argv[1]), flush_s=0.2)
rec.frame(drill)
while True:
    if drill.done():
        time.sleep(0.05)
        continue
    drill.step()
    rec.frame(drill)
    time.sleep(0.002)
"""


def test_a_killed_recorder_leaves_a_readable_file(tmp_path):
    from rec_util import write_scenario

    doc = hall_doc(simulation={"dt": 0.05, "max_time": 600, "seed": 5})
    scen = write_scenario(tmp_path / "k.toml", doc)
    path = tmp_path / "killed.rec"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED, str(scen), str(path)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if path.exists() and path.stat().st_size > 6_000:
                break
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    with Recording(path) as rec:
        assert not rec.closed_cleanly
        frames = list(rec.frames())
        assert len(frames) > 10
        assert [f.tick for f in frames] == list(range(frames[0].tick, frames[-1].tick + 1))
