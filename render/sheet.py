"""Every floor at once: one plan picture per floor on one sheet, with clock, counts, legend.

An overview of a building shows its top floor; from the moment the upper floors empty,
the people still on the lower ones are hidden under the slabs. A *floor sheet* puts the
plan of each floor (camera ``floor:N``, floors above hidden, people drawn at a minimum
size so a miner in a tunnel is visible) side by side, titled with the floor and the
number of people on it, under a clock (simulated time, people inside and out) and with
a legend of the colours. It is composed with matplotlib (Agg); the renderer draws the
floors.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import numpy as np

from render.palette import AGENT_COLOURS, CLOSED_EXIT, INJURED
from render.state import SceneState
from sim.agents.crowd import State
from sim.scenes.export import COLOURS as SCENE_COLOURS
from sim.scenes.model import Scene

__all__ = ["FLOOR_SIZE", "floor_counts", "floor_sheet"]

FLOOR_SIZE = (640, 420)
"""Pixels of each floor's picture on a sheet (width, height)."""

_WORDS = {
    "zh": {"clock": "演练时间 {t}　楼内 {inside} 人", "out": "　已撤离 {out} 人",
           "floor": "{id}：{n} 人",
           "waiting": "等待", "moving": "移动中", "stairs": "楼梯上",
           "injured": "伤员", "exit": "出口", "closed": "已关闭出口"},
    "en": {"clock": "t = {t}   inside {inside}", "out": "   out {out}",
           "floor": "{id}: {n} people",
           "waiting": "waiting", "moving": "moving", "stairs": "on a stair",
           "injured": "injured", "exit": "exit", "closed": "closed exit"},
}


def floor_counts(scene: Scene, state: SceneState) -> list[int]:
    """People on each floor (by height: someone on a stair counts on the floor below)."""
    elev = np.array([f.elevation for f in scene.floors])
    order = np.argsort(elev)
    z = state.agents.xyz[:, 2] if len(state.agents.id) else np.zeros(0)
    level = np.clip(np.searchsorted(elev[order], z + 0.05, side="right") - 1, 0, None)
    return np.bincount(order[level], minlength=len(elev)).tolist()


def _clock(t: float) -> str:
    return f"{int(t // 60):02d}:{t % 60:04.1f}"


def floor_sheet(scene: Scene, state: SceneState, draw: Callable[[int, tuple[int, int]], bytes],
                *, out_count: int | None = None, lang: str = "zh",
                size: tuple[int, int] = FLOOR_SIZE) -> bytes:
    """PNG of every floor of ``scene`` at ``state``: ``draw(i, size)`` returns the PNG of
    floor ``i`` (camera ``floor:i``); ``out_count`` people already out (None: not shown)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from sim.report.plots import cjk_font

    words = _WORDS["zh" if lang == "zh" and cjk_font() else "en"]
    if words is _WORDS["zh"]:
        plt.rcParams["font.sans-serif"] = [cjk_font(), "DejaVu Sans"]
    n = len(scene.floors)
    counts = floor_counts(scene, state)
    cols = 1 if n == 1 else 2 if n <= 4 else 3
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * size[0] / 100, rows * size[1] / 100
                                                  + 0.9), dpi=100, squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        i = n - 1 - k  # the top floor first, as a building is read
        ax.imshow(mpimg.imread(io.BytesIO(draw(i, size)), format="png"))
        ax.set_title(words["floor"].format(id=scene.floors[i].id, n=counts[i]), fontsize=11)
    inside = int(sum(counts))
    head = words["clock"].format(t=_clock(state.time), inside=inside)
    if out_count is not None:
        head += words["out"].format(out=out_count)
    fig.suptitle(head, fontsize=13, fontweight="bold")

    def rgb(c: tuple[int, ...]) -> tuple[float, ...]:
        return tuple(v / 255 for v in c[:3])

    legend = [Patch(color=rgb(AGENT_COLOURS[State.WAITING]), label=words["waiting"]),
              Patch(color=rgb(AGENT_COLOURS[State.MOVING]), label=words["moving"]),
              Patch(color=rgb(AGENT_COLOURS[State.ON_STAIRS]), label=words["stairs"]),
              Patch(color=rgb(INJURED), label=words["injured"]),
              Patch(color=rgb(SCENE_COLOURS["exit"]), label=words["exit"]),
              Patch(color=rgb(CLOSED_EXIT), label=words["closed"])]
    fig.legend(handles=legend, loc="lower center", ncol=len(legend), fontsize=9,
               frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 0.95), h_pad=1.5)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
