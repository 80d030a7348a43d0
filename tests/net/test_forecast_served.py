"""Live forecasts in a served drill: an instructor asks (or an inject does), the copies run
on a real Dask cluster, the instructors get the answer, nobody else hears of it, and the
drill goes on ticking meanwhile."""

from __future__ import annotations

import asyncio

import pytest
from netutil import HALL, TIMEOUT, client, run, served

from net.client import DrillClient
from net.errors import NetError
from net.server import DrillServer, ServerConfig
from net.workers import FrontServer


@pytest.fixture(scope="module")
def scheduler():
    """A local Dask cluster of two worker processes that the tests' servers connect to."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=40) as cluster:
        yield cluster.scheduler_address


async def _answer(c: DrillClient, fid: int) -> tuple[list[dict], dict]:
    """The progress messages and the result (or error) of forecast ``fid``."""
    progress = []
    while True:
        m = await c.next("forecast_progress", "forecast_result", "error", timeout=20 * TIMEOUT)
        if m["type"] == "forecast_progress" and m["id"] == fid:
            progress.append(m)
        elif m["type"] == "forecast_result" and m["id"] == fid:
            return progress, m
        elif m.get("reason") == "forecast_failed" and m["detail"]["id"] == fid:
            return progress, m


def _heard(c: DrillClient) -> list[str]:
    return [m["type"] for m in list(c._queue._queue) if m["type"].startswith("forecast")]


def test_an_instructor_gets_a_forecast_that_nobody_else_hears_of(scheduler):
    async def body():
        async with served(HALL, forecast=True, scheduler=scheduler) as (srv, room), \
                client(srv, room, "instructor") as ins, \
                client(srv, room, "participant", "张三") as par, \
                client(srv, room, "observer") as obs:
            await ins.request("start")
            while room.drill.time < 3.0:
                await asyncio.sleep(0.05)
            ack = await ins.request("forecast", runs=4)
            assert (ack["type"], ack["of"]) == ("ack", "forecast")
            seq_before = par.seq
            progress, result = await _answer(ins, ack["id"])
            assert [p["done"] for p in progress] == [0, 1, 2, 3, 4]
            # From two copies on, each step of the way carries a first estimate.
            assert [p.get("remaining_s") is not None for p in progress] == [False, False, True,
                                                                      True, True]
            assert result["type"] == "forecast_result" and result["ref"] == ack["ref"]
            assert result["runs"] == 4 and result["finished"] == 4 and not result["failed"]
            assert result["t"] >= 3.0
            r = result["remaining_s"]
            assert 0 < r["min"] <= r["p50"] <= r["p95"] <= r["max"]
            assert progress[-1]["remaining_s"] == r
            assert {e["id"] for e in result["exits"]} == {"West", "East"}
            assert [f["id"] for f in result["floors"]] == ["G"]
            assert par.seq > seq_before  # the drill ticked on while the copies ran
            await par.until(lambda c: c.seq > seq_before + 2)
            assert _heard(par) == [] and _heard(obs) == []
    run(body)


def test_a_forecast_is_the_instructors_alone_and_one_at_a_time(scheduler):
    async def body():
        async with served(HALL, forecast=True, scheduler=scheduler) as (srv, room), \
                client(srv, room, "instructor") as ins, \
                client(srv, room, "participant", "张三") as par:
            refused = await par.request("forecast")
            assert (refused["type"], refused["code"]) == ("error", "forbidden")
            first = await ins.request("forecast", runs=2)
            again = await ins.request("forecast", runs=2)
            assert (again["code"], again["reason"]) == ("busy", "forecast_running")
            assert again["detail"]["id"] == first["id"]
            bad = await ins.request("forecast", runs=0)
            assert bad["code"] == "bad_field" and "runs" in bad["message"]
            _, result = await _answer(ins, first["id"])
            assert result["type"] == "forecast_result" and result["by"] == ins.welcome[
                "participant_id"]
            # Not started yet: the copies run the whole evacuation from t = 0.
            assert result["t"] == 0.0 and result["finished"] == 2
    run(body)


def test_an_inject_starts_a_forecast_by_itself(scheduler):
    async def body():
        async with served(HALL, forecast=True, scheduler=scheduler,
                          forecast_after_inject=True, forecast_runs=2) as (srv, room), \
                client(srv, room, "instructor") as ins:
            await ins.request("start")
            ack = await ins.request("inject", event={"kind": "block_exit", "exit": "West"})
            assert ack["type"] == "ack"
            progress, result = await _answer(ins, 1)
            assert progress[0]["by"] == "inject" and result["by"] == "inject"
            west = next(e for e in result["exits"] if e["id"] == "West")
            assert result["finished"] == 2 and west["people_p50"] == 0
    run(body)


def test_closing_the_server_stops_a_forecast_in_flight(scheduler):
    async def body():
        async with served(HALL, forecast=True, scheduler=scheduler) as (srv, room), \
                client(srv, room, "instructor") as ins:
            ack = await ins.request("forecast", runs=8)
            assert ack["type"] == "ack"
            await ins.next("forecast_progress")
            forecaster = srv.forecaster
        # The copies in flight were cancelled and the thread waiting for them has returned
        # (a thread left waiting on a closed client would hang the event loop's shutdown).
        async with asyncio.timeout(TIMEOUT):
            while forecaster._running:
                await asyncio.sleep(0.05)
    run(body)


def test_a_server_without_forecasts_says_so():
    async def body():
        async with served(HALL) as (srv, room), client(srv, room, "instructor") as ins:
            reply = await ins.request("forecast")
            assert (reply["type"], reply["code"]) == ("error", "unavailable")
            assert "--no-forecast" in reply["message"]
    run(body)


def test_an_unreachable_scheduler_is_named_when_the_server_starts():
    async def body():
        server = DrillServer(ServerConfig(port=0, forecast=True, scheduler="tcp://127.0.0.1:9"))
        with pytest.raises(NetError, match=r"--scheduler tcp://127.0.0.1:9: cannot reach it"):
            await server.start()
        await server.close()
    run(body)


def test_workers_behind_a_front_forecast_on_its_local_cluster():
    async def body():
        front = FrontServer(ServerConfig(port=0, report=False, forecast=True,
                                         forecast_workers=1), workers=2)
        await front.start()
        try:
            assert front.forecaster.address.startswith("tcp://127.0.0.1:")
            info = await front.open_drill(str(HALL))
            async with DrillClient(front.url, drill=info["drill"],
                                   token=info["tokens"]["instructor"], name="导调",
                                   timeout=3 * TIMEOUT) as ins:
                ack = await ins.request("forecast", runs=2)
                _, result = await _answer(ins, ack["id"])
                assert result["type"] == "forecast_result" and result["finished"] == 2
        finally:
            await front.close()
    run(body)
