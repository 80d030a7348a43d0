"""The V&V report: ``verify.json``, ``verify.html`` (Chinese) and ``verify.en.html``
(English), with the figures as PNG files beside them and inline in the pages.

The pages come from the Jinja2 template ``sim/verify/templates/verify.html.j2`` (it
shares ``report.css`` with the drill report, ``sim/report/templates``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import importlib.metadata
import json
import math
import subprocess
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from sim.verify.record import STATUSES, Record
from sim.verify.suites import SUITE_NAMES, SUITE_SOURCES

__all__ = ["engine_version", "summary", "write_report"]

LANGS = ("zh", "en")


def engine_version() -> str:
    """``git describe`` of the checkout the package runs from, else the package version."""
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], cwd=root,
                             capture_output=True, text=True, timeout=10, check=True)
        if out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return importlib.metadata.version("evacdrill")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def summary(records: list[Record]) -> dict[str, dict[str, int]]:
    """Per suite (and ``"all"``), how many tests have each status."""
    out: dict[str, dict[str, int]] = {}
    for r in records:
        for key in (r.suite, "all"):
            counts = out.setdefault(key, {s: 0 for s in ("tests", *STATUSES)})
            counts["tests"] += 1
            counts[r.status] += 1
    return out


def _plain(v: Any) -> Any:
    """``v`` for JSON: numpy scalars as Python numbers, NaN and infinities as None."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _text(v: Any, lang: str) -> Any:
    """A ``{"zh", "en"}`` text in ``lang``; anything else as it is."""
    if isinstance(v, dict) and "zh" in v and "en" in v:
        return v[lang]
    return v


def _cell(v: Any, lang: str) -> str:
    """A table cell: texts in ``lang``, None → "—", True/False → ✔/✘, floats trimmed."""
    v = _text(v, lang)
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "✔" if v else "✘"
    if isinstance(v, float):
        if v == 0:
            return "0"  # not "-0"
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"
    return str(v)


@functools.cache
def _env() -> jinja2.Environment:
    loader = jinja2.ChoiceLoader([jinja2.PackageLoader("sim.verify", "templates"),
                                  jinja2.PackageLoader("sim.report", "templates")])
    env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(text=_text, cell=_cell)
    return env


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def write_report(records: list[Record], out: str | Path, *, command: str, quick: bool,
                 suites: list[str], jupedsim: str | None, wall_s: float) -> dict[str, Any]:
    """Write verify.json, verify.html, verify.en.html and the figures into ``out``.

    ``jupedsim`` is the JuPedSim version when it was run alongside (else None); returns
    the JSON document.
    """
    from sim.report.plots import plot_language
    from sim.verify import plots

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        pedpy = importlib.metadata.version("pedpy")
    except importlib.metadata.PackageNotFoundError:
        pedpy = None
    seeds = sorted({s for r in records for s in r.seeds})
    data = {
        "kind": "evacdrill verification and validation report",
        "engine_version": engine_version(), "date": _dt.datetime.now().astimezone().isoformat(
            timespec="seconds"), "command": command, "quick": quick, "suites": suites,
        "jupedsim": jupedsim, "pedpy": pedpy, "seeds": seeds, "wall_s": round(wall_s, 1),
        "summary": summary(records), "records": [_plain(r.to_dict()) for r in records],
    }
    (out / "verify.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    first: dict[str, str] = {}
    for r in records:
        if r.implementation and r.implementation not in first:
            first[r.implementation] = r.id
    for lang in LANGS:
        pics: dict[str, str] = {}
        for r in records:
            if r.plot is not None and r.implementation not in pics:
                png = plots.draw(r.plot, lang)
                suffix = "" if lang == "zh" else ".en"
                (out / f"{r.implementation}{suffix}.png").write_bytes(png)
                pics[r.implementation] = _data_uri(png)
        page = _env().get_template("verify.html.j2").render(
            data=data, lang=lang, pics=pics, first=first, names=SUITE_NAMES,
            sources=SUITE_SOURCES, statuses=STATUSES,
            font_ok=plot_language(lang) == lang)
        name = "verify.html" if lang == "zh" else "verify.en.html"
        (out / name).write_text(page, encoding="utf-8")
    return data
