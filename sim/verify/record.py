"""What a verification case measures and what the report says about it.

A case's measuring function returns a :class:`Measured` (figures, whether the criterion
is met, a one-line summary); :func:`sim.verify.run_suites` turns it into one
:class:`Record` per suite entry that lists the case. Texts shown to users are pairs
``{"zh": ..., "en": ...}`` (:func:`tx`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["STATUSES", "Figure", "Measured", "Record", "Table", "Text", "tx"]

STATUSES = ("pass", "fail", "not_applicable", "error")
"""A record's status: criterion met, not met, not expressible by the engine, raised."""

Text = dict[str, str]
"""A user-facing text in Chinese and English: ``{"zh": ..., "en": ...}``."""


def tx(zh: str, en: str) -> Text:
    """A text in both languages."""
    return {"zh": zh, "en": en}


@dataclass
class Figure:
    """One measured figure, e.g. the travel time of RiMEA test 1 in seconds."""

    key: str
    """Name for programs (``travel_time``)."""
    label: Text
    value: float | int | str | None
    unit: str = ""
    """SI unit as printed (``s``, ``m/s``, ``1/(m·s)``); empty when dimensionless."""


@dataclass
class Table:
    """Rows of figures of a case that measures several points (densities, widths)."""

    head: list[Text]
    rows: list[list[Any]]


@dataclass
class Measured:
    """What one engine measured on one case."""

    passed: bool
    summary: str | Text
    """The figure(s) in one line with the criterion's range: ``29.6 s (26–34 s)`` (a text
    in both languages when it has words)."""
    figures: list[Figure] = field(default_factory=list)
    table: Table | None = None
    plot: dict[str, Any] | None = None
    """Data for a figure of the report (``{"kind": "fd", ...}``, :mod:`sim.verify.plots`)."""
    note: Text | None = None
    """A remark on how it was measured (an estimator, a deviation from the guideline)."""
    seeds: list[int] = field(default_factory=list)
    """Seeds of the runs behind the figures (besides those of ``run``)."""
    files: list[str] = field(default_factory=list)
    """Case files read without ``run`` (e.g. by the periodic corridor)."""


@dataclass
class Record:
    """One test of one suite in the report (``rimea-1``, ``nist-2.8``, ``iso20414-6``)."""

    id: str
    suite: str
    title: Text
    criterion: Text
    source: str
    """The publication the criterion comes from."""
    implementation: str
    """Key of the case that ran it; cases shared between suites run once."""
    status: str
    """One of :data:`STATUSES`."""
    summary: str | Text = ""
    figures: list[Figure] = field(default_factory=list)
    reason: Text | None = None
    """Why the test is not applicable, or what the error was."""
    table: Table | None = None
    plot: dict[str, Any] | None = None
    note: Text | None = None
    seeds: list[int] = field(default_factory=list)
    jupedsim: dict[str, Any] | None = None
    """JuPedSim's figure on the same case: ``{"status": "ran", "summary", "passed",
    "figures"}``, ``{"status": "not_expressible", "reason"}``, ``{"status": "error",
    "reason"}``; None when JuPedSim was not asked for."""
    wall_s: float = 0.0
    """Wall time of the case, s (0 for a case listed again in another suite)."""
    aliases: list[str] = field(default_factory=list)
    """Ids of the same implementation in other suites."""
    files: list[str] = field(default_factory=list)
    """The case scenario files it ran (in ``sim/verify/cases/``), varied or as they are."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (the ``plot`` data included)."""
        return asdict(self)
