"""Damaged recordings: any cut or flipped byte reads up to the damage or is refused cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rec_util import hall_doc, write_scenario

from sim.drill import Drill
from sim.errors import RecordingError
from sim.recording import Player, Recorder, Recording, scenario_of
from sim.scenario import load_file


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> tuple[Path, bytes, int]:
    """A recording with a keyframe (and so a chunk) every half simulated second."""
    tmp = tmp_path_factory.mktemp("fuzz")
    src = write_scenario(tmp / "hall.toml", hall_doc())
    drill = Drill(load_file(src))
    path = tmp / "many_chunks.rec"
    rec = Recorder(path, drill, scenario=scenario_of(str(src)), keyframe_s=0.5)
    rec.frame(drill)
    while not drill.done():
        drill.step()
        if drill.tick % 2 == 0:
            rec.frame(drill)
    rec.close()
    with Recording(path) as rec:
        assert len(rec.chunks) > 15
        n = sum(1 for _ in rec.frames())
    return path, path.read_bytes(), n


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damage_never_escapes_as_anything_but_recording_error(original, tmp_path, data):
    _, raw, n_frames = original
    blob = bytearray(raw)
    if data.draw(st.booleans(), label="cut"):
        blob = blob[:data.draw(st.integers(0, len(blob) - 1), label="at")]
    else:
        for _ in range(data.draw(st.integers(1, 4), label="flips")):
            i = data.draw(st.integers(0, len(blob) - 1), label="byte")
            blob[i] ^= data.draw(st.integers(1, 255), label="mask")
    path = tmp_path / "damaged.rec"
    path.write_bytes(bytes(blob))
    try:
        rec = Recording(path)
    except RecordingError:
        return
    with rec:
        frames = list(rec.frames())
        assert len(frames) <= n_frames
        if rec.damage is None and rec.closed_cleanly and len(blob) == len(raw):
            assert len(frames) == n_frames or frames == []
        if frames:
            ticks = [f.tick for f in frames]
            assert ticks == sorted(ticks)
            try:
                player = Player(rec)
            except RecordingError:
                return
            player.seek(data.draw(st.floats(0, 60), label="t"))
            assert player.frame is None or player.frame.t <= frames[-1].t + 60
