"""The drill evaluation report (演练评估报告) and the comparison of two runs.

:func:`write_report` measures a recording (:mod:`sim.metrics`), checks the plan, draws
the figures and writes ``report.html`` (self-contained: pictures inline as PNG data
URIs; Chinese by default, English with ``lang="en"``), ``report.json`` (the same
figures) and the pictures as PNG files. The sections follow the evaluation list of the
Nanyang 2024 notice (§2.5): execution, practicality of the plan, command and
coordination, personnel handling, suitability of equipment, suggestions.

:func:`compare` overlays the curves of two recordings and tabulates the differences.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import RecordingError
from sim.metrics import Metrics, compute
from sim.recording import Player, Recording
from sim.report import plots
from sim.report.findings import findings
from sim.report.text import T, action_name

__all__ = ["compare", "write_report"]

LANGS = ("zh", "en")


def _check_lang(lang: str) -> None:
    if lang not in LANGS:
        raise RecordingError(f"--lang must be one of {', '.join(LANGS)}, got '{lang}'")


def _fmt(v: Any, nd: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "✔" if v else "✘"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return html.escape(str(v))


def _table(head: list[str], rows: list[list[Any]], cls: str = "") -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></figure>'


_CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;
max-width:1000px;margin:2em auto;color:#222;line-height:1.5}h1{border-bottom:3px solid #b22}
h2{border-left:6px solid #b22;padding-left:.4em;margin-top:1.6em}table{border-collapse:collapse;
margin:.6em 0;font-size:.92em}td,th{border:1px solid #bbb;padding:.2em .6em;text-align:left}
th{background:#eee}figure{margin:.6em 0}img{max-width:100%}.met{color:#176b17}.missed{color:#b22}
.high{color:#b22;font-weight:bold}.medium{color:#b60}.info{color:#555}.note{color:#666;
font-size:.9em}"""


def _stills(rec: Recording, times: list[float]) -> list[tuple[float, bytes]]:
    """Overview pictures from the Panda3D renderer at ``times``; [] when it is unavailable."""
    try:
        from render.service import RenderService  # optional, heavy
        from render.state import AgentFrame, SceneState
    except Exception:  # noqa: BLE001 - the renderer is optional
        return []
    out = []
    try:
        scenario = rec.scenario()
        player = Player(rec)
        with RenderService(scenario.scene, timeout=60.0) as service:
            for t in times:
                player.seek(t)
                fr = player.frame
                if fr is None:
                    continue
                n = len(fr.ids)
                agents = AgentFrame(id=fr.ids, xyz=fr.xyz, state=fr.state,
                                    heading=np.tile([1.0, 0.0], (n, 1)), radius=np.full(n, 0.2),
                                    injured=np.zeros(n, bool))
                state = SceneState(time=fr.t, agents=agents, exit_open=np.array(fr.exits, bool))
                out.append((fr.t, bytes(service.frame(state, "overview", size=(960, 540),
                                                      fmt="png"))))
    except Exception:  # noqa: BLE001 - no display, no GL: the report goes on without stills
        return out
    return out


def write_report(rec_path: str | Path, out: str | Path, *, lang: str = "zh",
                 stills: bool = True) -> dict[str, Any]:
    """Write report.html, report.json and figures for a recording into ``out``.

    Returns the report.json content. Raises RecordingError for a recording that cannot
    be read or a wrong language.
    """
    _check_lang(lang)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with Recording(rec_path) as rec:
        scenario = rec.scenario()
        m = compute(rec, scenario)
        data = m.to_dict()
        data["findings"] = findings(data)
        header = rec.header
        data["recording"] = {"file": str(rec_path), "seed": rec.seed, "dt": rec.dt,
                             "created": header.get("created"), "mode": header["meta"].get("mode"),
                             "scenario_source": header["scenario"].get("source"),
                             "closed_cleanly": rec.closed_cleanly, "damage": rec.damage}
        data["events"] = rec.events()
        data["plot_language"] = plots.plot_language(lang)
        pictures = _figures(m, scenario, lang)
        shots = _stills(rec, _still_times(m)) if stills else []
    for name, png in pictures.items():
        (out / f"{name}.png").write_bytes(png)
    for i, (_, png) in enumerate(shots):
        (out / f"still_{i + 1}.png").write_bytes(png)
    data["figures"] = sorted([f"{n}.png" for n in pictures]
                             + [f"still_{i + 1}.png" for i in range(len(shots))])
    data["stills"] = [{"t": round(t, 2), "file": f"still_{i + 1}.png"}
                      for i, (t, _) in enumerate(shots)]
    (out / "report.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n",
                                     encoding="utf-8")
    (out / "report.html").write_text(_html(data, pictures, shots, lang), encoding="utf-8")
    return data


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


def _html(d: dict[str, Any], pics: dict[str, bytes], shots: list[tuple[float, bytes]],
          lang: str) -> str:
    t = {k: v[lang] for k, v in T.items()}
    s: list[str] = [f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
                    f'<meta charset="utf-8"><title>{t["title"]} — {html.escape(d["name"])}'
                    f"</title><style>{_CSS}</style></head><body>"]
    rec = d["recording"]
    created = (_dt.datetime.fromtimestamp(rec["created"]).strftime("%Y-%m-%d %H:%M")
               if rec.get("created") else "—")
    s.append(f'<h1>{t["title"]}：{html.escape(d["name"])}</h1>' if lang == "zh" else
             f'<h1>{t["title"]}: {html.escape(d["name"])}</h1>')
    s.append(_table([t["item"], t["value"]], [
        [t["scenario"], d["name"]], [t["recorded"], created], [t["mode"], rec.get("mode")],
        [t["seed"], rec["seed"]], [t["recording_file"], rec["file"]],
        [t["agents"], d["agents"]], [t["evacuated"], d["evacuated"]],
        [t["duration"], d["end_t"]]]))
    if d["damage"]:
        s.append(f'<p class="missed">{t["damaged"]}: {html.escape(d["damage"])}</p>')
    if lang == "zh" and d["plot_language"] != "zh":
        s.append(f'<p class="note">{t["font_note"]}</p>')
    # 1 execution
    tl = d["timeline_s"]
    ev = d["evacuation_s"]
    s.append(f'<h2>一、{t["s1"]}</h2>' if lang == "zh" else f'<h2>1. {t["s1"]}</h2>')
    s.append(_table([t["item"], t["value"]], [
        [t["evacuation_time"], tl["last_out"]], [t["p95_time"], tl["p95_out"]],
        [t["first_out"], tl["first_out"]], [t["mean_evac"], ev.get("mean")],
        [t["complete"], d["complete"]]]))
    s.append(_img(pics["evacuation_curve"], t["evac_curve"]))
    if d["events"]:
        s.append(f'<h3>{t["events"]}</h3>')
        s.append(_table([t["time_s"], t["event"], t["detail"]],
                        [[e.get("t"), e.get("type"), _event_detail(e)] for e in d["events"]]))
    for i, (ts, png) in enumerate(shots):
        s.append(_img(png, f"{t['still']} {i + 1}: t = {ts:.1f} s"))
        s.append(f'<p class="note">{t["still"]} {i + 1}: t = {ts:.1f} s</p>')
    # 2 plan
    s.append(f'<h2>二、{t["s2"]}</h2>' if lang == "zh" else f'<h2>2. {t["s2"]}</h2>')
    if d["plan"]:
        met = sum(p["met"] for p in d["plan"])
        s.append(f"<p>{t['plan_summary'].format(met=met, n=len(d['plan']))}</p>")
        rows = [[p["id"], p["role"], p["text"], action_name(p["action"], lang),
                 f"{p['within']:.0f} s ({t['after_' + p['after']]})", p["deadline_s"],
                 p["achieved_s"], p["elapsed_s"],
                 t["met"] if p["met"] else t["missed"]] for p in d["plan"]]
        s.append(_table([t["step"], t["role"], t["content"], t["action"], t["deadline"],
                         t["deadline_at"], t["achieved"], t["elapsed"], t["verdict"]], rows))
    else:
        s.append(f"<p>{t['no_plan']}</p>")
    # 3 command and coordination
    s.append(f'<h2>三、{t["s3"]}</h2>' if lang == "zh" else f'<h2>3. {t["s3"]}</h2>')
    keys = ("alarm", "first_report", "evacuation_order", "first_out", "last_out")
    s.append(_table([t["milestone"], t["time_s"], t["since_alarm"]],
                    [[t["tl_" + k], tl[k], None if tl[k] is None or tl["alarm"] is None
                      else tl[k] - tl["alarm"]] for k in keys]))
    if d["commands"]:
        s.append(f'<h3>{t["journal"]}</h3>')
        s.append(_table([t["time_s"], t["type"], t["role"], t["name"], t["detail"]],
                        [[c["t"], c["type"], c["role"], c["name"],
                          json.dumps(c["detail"], ensure_ascii=False)[:160]]
                         for c in d["commands"][:200]]))
    else:
        s.append(f"<p>{t['no_commands']}</p>")
    # 4 personnel handling
    s.append(f'<h2>四、{t["s4"]}</h2>' if lang == "zh" else f'<h2>4. {t["s4"]}</h2>')
    pre, tr = d["premovement_s"], d["travel_s"]
    s.append(_table([t["item"], "n", t["mean"], "p5", t["median"], "p95", t["max"]],
                    [[t["premovement"], pre.get("n"), pre.get("mean"), pre.get("p5"),
                      pre.get("median"), pre.get("p95"), pre.get("max")],
                     [t["travel"], tr.get("n"), tr.get("mean"), tr.get("p5"), tr.get("median"),
                      tr.get("p95"), tr.get("max")]]))
    s.append(_img(pics["distributions"], t["distributions"]))
    if d.get("people"):
        s.append(f'<h3>{t["people_title"]}</h3><p class="note">{t["people_note"]}</p>')
        s.append(_table([t["person"], t["joined"], t["out_at"], t["by_exit"], t["walked"]],
                        [[p["name"], p["joined_s"], p["out_s"] if p["out_s"] is not None
                          else t["still_inside"], p["exit"], p["walked_s"]]
                         for p in d["people"]]))
    s.append(f'<h3>{t["clear_times"]}</h3>')
    s.append(_table([t["area"], t["clear_at"]],
                    [[f"{t['floor']} {k}", v] for k, v in d["floors_clear_s"].items()]
                    + [[f"{t['zone']} {k}", v] for k, v in d["zones_clear_s"].items()]))
    s.append(f'<h3>{t["density"]}</h3><p class="note">{t["density_note"]}</p>')
    for dm in d["density"]:
        s.append(f"<p>{t['floor']} {html.escape(dm['floor'])}: {t['peak']} "
                 f"{_fmt(dm['peak'], 2)} /m²; " + "; ".join(
                     f"LOS {lv}+: {_fmt(a['area_m2'])} m², ≤ {_fmt(a['max_s'])} s"
                     for lv, a in dm["area_above_s"].items()) + "</p>")
    for name, png in pics.items():
        if name.startswith("density_"):
            s.append(_img(png, t["density"]))
    s.append(f'<h3>{html.escape(t["bottlenecks"])}</h3>')
    if d["bottlenecks"]:
        s.append(_table([t["floor"], "x (m)", "y (m)", t["area_m2"], t["longest"],
                         t["peak"], t["nearest_exit"]],
                        [[b["floor"], b["x"], b["y"], b["area_m2"], b["longest_s"],
                          b["peak_density"], f"{b['nearest_exit']} ({b['exit_distance_m']} m)"
                          if b["nearest_exit"] else None] for b in d["bottlenecks"][:20]]))
    else:
        s.append(f"<p>{t['no_bottleneck']}</p>")
    # 5 equipment
    s.append(f'<h2>五、{t["s5"]}</h2>' if lang == "zh" else f'<h2>5. {t["s5"]}</h2>')
    s.append(_table([t["exit"], t["width"], t["people"], t["share"], t["first"], t["last"],
                     t["mean_flow"], t["peak_flow"], t["specific_flow"]],
                    [[e["id"], e["width"], e["count"], f"{100 * e['share']:.1f}%", e["first"],
                      e["last"], e["mean_flow"], e["peak_flow"], e["specific_flow"]]
                     for e in d["exits"]]))
    s.append(_img(pics["exit_flows"], t["flows"]))
    # 6 suggestions
    s.append(f'<h2>六、{t["s6"]}</h2>' if lang == "zh" else f'<h2>6. {t["s6"]}</h2>')
    s.append("<ol>" + "".join(f'<li class="{f["severity"]}">{html.escape(f[lang])}</li>'
                              for f in d["findings"]) + "</ol>")
    s.append(f'<p class="note">{t["footer"]}</p></body></html>')
    return "\n".join(s)


def _event_detail(e: dict[str, Any]) -> str:
    rest = {k: v for k, v in e.items() if k not in ("t", "type")}
    return json.dumps(rest, ensure_ascii=False)[:160]


# --------------------------------------------------------------------------- comparing


def compare(rec_a: str | Path, rec_b: str | Path, out: str | Path, *,
            lang: str = "zh") -> list[dict[str, Any]]:
    """Compare two recordings: overlaid curves (PNG), a table (HTML, JSON); returns rows.

    Each row: ``key``, ``label``, ``a``, ``b``, ``diff`` (b − a), all in s or persons.
    """
    _check_lang(lang)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ms: list[Metrics] = []
    names = []
    for p in (rec_a, rec_b):
        with Recording(p) as rec:
            ms.append(compute(rec))
            names.append(Path(p).stem if Path(p).stem != "drill" else Path(p).parent.name)
    if names[0] == names[1]:
        names = ["A", "B"]
    a, b = ms
    t = {k: v[lang] for k, v in T.items()}
    rows: list[dict[str, Any]] = []

    def row(key: str, label: str, va: float | None, vb: float | None) -> None:
        diff = None if va is None or vb is None else vb - va
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
    bars = plots.compare_bars(names, [(r["key"], [r["a"], r["b"]]) for r in rows
                                      if r["key"] in ("first_out", "p95_out", "last_out",
                                                      "premovement_median", "travel_median")],
                              lang)
    (out / "compare_curves.png").write_bytes(curve)
    (out / "compare_times.png").write_bytes(bars)
    (out / "compare.json").write_text(json.dumps({"a": str(rec_a), "b": str(rec_b),
                                                  "names": names, "rows": rows},
                                                 ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")
    body = _table([t["item"], names[0], names[1], t["difference"]],
                  [[r["label"], r["a"], r["b"], r["diff"]] for r in rows])
    (out / "compare.html").write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{t["compare_title"]}'
        f"</title><style>{_CSS}</style></head><body><h1>{t['compare_title']}</h1>"
        f"<p>A = {html.escape(str(rec_a))}<br>B = {html.escape(str(rec_b))}</p>{body}"
        f"{_img(curve, t['evac_curve'])}{_img(bars, t['compare_title'])}</body></html>",
        encoding="utf-8")
    return rows


def _median(v: np.ndarray) -> float | None:
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else None
