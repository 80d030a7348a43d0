"""A verification case: a scenario file, a measuring function and its criterion.

A case's ``measure(run, quick)`` runs its scenario document(s) with ``run`` (this engine,
:class:`sim.verify.engine.Engine`, or JuPedSim, :class:`sim.verify.jps.JuPedSim`; both
take ``run(doc, seed=..., frames=..., observe=...)`` and return an
:class:`~sim.verify.engine.Outcome`) and returns what it measured
(:class:`~sim.verify.record.Measured`). ``quick`` asks for the smaller variant CI runs.
Cases register themselves in :data:`CASES` with :func:`case`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.verify.record import Measured, Text

__all__ = ["CASES", "ISO", "ISO_FULL", "NIST", "NIST_FULL", "RIMEA", "RIMEA_FULL", "Case", "Runner",
           "case", "pct", "steady_flow"]

Runner = Callable[..., Any]
"""``run(doc, *, seed=None, frames=False, observe=None) -> Outcome``."""

RIMEA = "RiMEA"
"""The guideline the RiMEA cases follow, as cited per test (in full: :data:`RIMEA_FULL`)."""
RIMEA_FULL = "RiMEA — Richtlinie für Mikroskopische Entfluchtungsanalysen, v3.0 (2016) and v4"
NIST = "NIST TN 1822"
"""Ronchi, Kuligowski, Reneke, Peacock, Nilsson (2013), as cited per test."""
NIST_FULL = ("NIST Technical Note 1822: E. Ronchi, E. D. Kuligowski, P. A. Reneke, R. D. Peacock, "
             "D. Nilsson (2013), The Process of Verification and Validation of Building Fire "
             "Evacuation Models")
ISO = "ISO 20414:2020"
ISO_FULL = ("ISO 20414:2020, Fire safety engineering — Verification and validation protocol for "
            "building fire evacuation models")


@dataclass(frozen=True)
class Case:
    """One implementation of a verification test (shared by the suites that list it)."""

    key: str
    title: Text
    criterion: Text
    source: str
    measure: Callable[[Runner, bool], Measured]
    jupedsim: Text | None = None
    """Why the case has no JuPedSim counterpart; None when JuPedSim can run it."""


CASES: dict[str, Case] = {}
"""Every case by key, in the order they were defined."""


def case(key: str, *, title: Text, criterion: Text, source: str,
         jupedsim: Text | None = None) -> Callable[[Callable[[Runner, bool], Measured]],
                                                   Callable[[Runner, bool], Measured]]:
    """Register the decorated measuring function as case ``key``."""
    def register(fn: Callable[[Runner, bool], Measured]) -> Callable[[Runner, bool], Measured]:
        CASES[key] = Case(key=key, title=title, criterion=criterion, source=source,
                          measure=fn, jupedsim=jupedsim)
        return fn
    return register


def steady_flow(times: np.ndarray) -> float:
    """Persons per second between the 10th and the 90th percentile passage (NaN if < 10)."""
    t = np.sort(np.asarray(times, float))
    if len(t) < 10:
        return float("nan")
    a, b = int(0.1 * len(t)), int(0.9 * len(t)) - 1
    return float((b - a) / (t[b] - t[a])) if t[b] > t[a] else float("nan")


def pct(a: float, b: float) -> float:
    """(a − b) / b in %."""
    return 100.0 * (a - b) / b
