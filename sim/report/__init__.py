"""The drill evaluation report (演练评估报告) and the comparison of two runs.

:func:`write_report` measures a recording (:mod:`sim.metrics`), checks the plan, draws
the figures and writes ``report.html`` (self-contained: pictures inline as PNG data
URIs; Chinese by default, English with ``lang="en"``), ``report.json`` (the same
figures) and the pictures as PNG files. The sections follow the evaluation list of the
Nanyang 2024 notice (§2.5): execution, practicality of the plan, command and
coordination, personnel handling, suitability of equipment, suggestions.

:func:`compare` overlays the curves of two recordings and tabulates the differences.

Both pages are rendered from the Jinja2 templates in ``sim/report/templates/``
(``report.html.j2``, ``compare.html.j2``; autoescaped, strict about undefined names).
"""

from __future__ import annotations

import base64
import datetime as _dt
import functools
import json
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from sim.errors import RecordingError
from sim.metrics import Metrics, compute
from sim.recording import Player, Recording
from sim.report import plots
from sim.report.coordination import actors, marks, milestone_deadlines
from sim.report.cover import cover_of
from sim.report.describe import command_sentence, event_sentence, role_name
from sim.report.differences import differences, run_label
from sim.report.findings import conclusion, findings
from sim.report.text import T, action_name

__all__ = ["compare", "write_report"]

LANGS = ("zh", "en")


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise RecordingError(f"--lang must be one of {', '.join(LANGS)}, got '{lang}'")


# --------------------------------------------------------------------------- the pages
# report.html and compare.html come from the Jinja2 templates in sim/report/templates/; the
# helpers below are their filters.

SUMMARY_ROWS = 10
"""Rows of a long list (events, commands, participants) a section shows; the full lists are
in the annexes at the end of the report."""


def _fmt(v: Any, nd: int = 1) -> Any:
    """A table cell: None -> "—", True/False -> ✔/✘, a float with ``nd`` decimals."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "✔" if v else "✘"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    if hasattr(v, "__html__"):  # markup made by the template (a macro's output)
        return v
    return str(v)


def _given(v: Any, missing: str) -> Any:
    """``missing`` for a value not filled in (None, "" or an empty list)."""
    return missing if v is None or v == "" or v == [] else v


def _when(v: Any, missing: str = "—") -> str:
    """A time: a Unix timestamp as local "YYYY-mm-dd HH:MM"; text as it is."""
    if v is None or v == "":
        return missing
    if isinstance(v, int | float) and not isinstance(v, bool):
        return _dt.datetime.fromtimestamp(v).strftime("%Y-%m-%d %H:%M")
    return str(v)


def _brief_json(v: Any, drop: list[str] | tuple[str, ...] = ()) -> str:
    """A detail as JSON cut to 160 characters; a dict without the keys ``drop``."""
    if isinstance(v, dict) and drop:
        v = {k: x for k, x in v.items() if k not in drop}
    return json.dumps(v, ensure_ascii=False)[:160]


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@functools.cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("sim.report", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(fmt=_fmt, given=_given, when=_when, brief_json=_brief_json,
                       action=action_name)
    return env


def _render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


def _words(lang: str) -> dict[str, str]:
    return {k: v[lang] for k, v in T.items()}


def _stills(rec: Recording, times: list[float], lang: str = "zh") -> list[tuple[float, bytes]]:
    """Pictures of every floor at ``times`` (a floor sheet each: plans of all floors with
    clock, counts and legend, :mod:`render.sheet`); [] when the renderer is unavailable."""
    try:
        from render.recording import _hazard
        from render.service import RenderService  # optional, heavy
        from render.sheet import floor_sheet
        from render.state import AgentFrame, SceneState
    except Exception:  # noqa: BLE001 - the renderer is optional
        return []
    out = []
    try:
        scenario = rec.scenario()
        scene = scenario.scene
        player = Player(rec)
        with RenderService(scene, timeout=60.0) as service:
            for t in times:
                player.seek(t)
                fr = player.frame
                if fr is None:
                    continue
                n = len(fr.ids)
                agents = AgentFrame(id=fr.ids, xyz=fr.xyz, state=fr.state,
                                    heading=np.tile([1.0, 0.0], (n, 1)), radius=np.full(n, 0.2),
                                    injured=np.zeros(n, bool))
                hazards = tuple(h for h in (_hazard(d, fr.t) for d in fr.hazards) if h)
                state = SceneState(time=fr.t, agents=agents, exit_open=np.array(fr.exits, bool),
                                   hazards=hazards)

                def draw(i: int, size: tuple[int, int], state: SceneState = state) -> bytes:
                    return bytes(service.frame(state, f"floor:{i}", size=size, fmt="png"))

                out.append((fr.t, floor_sheet(scene, state, draw, out_count=fr.evacuated,
                                              lang=lang)))
    except Exception:  # noqa: BLE001 - no display, no GL: the report goes on without stills
        return out
    return out


def write_report(rec_path: str | Path, out: str | Path, *, lang: str = "zh",
                 stills: bool = True, pdf: bool = False,
                 sweep: str | Path | None = None) -> dict[str, Any]:
    """Write report.html, report.json and figures for a recording into ``out``, and with
    ``pdf`` report.pdf (A4, :mod:`sim.report.pdf`). With ``sweep`` (a ``drill sweep``
    folder of the same set-up) the overall assessment sets the drill's evacuation time
    against the distribution of the sweep's runs.

    Returns the report.json content. Raises RecordingError for a recording that cannot
    be read, a wrong language, or a PDF that cannot be printed here.
    """
    _check_lang(lang)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with Recording(rec_path) as rec:
        scenario = rec.scenario()
        m = compute(rec, scenario)
        data = m.to_dict()
        header = rec.header
        floors = [f.id for f in scenario.scene.floors]
        data["events"] = [{**e, "zh": event_sentence(e, "zh", floors),
                           "en": event_sentence(e, "en", floors)} for e in rec.events()]
        for c in data["commands"]:
            c.update(zh=command_sentence(c, "zh", floors), en=command_sentence(c, "en", floors),
                     role_zh=role_name(c.get("role"), "zh"),
                     role_en=role_name(c.get("role"), "en"))
        data["actors"] = actors(data["commands"])
        data["marks"] = marks(data["commands"])
        data["deadlines"] = milestone_deadlines(data["plan"])
        data["findings"] = findings(data)
        data["conclusion"] = conclusion(data, data["findings"])
        data["sweep"] = _sweep(sweep, data["timeline_s"]["last_out"]) if sweep else None
        data["cover"] = cover_of(header, rec.journal(), data.get("people") or [], m.agents)
        data["recording"] = {"file": str(rec_path), "seed": rec.seed, "dt": rec.dt,
                             "created": header.get("created"), "mode": header["meta"].get("mode"),
                             "scenario_source": header["scenario"].get("source"),
                             "closed_cleanly": rec.closed_cleanly, "damage": rec.damage}
        data["plot_language"] = plots.plot_language(lang)
        pictures = _figures(m, scenario, lang)
        shots = _stills(rec, _still_times(m), lang) if stills else []
    for name, png in pictures.items():
        (out / f"{name}.png").write_bytes(png)
    for i, (_, png) in enumerate(shots):
        (out / f"still_{i + 1}.png").write_bytes(png)
    data["figures"] = sorted([f"{n}.png" for n in pictures]
                             + [f"still_{i + 1}.png" for i in range(len(shots))])
    data["stills"] = [{"t": round(t, 2), "file": f"still_{i + 1}.png"}
                      for i, (t, _) in enumerate(shots)]
    data["pdf"] = "report.pdf" if pdf else None
    (out / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n",
                                     encoding="utf-8")
    (out / "report.html").write_text(_html(data, pictures, shots, lang), encoding="utf-8")
    if pdf:
        from sim.report.pdf import write_pdf

        write_pdf(out / "report.html", out / "report.pdf")
    return data


def _sweep(folder: str | Path, own: float | None) -> dict[str, Any]:
    """The sweep's spread of evacuation times, and where this drill's time falls in it."""
    import numpy as np

    from sim.sweep import aggregate, load_runs

    runs = load_runs(folder)
    agg = aggregate(runs)
    ev = agg.get("evacuation_s")
    if not ev:
        raise RecordingError(f"{folder}: no run of the sweep got everyone out")
    times = np.array([r["evacuation_time_s"] for r in runs if r.get("ok")
                      and r.get("evacuation_time_s") is not None])
    out = {"folder": str(folder), "runs": agg["finished"], **ev}
    zh = (f"同一方案 {agg['finished']} 次模拟运行：疏散时间中位数 {ev['p50']:.1f} 秒，"
          f"P95 {ev['p95']:.1f} 秒（95 % 区间 {ev['p95_ci'][0]:.1f}–{ev['p95_ci'][1]:.1f} 秒），"
          f"最长 {ev['max']:.1f} 秒")
    en = (f"{agg['finished']} simulated runs of the same set-up: evacuation median "
          f"{ev['p50']:.1f} s, P95 {ev['p95']:.1f} s (95 % interval {ev['p95_ci'][0]:.1f} to "
          f"{ev['p95_ci'][1]:.1f} s), longest {ev['max']:.1f} s")
    if own is not None:
        rank = round(100.0 * float(np.mean(times <= own)), 1)
        out.update(own=own, percentile=rank)
        zh += f"；本次演练 {own:.1f} 秒，不短于其中 {rank:g} % 的运行"
        en += f"; this drill took {own:.1f} s, as long as or longer than {rank:g} % of them"
    out.update(zh=zh + "。", en=en + ".")
    return out


def _still_times(m: Metrics) -> list[float]:
    tl = m.timeline
    ts = [0.0, tl["first_out"] or 0.0, m.end_t / 2, m.end_t]
    return sorted({round(t, 1) for t in ts})


def _figures(m: Metrics, scenario: Any, lang: str) -> dict[str, bytes]:
    pics = {"evacuation_curve": plots.evacuation_curves([(m.name, m.curve_t, m.curve_out)],
                                                        lang),
            "exit_flows": plots.exit_flows(m.flow_t, m.exits, lang),
            "distributions": plots.distributions(m.premovement, m.travel, lang)}
    for fi, d in enumerate(m.density):
        pics[f"density_{fi}"] = plots.density_map(d, scenario.scene, fi, m.bottlenecks, lang)
    return pics


def _annexes(d: dict[str, Any]) -> dict[str, int]:
    """The annexes with something in them, numbered in order: key -> annex number."""
    keys = [k for k in ("events", "commands", "plan", "people") if d.get(k)]
    return {k: i + 1 for i, k in enumerate(keys)}


def _html(d: dict[str, Any], pics: dict[str, bytes], shots: list[tuple[float, bytes]],
          lang: str) -> str:
    """report.html from templates/report.html.j2 (see there for what it reads of ``d``)."""
    return _render("report.html.j2", data=d, t=_words(lang), lang=lang,
                   pics={name: _data_uri(png) for name, png in pics.items()},
                   stills=[{"t": ts, "src": _data_uri(png)} for ts, png in shots],
                   annex=_annexes(d), summary_rows=SUMMARY_ROWS)


# --------------------------------------------------------------------------- comparing


def compare(rec_a: str | Path, rec_b: str | Path, out: str | Path, *,
            lang: str = "zh", labels: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """Compare two recordings: overlaid curves (PNG), a table (HTML, JSON); returns rows.

    Each row: ``key``, ``label``, ``a``, ``b``, ``diff`` (b − a), all in s or persons.
    The runs are named by ``labels``, else by scenario (or drill title) and seed; the page
    and compare.json also say what differs between them and whether one run per side can
    tell (:mod:`sim.report.differences`).
    """
    _check_lang(lang)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ms: list[Metrics] = []
    names = []
    with Recording(rec_a) as ra, Recording(rec_b) as rb:
        for rec in (ra, rb):
            ms.append(compute(rec))
            names.append(run_label(rec))
        what = differences(ra, rb, (ms[0].timeline["last_out"], ms[1].timeline["last_out"]))
    if labels is not None:
        names = [str(labels[0]), str(labels[1])]
    if names[0] == names[1]:
        names = [f"A: {names[0]}", f"B: {names[1]}"]
    a, b = ms
    t = _words(lang)
    rows: list[dict[str, Any]] = []

    def row(key: str, label: str, va: float | None, vb: float | None) -> None:
        # Rounded as report.json rounds (2 decimals), so both pages print the same figure.
        va, vb = (round(v, 2) if isinstance(v, float) else v for v in (va, vb))
        diff = None if va is None or vb is None else round(vb - va, 2)
        rows.append({"key": key, "label": label, "a": va, "b": vb, "diff": diff})

    row("evacuated", t["evacuated"], a.evacuated, b.evacuated)
    for k in ("first_out", "p95_out", "last_out"):
        row(k, t["tl_" + k], a.timeline[k], b.timeline[k])
    for key, arr in (("premovement_median", "premovement"), ("travel_median", "travel"),
                     ("evacuation_median", "exit_time")):
        va, vb = (getattr(x, arr) for x in (a, b))
        row(key, f"{t[key]}", _median(va), _median(vb))
    for e in {x["id"] for x in a.exits} | {x["id"] for x in b.exits}:
        ca = next((x["count"] for x in a.exits if x["id"] == e), None)
        cb = next((x["count"] for x in b.exits if x["id"] == e), None)
        row(f"exit:{e}", f"{t['exit']} {e}", ca, cb)
    for f in a.floors_clear:
        row(f"floor_clear:{f}", f"{t['floor']} {f} {t['clear_at']}", a.floors_clear[f],
            b.floors_clear.get(f))
    row("bottlenecks", t["bottlenecks"], len(a.bottlenecks), len(b.bottlenecks))
    curve = plots.evacuation_curves([(names[0], a.curve_t, a.curve_out),
                                     (names[1], b.curve_t, b.curve_out)], lang)
    bars = plots.compare_bars(names, [(r["label"], [r["a"], r["b"]]) for r in rows
                                      if r["key"] in ("first_out", "p95_out", "last_out",
                                                      "premovement_median", "travel_median")],
                              lang)
    (out / "compare_curves.png").write_bytes(curve)
    (out / "compare_times.png").write_bytes(bars)
    (out / "compare.json").write_text(json.dumps({"a": str(rec_a), "b": str(rec_b),
                                                  "names": names, "rows": rows,
                                                  "differences": what},
                                                 ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")
    (out / "compare.html").write_text(
        _render("compare.html.j2", t=t, lang=lang, a=str(rec_a), b=str(rec_b), names=names,
                rows=rows, what=what, pics={"compare_curves": _data_uri(curve),
                                 "compare_times": _data_uri(bars)}),
        encoding="utf-8")
    return rows


def _median(v: np.ndarray) -> float | None:
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else None
