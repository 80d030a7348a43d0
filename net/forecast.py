"""Live forecasts of served drills on Dask (the instructor's ``forecast`` message).

A :class:`Forecaster` holds a Dask client: to a scheduler given by address (``drill serve
--scheduler``), or to a :class:`distributed.LocalCluster` it starts on this machine, one
worker process per core, each at a lower CPU priority than the drill server so that the
drills keep their tick. :meth:`Forecaster.run` sends one drill snapshot to the cluster once
and runs the copies of :func:`sim.forecast.run_ahead` there, reporting each copy as it
ends. Its calls block: the server makes them in a thread of its own.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from net.errors import NetError

__all__ = ["NICE", "QUIET_WORKERS", "Forecaster"]

NICE = 10
"""CPU niceness added to the local cluster's worker processes (drills tick first)."""
QUIET_WORKERS = {"distributed.worker.profile.enabled": False}
"""Dask configuration of the local cluster's workers: no statistical profiler (it samples
the running task every 10 ms and made forecast copies of the mall 45 % slower)."""
CONNECT_TIMEOUT = "10s"
"""How long a scheduler given by address may take to answer."""


class _Nice(WorkerPlugin):
    """Dask worker plugin: lower the priority of the worker's process once."""

    name = "evacdrill-nice"

    def setup(self, worker: Any) -> None:  # noqa: ANN401 - a distributed.Worker
        with contextlib.suppress(OSError, AttributeError):
            os.nice(NICE)


def _warm_worker(snapshot: bytes) -> None:
    from sim.agents.kernels import warm_up
    from sim.drill import Drill

    warm_up()
    Drill.restore(snapshot)


class Forecaster:
    """Runs forecast copies on a Dask cluster: ``start()``, ``run(...)``, ``close()``."""

    def __init__(self, scheduler: str | None = None, *, workers: int | None = None):
        self.scheduler = scheduler
        """The scheduler's address, or None: a local cluster of ``workers`` processes."""
        self.workers = workers or os.cpu_count() or 1
        self._client: Any = None
        self._cluster: Any = None
        self._lock = threading.Lock()
        self._running: set[Any] = set()
        """Futures of the copies (and snapshots) in flight."""
        self._closing = False

    @property
    def address(self) -> str | None:
        """The scheduler's address once started (a local cluster's too), else None."""
        return None if self._client is None else self._client.scheduler.address

    def start(self) -> None:
        """Connect to the scheduler, or start the local cluster (blocking; idempotent).

        Raises NetError naming the address when a scheduler cannot be reached.
        """
        with self._lock:
            if self._client is not None:
                return
            import dask
            from distributed import Client, LocalCluster

            if self.scheduler:
                try:
                    self._client = Client(self.scheduler, timeout=CONNECT_TIMEOUT)
                except (OSError, TimeoutError) as exc:
                    raise NetError(f"--scheduler {self.scheduler}: cannot reach it "
                                   f"({type(exc).__name__}: {exc})") from None
                return
            # ":0": the scheduler's HTTP routes on a free port (servers and sweeps on one
            # machine do not compete for 8787).
            with dask.config.set(QUIET_WORKERS):
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                             processes=True, dashboard_address=":0",
                                             silence_logs=40)
            self._client = Client(self._cluster)
            self._client.register_plugin(_Nice())

    def warm(self, snapshot: bytes) -> None:
        """Have every worker build the drill's navigation fields (cached per process) and
        load the compiled kernels now, so that a first forecast does not wait for them."""
        self.start()
        self._client.run(_warm_worker, snapshot)

    def run(self, snapshot: bytes, seeds: list[int], *, horizon: float,
            commands: list[tuple[float, dict[str, Any]]], order: bool = False,
            progress: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
        """Run one copy of ``snapshot`` per seed; ``progress`` gets each copy's figures as
        it ends. A copy lost with its worker is reported as failed."""
        from distributed import as_completed

        from sim.forecast import run_ahead

        self.start()
        client = self._client
        try:
            snap = client.scatter(snapshot, broadcast=True, hash=False)
        except (OSError, TimeoutError) as exc:
            raise NetError(f"the forecast cluster ({self.address}) cannot be reached "
                           f"({type(exc).__name__})") from None
        futures = {client.submit(run_ahead, snap, seed, horizon=horizon, commands=commands,
                                 order=order, pure=False): seed for seed in seeds}
        with self._lock:
            self._running |= {snap, *futures}
        results = []
        try:
            for fut in as_completed(futures):
                if self._closing:  # close() cancelled the copies: nothing more will come
                    raise NetError("the forecast was stopped: the server is closing")
                try:
                    r = fut.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker fails one copy
                    r = {"seed": futures[fut], "ok": False,
                         "error": f"{type(exc).__name__}: {exc}"}
                results.append(r)
                if progress is not None:
                    progress(r)
        finally:
            with self._lock:
                self._running -= {snap, *futures}
            if not self._closing:
                with contextlib.suppress(Exception):
                    client.cancel([snap])
        return results

    def close(self) -> None:
        """Stop the copies in flight, disconnect, and stop the local cluster if this
        forecaster started one. A :meth:`run` waiting for copies then raises NetError
        (rather than waiting for ever on a closed client)."""
        with self._lock:
            self._closing = True
            running = list(self._running)
        if running and self._client is not None:
            with contextlib.suppress(Exception):
                self._client.cancel(running, force=True)
        with self._lock:
            if self._client is not None:
                with contextlib.suppress(Exception):
                    self._client.close()
            if self._cluster is not None:
                with contextlib.suppress(Exception):
                    self._cluster.close()
            self._client = self._cluster = None
