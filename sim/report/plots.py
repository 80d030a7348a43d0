"""Figures of the drill report as PNG bytes (matplotlib, Agg, no display).

Plot text is Chinese when a CJK-capable font is installed (Noto Sans CJK, Source Han,
WenQuanYi, SimHei, Microsoft YaHei, ...) and English otherwise, so a figure never shows
missing-glyph boxes; the HTML text around it stays in the report's language.
"""

from __future__ import annotations

import io
import re
from functools import cache
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402

__all__ = ["PLOTS", "cjk_font", "figure_png", "plot_language", "use_language"]

_CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK", "Noto Sans SC", "Source Han Sans SC",
                 "Source Han Sans CN", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "SimHei",
                 "Microsoft YaHei", "PingFang SC", "Heiti SC", "AR PL UMing CN",
                 "Droid Sans Fallback")
_CJK_FILE = re.compile(r"cjk|sourcehan|wqy|simhei|msyh|pingfang|droidsansfallback|uming",
                       re.IGNORECASE)


@cache
def cjk_font() -> str | None:
    """Name of an installed font family that has Chinese glyphs, or None.

    matplotlib keeps a cache of the system's fonts; a CJK font installed after it was
    written (``apt-get install fonts-noto-cjk`` on a machine that had drawn a plot
    before) is not in it, so such fonts are looked for on disk and added.
    """
    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in _CJK_FAMILIES if n in names), None)

    found = known()
    if found is None:
        seen = {f.fname for f in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in seen and _CJK_FILE.search(path):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = known()
    return found


def plot_language(lang: str) -> str:
    """Language of the text inside figures: ``lang`` if it can be drawn, else "en"."""
    return lang if lang == "en" or cjk_font() else "en"


_T = {
    "time": {"zh": "时间 (秒)", "en": "time (s)"},
    "out": {"zh": "已撤离人数", "en": "people out"},
    "evac": {"zh": "疏散曲线", "en": "Evacuated over time"},
    "flow": {"zh": "各出口流率 (人/秒)", "en": "Flow per exit (persons/s)"},
    "count": {"zh": "人数", "en": "people"},
    "pre": {"zh": "预动作时间 (秒)", "en": "pre-movement time (s)"},
    "travel": {"zh": "行走时间 (秒)", "en": "travel time (s)"},
    "dens": {"zh": "峰值密度 (人/平方米)", "en": "peak density (persons/m²)"},
    "above": {"zh": "LOS E 以上持续时间 (秒)", "en": "time at LOS E or worse (s)"},
    "floor": {"zh": "楼层", "en": "floor"},
    "exit": {"zh": "出口", "en": "exit"},
    "bottleneck": {"zh": "瓶颈", "en": "bottleneck"},
}


def use_language(lang: str) -> str:
    """Set matplotlib's fonts for ``lang`` (a CJK font for Chinese); the language used."""
    pl = plot_language(lang)
    font = cjk_font()
    if pl == "zh" and font:
        plt.rcParams["font.sans-serif"] = [font, "DejaVu Sans"]
        plt.rcParams["axes.unicode_minus"] = False
    else:
        plt.rcParams["font.sans-serif"] = ["DejaVu Sans"]
    return pl


def figure_png(fig: Any) -> bytes:
    """``fig`` as PNG bytes (110 dpi); the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def evacuation_curves(series: list[tuple[str, np.ndarray, np.ndarray]], lang: str) -> bytes:
    """Agents out over time, one line per (label, t in s, count) series."""
    pl = use_language(lang)
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    for label, t, n in series:
        ax.step(t, n, where="post", label=label)
    ax.set_xlabel(_T["time"][pl])
    ax.set_ylabel(_T["out"][pl])
    ax.set_title(_T["evac"][pl])
    ax.grid(alpha=0.3)
    if len(series) > 1:
        ax.legend()
    return figure_png(fig)


def exit_flows(flow_t: np.ndarray, exits: list[dict[str, Any]], lang: str) -> bytes:
    """Flow through each exit over time (persons/s, 5 s bins)."""
    pl = use_language(lang)
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    for e in exits:
        ax.plot(flow_t, e["flow"], marker=".", label=f"{e['id']} ({e['count']})")
    ax.set_xlabel(_T["time"][pl])
    ax.set_title(_T["flow"][pl])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure_png(fig)


def distributions(pre: np.ndarray, travel: np.ndarray, lang: str) -> bytes:
    """Histograms of pre-movement and travel times (s)."""
    pl = use_language(lang)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    for ax, v, key, colour in ((axes[0], pre, "pre", "#d98c2b"),
                               (axes[1], travel, "travel", "#2b7bd9")):
        v = v[np.isfinite(v)]
        if len(v):
            ax.hist(v, bins=min(40, max(5, len(v) // 10)), color=colour)
        ax.set_xlabel(_T[key][pl])
        ax.set_ylabel(_T["count"][pl])
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return figure_png(fig)


def density_map(dmap: Any, scene: Any, floor: int, bottlenecks: list[dict[str, Any]],
                lang: str) -> bytes:
    """Peak density and time at LOS E or worse on one floor, with walls and exits."""
    pl = use_language(lang)
    f = scene.floors[floor]
    x0, y0 = dmap.origin
    ny, nx = dmap.peak.shape
    extent = (x0, x0 + nx * dmap.cell, y0, y0 + ny * dmap.cell)
    aspect = (extent[3] - extent[2]) / max(extent[1] - extent[0], 1e-9)
    fig, axes = plt.subplots(1, 2, figsize=(10, max(2.5, min(8.0, 4.6 * aspect + 1))))
    for ax, grid, key, cmap in ((axes[0], dmap.peak, "dens", "inferno"),
                                (axes[1], dmap.time_above["E"], "above", "viridis")):
        img = ax.imshow(np.ma.masked_equal(grid, 0), origin="lower", extent=extent,
                        cmap=cmap, interpolation="nearest")
        fig.colorbar(img, ax=ax, shrink=0.8)
        for poly in [f.walkable, *f.obstacles]:
            xs, ys = poly.exterior.xy
            ax.plot(xs, ys, color="0.4", lw=0.6)
        for e in scene.exits:
            if e.floor == floor:
                xs, ys = e.polygon.exterior.xy
                ax.fill(xs, ys, color="#2ca02c", alpha=0.8)
                c = e.polygon.centroid
                ax.annotate(e.id, (c.x, c.y), fontsize=7, color="#1a661a")
        for b in bottlenecks:
            if b["floor"] == f.id:
                ax.plot(b["x"], b["y"], "o", mfc="none", mec="cyan", ms=14, mew=1.5)
        ax.set_title(f"{_T['floor'][pl]} {f.id}: {_T[key][pl]}", fontsize=9)
        ax.set_aspect("equal")
    fig.tight_layout()
    return figure_png(fig)


def compare_bars(labels: list[str], rows: list[tuple[str, list[float | None]]],
                 lang: str) -> bytes:
    """Grouped bars: one group per (name, values per run)."""
    pl = use_language(lang)
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    width = 0.8 / max(len(labels), 1)
    x = np.arange(len(rows))
    for i, label in enumerate(labels):
        vals = [np.nan if r[1][i] is None else r[1][i] for r in rows]
        ax.bar(x + i * width, vals, width, label=label)
    ax.set_xticks(x + width * (len(labels) - 1) / 2, [r[0] for r in rows], fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    ax.set_ylabel(_T["time"][pl])
    return figure_png(fig)


PLOTS = {"evacuation_curves": evacuation_curves, "exit_flows": exit_flows,
         "distributions": distributions, "density_map": density_map,
         "compare_bars": compare_bars}
