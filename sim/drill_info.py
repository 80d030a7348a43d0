"""A drill's own description in its scenario's ``[drill]`` table (for the report's cover).

A scenario says what drill it is, for the evaluation report's cover (封面信息)::

    [drill]
    title = "某商场火灾疏散演练"
    type = "综合"          # 实战 / 桌面 / 综合 / 单项 (live / tabletop / combined / single)
    date = "2026-12-01"
    place = "某市某区某商场"
    organiser = "某区应急管理局"
    units = [{ name = "商场物业", people = 12 }, "消防救援站"]
    instructor = "张三"
    evaluators = ["李四", "王五"]

The same table holds a served drill's script options (``blind``, ``alarm``, ``spawn``,
read by ``net/script.py``). This module only checks the cover keys (no heavy imports:
the server reads it when it loads a drill).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from sim.errors import ScenarioError

__all__ = ["COVER_KEYS", "DRILL_TYPES", "parse_cover"]

DRILL_TYPES = {
    "live": ("实战演练", "live drill"),
    "tabletop": ("桌面演练", "tabletop exercise"),
    "combined": ("综合演练", "combined drill"),
    "single": ("单项演练", "single-function drill"),
    "simulation": ("仿真推演（计算机模拟，无人员参演）", "computer simulation (no participants)"),
}
_TYPE_WORDS = {"实战": "live", "桌面": "tabletop", "综合": "combined", "单项": "single",
               "仿真": "simulation", **{k: k for k in DRILL_TYPES}}
COVER_KEYS = ("title", "type", "date", "place", "organiser", "units", "instructor",
              "evaluators")
"""Keys of ``[drill]`` that describe the drill for the report's cover."""


def parse_cover(raw: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """The cover keys of a ``[drill]`` table, checked and normalised.

    ``type`` becomes one of :data:`DRILL_TYPES`; ``units`` a list of {"name", "people"};
    ``evaluators`` a list. Raises ScenarioError (``drill.KEY``) for a wrong type or value.
    """
    out: dict[str, Any] = {}

    def bad(key: str, why: str) -> ScenarioError:
        return ScenarioError(why, source=source, field=f"drill.{key}")

    for key in ("title", "date", "place", "organiser", "instructor"):
        if key in raw:
            v = raw[key]
            if isinstance(v, _dt.date | _dt.datetime) and key == "date":
                v = v.isoformat()
            if not isinstance(v, str) or not v.strip() or len(v) > 200:
                raise bad(key, "must be a non-empty string of at most 200 characters")
            out[key] = v.strip()
    if "type" in raw:
        v = raw["type"]
        word = v.strip().removesuffix("演练") if isinstance(v, str) else None
        if word not in _TYPE_WORDS:
            raise bad("type", "must be one of 实战, 桌面, 综合, 单项 (live, tabletop, combined, "
                      f"single), got {v!r}")
        out["type"] = _TYPE_WORDS[word]
    if "units" in raw:
        units = raw["units"]
        if not isinstance(units, list):
            raise bad("units", "must be an array of names or { name, people } tables")
        out["units"] = []
        for i, u in enumerate(units):
            if isinstance(u, str) and u.strip():
                out["units"].append({"name": u.strip(), "people": None})
            elif (isinstance(u, dict) and isinstance(u.get("name"), str) and u["name"].strip()
                  and set(u) <= {"name", "people"}
                  and (u.get("people") is None or (isinstance(u["people"], int)
                                                   and not isinstance(u["people"], bool)
                                                   and u["people"] >= 0))):
                out["units"].append({"name": u["name"].strip(), "people": u.get("people")})
            else:
                raise ScenarioError("must be a name or { name = \"…\", people = N }",
                                    source=source, field=f"drill.units[{i}]")
    if "evaluators" in raw:
        v = raw["evaluators"]
        names = [v] if isinstance(v, str) else v
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip()
                                                  for n in names):
            raise bad("evaluators", "must be a name or an array of names")
        out["evaluators"] = [n.strip() for n in names]
    return out
