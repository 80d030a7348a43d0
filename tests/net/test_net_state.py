"""Quantised snapshots and deltas: exact round trip through msgpack, size per moving agent."""

from __future__ import annotations

import msgpack
import numpy as np
from netutil import HALL

from net.script import load_drill
from net.state import AgentDecoder, AgentEncoder, quantise
from sim.drill import Drill


def _drill() -> Drill:
    scenario, _ = load_drill(HALL)
    d = Drill(scenario)
    d.apply({"type": "order_evacuation", "zone": "left"})
    return d


def _wire(fields: dict) -> dict:
    return msgpack.unpackb(msgpack.packb(fields, use_bin_type=True), raw=False)


def test_client_applying_every_delta_holds_the_servers_quantised_positions_exactly():
    d = _drill()
    enc, dec = AgentEncoder(), AgentDecoder()
    enc.reset(d)
    dec.apply_snapshot(_wire(enc.snapshot()))
    for _ in range(400):  # 20 s: agents start, walk and leave by both exits
        d.step()
        d.step()
        fields, _ = enc.delta(d)
        dec.apply_delta(_wire(fields))
        rows, xyz = d.positions()
        order = np.argsort(d.crowd.id[rows])
        assert np.array_equal(dec.ids, d.crowd.id[rows][order])
        assert np.array_equal(dec.q, quantise(xyz[order]))
        assert np.array_equal(dec.state, d.crowd.state[rows][order])
    assert d.evacuated > 0  # the run covered agents leaving


def test_snapshot_after_deltas_equals_the_decoded_stream():
    d = _drill()
    enc, dec = AgentEncoder(), AgentDecoder()
    enc.reset(d)
    dec.apply_snapshot(enc.snapshot())
    for _ in range(50):
        d.step()
        dec.apply_delta(enc.delta(d)[0])
    fresh = AgentDecoder()
    fresh.apply_snapshot(_wire(enc.snapshot()))
    assert np.array_equal(fresh.q, dec.q) and np.array_equal(fresh.ids, dec.ids)


def test_a_moving_agent_costs_about_two_bytes_in_a_delta():
    d = _drill()
    d.apply({"type": "order_evacuation", "zone": "right"})
    for _ in range(40):
        d.step()
    enc = AgentEncoder()
    enc.reset(d)
    d.step()
    d.step()  # one server tick at 10 Hz
    fields, moved = enc.delta(d)
    agent_bytes = sum(len(v) for v in fields.values())
    assert moved > 20
    assert agent_bytes / moved <= 2.5
