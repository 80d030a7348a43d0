"""Figures of the V&V report as PNG bytes (matplotlib, Agg): the fundamental diagram
against Weidmann's curve, specific flow against passage width, evacuation time against
the model's time gap.

Labels are Chinese when a CJK font is installed (the font lookup of
:mod:`sim.report.plots`), English otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from sim.report.plots import figure_png, use_language  # noqa: E402

__all__ = ["PLOTS", "draw"]

_T = {
    "density": {"zh": "密度 ρ (人/m²)", "en": "density ρ (persons/m²)"},
    "speed": {"zh": "速度 v (m/s)", "en": "speed v (m/s)"},
    "measured": {"zh": "本引擎（周期走廊）", "en": "this engine (periodic corridor)"},
    "weidmann": {"zh": "Weidmann (1993)", "en": "Weidmann (1993)"},
    "band": {"zh": "±20 %", "en": "±20 %"},
    "fd": {"zh": "基本图：速度–密度", "en": "Fundamental diagram: speed against density"},
    "width": {"zh": "通道宽度 w (m)", "en": "passage width w (m)"},
    "specific": {"zh": "比流量 (人/(m·s))", "en": "specific flow (persons/(m·s))"},
    "accepted": {"zh": "接受范围 1.3–2.0", "en": "accepted 1.3-2.0"},
    "length": {"zh": "长度 L = {L} m", "en": "length L = {L} m"},
    "passage": {"zh": "通道比流量与宽度", "en": "Specific flow against passage width"},
    "gap": {"zh": "模型时间间隔 T (s)", "en": "model time gap T (s)"},
    "evac": {"zh": "疏散时间 (s)", "en": "evacuation time (s)"},
    "sensitivity": {"zh": "RiMEA 8：疏散时间对时间间隔的敏感性",
                    "en": "RiMEA 8: sensitivity of the evacuation time to the time gap"},
}


def fd(data: dict[str, Any], lang: str) -> bytes:
    """Measured (ρ, v) points on Weidmann's curve with its ±20 % band."""
    pl = use_language(lang)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    cx = [p[0] for p in data["curve"]]
    cy = [p[1] for p in data["curve"]]
    ax.fill_between(cx, [0.8 * v for v in cy], [1.2 * v for v in cy], color="#9ecae1",
                    alpha=0.5, label=_T["band"][pl])
    ax.plot(cx, cy, color="#08519c", label=_T["weidmann"][pl])
    ax.plot([p[0] for p in data["points"]], [p[1] for p in data["points"]], "o",
            color="#d62728", label=_T["measured"][pl])
    ax.set_xlabel(_T["density"][pl])
    ax.set_ylabel(_T["speed"][pl])
    ax.set_title(_T["fd"][pl])
    ax.set_xlim(0, 5.4)
    ax.set_ylim(0, 1.6)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure_png(fig)


def passage(data: dict[str, Any], lang: str) -> bytes:
    """Specific flow against width, one line per passage length, the accepted band."""
    pl = use_language(lang)
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    lo, hi = data["band"]
    widths = sorted({p[0] for pts in data["points"].values() for p in pts})
    ax.axhspan(lo, hi, color="#c7e9c0", alpha=0.6, label=_T["accepted"][pl])
    for length, pts in data["points"].items():
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-",
                label=_T["length"][pl].format(L=length))
    ax.set_xticks(widths)
    ax.set_xlabel(_T["width"][pl])
    ax.set_ylabel(_T["specific"][pl])
    ax.set_title(_T["passage"][pl])
    ax.set_ylim(0, max(2.4, max(p[1] for pts in data["points"].values() for p in pts) + 0.2))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    return figure_png(fig)


def sensitivity(data: dict[str, Any], lang: str) -> bytes:
    """Evacuation time against the model's time gap."""
    pl = use_language(lang)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    pts = [(x, y) for x, y in zip(data["x"], data["y"], strict=True) if y is not None]
    ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color="#2b7bd9")
    ax.set_xlabel(_T["gap"][pl])
    ax.set_ylabel(_T["evac"][pl])
    ax.set_title(_T["sensitivity"][pl])
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    return figure_png(fig)


PLOTS: dict[str, Callable[[dict[str, Any], str], bytes]] = {
    "fd": fd, "passage": passage, "sensitivity": sensitivity}
"""Figure kind (a record's ``plot["kind"]``) → drawing function."""


def draw(data: dict[str, Any], lang: str) -> bytes:
    """PNG of a record's plot data in language ``lang`` ("zh" or "en")."""
    return PLOTS[data["kind"]](data, lang)
