"""Who did what, and what followed the marks: section 三 of the report.

From the command journal (:func:`sim.metrics._commands` rows, with their sentences):

- :func:`actors`: each person's actions — how many of each kind, the first and the last;
- :func:`marks`: every map mark (an injured person, a fire …) with what followed it
  within :data:`FOLLOW_S` seconds — reports, orders, doors — or that nothing did;
- :func:`milestone_deadlines`: the plan's deadline and verdict for the alarm, the first
  report and the evacuation order, so the timeline says whether each came in time.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sim.report.describe import MARKS, role_name

__all__ = ["FOLLOW_S", "actors", "marks", "milestone_deadlines"]

FOLLOW_S = 120.0
"""How long after a mark an action counts as following it up, s."""
_FOLLOW_UP = ("report", "order_evacuation", "door", "inject")
_KINDS = {"report": ("信息报送", "reports"), "mark": ("地图标记", "marks"),
          "door": ("开关门", "doors"), "order_evacuation": ("疏散命令", "orders"),
          "inject": ("注入", "injects"), "start": ("开始", "start"), "pause": ("暂停", "pause"),
          "resume": ("继续", "resume"), "end": ("结束", "end"), "speed": ("倍速", "speed"),
          "script_fire": ("提前触发", "fired early"), "script_skip": ("取消事件", "skipped")}
_MILESTONE_ACTIONS = {"alarm": "alarm", "first_report": "report",
                      "evacuation_order": "order_evacuation"}


def actors(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per person who acted: name, role words, count, first and last time (s),
    and the kinds of action as words (zh, en)."""
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in commands:
        if c.get("name") and c.get("type") not in ("steer", "person_join", "release"):
            by.setdefault((str(c["name"]), str(c.get("role") or "")), []).append(c)
    out = []
    for (name, role), cs in by.items():
        kinds = Counter(str(c.get("type")) for c in cs)
        auto = sum(1 for c in cs if (c.get("detail") or {}).get("auto"))
        zh = "、".join(f"{_KINDS.get(k, (k, k))[0]} {n} 次" for k, n in kinds.items())
        en = ", ".join(f"{n} {_KINDS.get(k, (k, k))[1]}" for k, n in kinds.items())
        if auto:
            zh += f"（其中自动消息 {auto} 条）"
            en += f" ({auto} automatic)"
        times = [float(c["t"]) for c in cs if c.get("t") is not None]
        out.append({"name": name, "role": role, "role_zh": role_name(role, "zh"),
                    "role_en": role_name(role, "en"), "n": len(cs),
                    "first_s": min(times) if times else None,
                    "last_s": max(times) if times else None, "zh": zh, "en": en})
    out.sort(key=lambda a: (a["first_s"] is None, a["first_s"] or 0.0))
    return out


def marks(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every mark with the actions of others (or the marker) within :data:`FOLLOW_S` s
    after it: ``followed`` lists their sentences (zh, en), empty when nothing followed."""
    out = []
    for i, c in enumerate(commands):
        if c.get("type") != "mark" or c.get("t") is None:
            continue
        d = c.get("detail") or {}
        t0 = float(c["t"])
        after = [x for x in commands[i + 1:]
                 if x.get("type") in _FOLLOW_UP and x.get("t") is not None
                 and 0.0 <= float(x["t"]) - t0 <= FOLLOW_S
                 and not (x.get("detail") or {}).get("auto")]
        kind = MARKS.get(str(d.get("kind")), (str(d.get("kind")), str(d.get("kind"))))
        pos = d.get("position") or [None, None]
        out.append({"t": t0, "name": c.get("name"), "kind_zh": kind[0], "kind_en": kind[1],
                    "x": pos[0], "y": pos[1], "floor": d.get("floor", 0),
                    "note": d.get("note"),
                    "followed": [{"t": float(x["t"]), "name": x.get("name"),
                                  "zh": x.get("zh") or x.get("type"),
                                  "en": x.get("en") or x.get("type")} for x in after[:3]]})
    return out


def milestone_deadlines(plan: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Timeline key (alarm, first_report, evacuation_order) -> the earliest plan step of
    that action: {"step", "deadline_s", "met"}."""
    out: dict[str, dict[str, Any]] = {}
    for key, action in _MILESTONE_ACTIONS.items():
        steps = [p for p in plan if p.get("action") == action]
        if steps:
            p = min(steps, key=lambda p: (p.get("deadline_s") is None, p.get("deadline_s")))
            out[key] = {"step": p["id"], "deadline_s": p.get("deadline_s"), "met": p["met"]}
    return out
