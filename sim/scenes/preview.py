"""Plan views of a scene, one PNG per floor (matplotlib, no display needed).

Walkable area light grey, obstacles dark grey, exits green (refuges blue) with their ids,
stair ends orange with the floor they lead to, rooms that cannot reach a way out red, and
the people placed as dots; labels in Chinese by default (a CJK font is looked for), or
English.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from sim.scenes.model import Scene
from sim.scenes.scenario_toml import reachable_rooms

__all__ = ["write_previews"]

COLOURS = {"walkable": "#e6e6e6", "obstacle": "#555555", "exit": "#28c850",
           "refuge": "#2890dc", "stair": "#e69628", "trapped": "#e04040"}


def _fill(ax, geom: shapely.Geometry, colour: str, **kw) -> None:  # noqa: ANN001
    """Fill the polygons of ``geom``, holes left open."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    for p in shapely.get_parts(geom):
        if not isinstance(p, Polygon) or p.is_empty:
            continue
        p = orient(p, 1.0)
        verts, codes = [], []
        for ring in (p.exterior, *p.interiors):
            xy = np.asarray(ring.coords)
            verts.append(xy)
            codes += [MPath.MOVETO] + [MPath.LINETO] * (len(xy) - 2) + [MPath.CLOSEPOLY]
        ax.add_patch(PathPatch(MPath(np.concatenate(verts), codes), facecolor=colour,
                               edgecolor="none", **kw))


_WORDS = {
    "zh": {"floor": "楼层", "walkable": "可行走区域", "obstacle": "障碍物", "exit": "出口",
           "refuge": "避难硐室", "stair": "楼梯端（→ 通往楼层）", "trapped": "无法到达出口",
           "people": "人员", "title": "{name} — 楼层 {id}（z = {z:g} m）：可行走 {area:.0f} m²，"
           "出口 {exits} 个", "persons": "，人员 {n} 人"},
    "en": {"floor": "floor", "walkable": "walkable", "obstacle": "obstacle", "exit": "exit",
           "refuge": "refuge", "stair": "stair end (→ floor it leads to)",
           "trapped": "cannot reach an exit", "people": "people",
           "title": "{name} — floor {id} (z = {z:g} m): {area:.0f} m² walkable, {exits} exits",
           "persons": ", {n} people"},
}


def write_previews(scene: Scene, out_dir: str | Path, *, dpi: int = 110,
                   people: Sequence[np.ndarray] | None = None, lang: str = "zh") -> list[Path]:
    """Write ``out_dir/floor-<k>-<id>.png`` for every floor; returns the paths.

    ``people``: per floor, the (n, 2) positions of the people placed, m (drawn as dots).
    ``lang``: "zh" (falls back to English where no CJK font is installed) or "en".
    """
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from sim.report.plots import cjk_font

    font = cjk_font()
    lang = "zh" if lang == "zh" and font else "en"
    words = _WORDS[lang]

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rooms = reachable_rooms(scene)
    paths = []
    families = ([font] if font else []) + ["DejaVu Sans"]
    with matplotlib.rc_context({"font.family": families}), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing")
        for fi, f in enumerate(scene.floors):
            x0, y0, x1, y1 = f.walkable.bounds
            w = max(x1 - x0, 1.0)
            h = max(y1 - y0, 1.0)
            fig, ax = plt.subplots(figsize=(10, max(3.0, min(10.0, 10 * h / w)) + 0.8))
            _fill(ax, f.walkable, COLOURS["obstacle"], zorder=1)
            _fill(ax, f.area, COLOURS["walkable"], zorder=2)
            for room_fi, room, ok in rooms:
                if room_fi == fi and not ok:
                    _fill(ax, room, COLOURS["trapped"], alpha=0.5, zorder=3)
            for e in scene.exits:
                if e.floor == fi:
                    _fill(ax, e.polygon, COLOURS[e.kind], zorder=4)
                    c = e.polygon.centroid
                    ax.annotate(e.id, (c.x, c.y), fontsize=8, color="#106020", zorder=6,
                                xytext=(3, 3), textcoords="offset points")
            for st in scene.stairs:
                for k in (0, 1):
                    if st.floors[k] != fi:
                        continue
                    _fill(ax, st.areas[k], COLOURS["stair"], zorder=4)
                    c = st.areas[k].centroid
                    other = scene.floors[st.floors[1 - k]].id
                    ax.annotate(f"{st.id} → {other}", (c.x, c.y), fontsize=7, zorder=6,
                                color="#804000", xytext=(3, -9), textcoords="offset points")
            title = words["title"].format(name=scene.name, id=f.id, z=f.elevation,
                                          area=f.area.area,
                                          exits=sum(e.floor == fi for e in scene.exits))
            if people is not None:
                pts = np.asarray(people[fi]).reshape(-1, 2)
                ax.scatter(pts[:, 0], pts[:, 1], s=9, color="#203080", zorder=5, linewidths=0)
                title += words["persons"].format(n=len(pts))
            ax.set_aspect("equal")
            ax.set_title(title, fontsize=10)
            legend = [Patch(color=COLOURS[k], label=words[k])
                      for k in ("walkable", "obstacle", "exit", "refuge", "stair", "trapped")]
            if people is not None:
                legend.append(Line2D([], [], marker="o", linestyle="", markersize=4,
                                     color="#203080", label=words["people"]))
            ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      fontsize=8, frameon=False)
            ax.set_xlabel("x (m)")
            ax.set_ylabel("y (m)")
            ax.set_xlim(x0 - 0.02 * w, x1 + 0.02 * w)
            ax.set_ylim(y0 - 0.02 * h, y1 + 0.02 * h)
            fig.tight_layout()
            safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in f.id)
            path = out_dir / f"floor-{fi}-{safe}.png"
            fig.savefig(path, dpi=dpi)
            plt.close(fig)
            paths.append(path)
    return paths
