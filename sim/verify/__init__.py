"""Verification and validation of the crowd model: the cases shipped in the package, run,
and a V&V report (``drill verify``, docs/verify.md).

The suites (:mod:`sim.verify.suites`) list the tests of RiMEA, NIST TN 1822 and ISO
20414 and the model-validity cases; each test is implemented by a case
(:mod:`sim.verify.case`) that runs a scenario file of ``sim/verify/cases/`` in this
engine, and on request the same case in JuPedSim (:mod:`sim.verify.jps`).
:func:`run_suites` runs them into :class:`~sim.verify.record.Record` s;
:func:`sim.verify.report.write_report` writes ``verify.json``, ``verify.html`` (Chinese)
and ``verify.en.html`` (English).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError
from sim.verify.case import CASES, Case
from sim.verify.record import STATUSES, Record, tx
from sim.verify.suites import SUITES, Entry

__all__ = ["STATUSES", "SUITES", "run_suites"]


class _Tracked:
    """A runner that remembers the seeds of its runs."""

    def __init__(self, inner: Any):
        self.inner, self.name = inner, inner.name
        self.seeds: list[int] = []
        self.files: list[str] = []

    def __call__(self, doc: dict[str, Any], **kw: Any) -> Any:
        out = self.inner(doc, **kw)
        self.seeds.append(int(out.seed))
        name = Path(out.source).name
        if name and name not in self.files:
            self.files.append(name)
        return out


def _error_text(exc: BaseException) -> str:
    """One line naming the exception and where it was raised."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" ({tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _run_case(c: Case, quick: bool, jupedsim: bool) -> dict[str, Any]:
    """Measure case ``c`` (and in JuPedSim); never raises."""
    from sim.verify.engine import Engine

    t0 = time.perf_counter()
    engine = _Tracked(Engine())
    out: dict[str, Any] = {"measured": None, "error": None, "jupedsim": None}
    try:
        out["measured"] = c.measure(engine, quick)
    except Exception as exc:  # a case that raises must not stop the others
        out["error"] = _error_text(exc)
    out["seeds"] = sorted(set(engine.seeds))
    out["files"] = engine.files
    if jupedsim:
        if c.jupedsim is not None:
            out["jupedsim"] = {"status": "not_expressible", "reason": c.jupedsim}
        else:
            from sim.verify.jps import JuPedSim

            try:
                m = c.measure(_Tracked(JuPedSim()), quick)
                out["jupedsim"] = {"status": "ran", "summary": m.summary, "passed": m.passed,
                                   "figures": [f.__dict__ for f in m.figures]}
            except Exception as exc:
                msg = _error_text(exc)
                out["jupedsim"] = {"status": "error", "reason": tx(msg, msg)}
    out["wall_s"] = round(time.perf_counter() - t0, 2)
    return out


def _record(suite: str, e: Entry, done: dict[str, dict[str, Any]], first: bool,
            aliases: list[str], jupedsim: bool) -> Record:
    if e.case is None:
        return Record(id=e.id, suite=suite, title=e.title, criterion=tx("—", "—"),
                      source=e.source, implementation="", status="not_applicable",
                      reason=e.reason, summary=tx("不适用", "not applicable"),
                      jupedsim={"status": "not_expressible", "reason": e.reason}
                      if jupedsim else None)
    c, r = CASES[e.case], done[e.case]
    rec = Record(id=e.id, suite=suite, title=e.title, criterion=c.criterion, source=c.source,
                 implementation=c.key, status="error", seeds=r["seeds"], jupedsim=r["jupedsim"],
                 wall_s=r["wall_s"] if first else 0.0, aliases=aliases, files=r["files"])
    m = r["measured"]
    if m is None:
        rec.reason = tx(r["error"], r["error"])
        rec.summary = tx("出错", "error")
        return rec
    rec.status = "pass" if m.passed else "fail"
    rec.summary, rec.figures, rec.table, rec.plot, rec.note = (
        m.summary, m.figures, m.table, m.plot, m.note)
    rec.seeds = sorted(set(rec.seeds) | set(m.seeds))
    rec.files = [*rec.files, *(f for f in m.files if f not in rec.files)]
    return rec


def run_suites(names: Sequence[str], *, quick: bool = False, jupedsim: bool = False,
               progress: Callable[[Record], None] | None = None) -> list[Record]:
    """Run the tests of the suites ``names`` (keys of :data:`SUITES`); one record each.

    A case listed by several suites runs once. ``quick``: the smaller variants CI runs.
    ``jupedsim``: also run every expressible case in JuPedSim (ScenarioError if it is not
    installed). ``progress`` is called with each record as soon as it is known.
    """
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise ScenarioError(f"--suite: unknown suite '{unknown[0]}' "
                            f"(known: {', '.join([*SUITES, 'all'])})")
    if jupedsim:
        from sim.verify.jps import require

        require()
    users: dict[str, list[str]] = {}
    for n in names:
        for e in SUITES[n]:
            if e.case is not None:
                users.setdefault(e.case, []).append(e.id)
    done: dict[str, dict[str, Any]] = {}
    records = []
    for n in names:
        for e in SUITES[n]:
            first = e.case is not None and e.case not in done
            if first:
                done[e.case] = _run_case(CASES[e.case], quick, jupedsim)
            others = [i for i in users.get(e.case or "", []) if i != e.id]
            rec = _record(n, e, done, first, others, jupedsim)
            records.append(rec)
            if progress is not None:
                progress(rec)
    return records
