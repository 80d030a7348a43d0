"""Drill events and commands as sentences (Chinese and English) for the report.

A recording holds events (``exit_closed``, ``hazard``, ``floor_clear`` …) and journal
entries (who sent which command) as data; an official reads sentences: "出口 West 关闭",
"导调员 张三 注入火灾：1F (12.0, 5.0)，半径 2 米". Ids stay as they are (they are what the
scene and the drill use); kinds, roles and actions are words.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ROLES", "command_sentence", "event_sentence", "role_name"]

ROLES = {"instructor": ("导调员", "instructor"), "participant": ("参演人员", "participant"),
         "observer": ("评估人员", "observer")}
HAZARDS = {"fire": ("火灾", "fire"), "smoke": ("烟雾", "smoke"), "flood": ("水浸", "flood"),
           "gas": ("有害气体", "gas"), "power_cut": ("停电", "power cut"),
           "alarm": ("警报", "alarm"), "blocked_exit": ("出口堵塞", "blocked exit"),
           "block_exit": ("堵塞出口", "exit blocked"),
           "unblock_exit": ("疏通出口", "exit unblocked"),
           "clear": ("解除险情", "hazard cleared")}
MARKS = {"injured": ("伤员", "injured person"), "fire": ("火点", "fire"),
         "smoke": ("烟雾", "smoke"), "blocked": ("通道堵塞", "blocked passage"),
         "trapped": ("被困人员", "trapped person")}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def role_name(role: str | None, lang: str) -> str:
    """A role in words ("导调员"); a recording without roles gives "—"."""
    if not role:
        return "—"
    return _pick(ROLES.get(role, (role, role)), lang)


def _num(v: Any) -> str:
    return f"{float(v):.1f}" if isinstance(v, int | float) and not isinstance(v, bool) else "?"


def _floor_name(floor: Any, floors: list[str] | None, lang: str) -> str:
    """A floor index as the scene names it ("2F"), else the index ("1 层")."""
    if floors is not None and isinstance(floor, int) and 0 <= floor < len(floors):
        return floors[floor] + " "
    return f"{floor} 层 " if lang == "zh" else f"floor {floor} "


def _hazard_text(h: dict[str, Any], lang: str, floors: list[str] | None = None) -> str:
    kind = _pick(HAZARDS.get(str(h.get("kind")), (str(h.get("kind")), str(h.get("kind")))), lang)
    parts = []
    if h.get("exit"):
        parts.append(f"出口 {h['exit']}" if lang == "zh" else f"exit {h['exit']}")
    if h.get("x") is not None and h.get("y") is not None and h.get("kind") not in (
            "alarm", "blocked_exit", "block_exit", "unblock_exit", "clear"):
        where = f"({_num(h['x'])}, {_num(h['y'])})"
        floor = h.get("floor")
        if floor is not None:
            where = _floor_name(floor, floors, lang) + where
        parts.append(where)
        if h.get("radius"):
            parts.append(f"半径 {_num(h['radius'])} 米" if lang == "zh"
                         else f"radius {_num(h['radius'])} m")
    if h.get("id"):
        parts.append(f"编号 {h['id']}" if lang == "zh" else f"id {h['id']}")
    if h.get("note"):
        parts.append(f"说明：{h['note']}" if lang == "zh" else f"note: {h['note']}")
    sep = "，" if lang == "zh" else ", "
    return kind + ((("：" if lang == "zh" else ": ") + sep.join(parts)) if parts else "")


def _where(d: dict[str, Any], zh: bool) -> str:
    """Where an evacuation order applies: a zone, a floor, or everywhere."""
    if d.get("zone"):
        return f"区域 {d['zone']}" if zh else f"zone {d['zone']}"
    if d.get("floor"):
        return f"楼层 {d['floor']}" if zh else f"floor {d['floor']}"
    return "全部区域" if zh else "everywhere"


def event_sentence(e: dict[str, Any], lang: str = "zh", floors: list[str] | None = None,
                   ) -> str:
    """What a recorded drill event says, as a sentence (``floors``: the scene's floor
    ids, to name floors given by index)."""
    kind = e.get("type")
    zh = lang == "zh"
    if kind == "exit_closed":
        return f"出口 {e.get('exit')} 关闭" if zh else f"exit {e.get('exit')} closed"
    if kind == "exit_opened":
        return f"出口 {e.get('exit')} 开启" if zh else f"exit {e.get('exit')} opened"
    if kind == "floor_clear":
        return f"楼层 {e.get('floor')} 人员已全部撤离" if zh else f"floor {e.get('floor')} clear"
    if kind == "hazard":
        h = e.get("hazard") or {}
        text = _hazard_text(h, lang, floors)
        return (f"险情发生：{text}" if zh else f"hazard: {text}")
    if kind == "hazard_cleared":
        return f"险情 {e.get('id')} 解除" if zh else f"hazard {e.get('id')} cleared"
    if kind == "evacuation_ordered":
        where = _where(e, zh)
        n = e.get("agents")
        return (f"下达疏散命令（{where}），{n} 人开始撤离" if zh
                else f"evacuation ordered ({where}); {n} people set off")
    if kind == "alarm":
        return "发出警报" if zh else "alarm sounded"
    if kind in ("person_joined", "person_join"):
        return (f"参演人员 {e.get('name') or e.get('pid')} 进入场景" if zh
                else f"participant {e.get('name') or e.get('pid')} joined")
    if kind == "person_out":
        return (f"参演人员 {e.get('name')} 经出口 {e.get('exit')} 撤出" if zh
                else f"participant {e.get('name')} got out by exit {e.get('exit')}")
    if kind == "person_released":
        return (f"参演人员化身（{e.get('agent')}）交由仿真引导撤离" if zh
                else f"participant's avatar {e.get('agent')} handed to the simulation")
    if kind == "script_error":
        return (f"预设事件 {e.get('index')} 无法执行：{e.get('message')}" if zh
                else f"scripted inject {e.get('index')} failed: {e.get('message')}")
    return (f"事件 {kind}" if zh else f"event {kind}")


def command_sentence(c: dict[str, Any], lang: str = "zh", floors: list[str] | None = None,
                     ) -> str:
    """What a journal entry (:func:`sim.metrics._commands` row) did, as a sentence
    (``floors``: the scene's floor ids, to name floors given by index)."""
    kind = c.get("type")
    d = c.get("detail") or {}
    zh = lang == "zh"
    if kind == "start":
        return "开始演练" if zh else "started the drill"
    if kind == "pause":
        return "暂停演练" if zh else "paused the drill"
    if kind == "resume":
        return "继续演练" if zh else "resumed the drill"
    if kind == "end":
        return "结束演练" if zh else "ended the drill"
    if kind == "speed":
        return (f"调整推演倍速为 {d.get('factor')} 倍" if zh
                else f"set the speed to {d.get('factor')}×")
    if kind == "inject":
        text = _hazard_text(d.get("event") or {}, lang, floors)
        scripted = d.get("script") is not None
        if zh:
            return ("按演练脚本" if scripted else "") + f"注入：{text}"
        return ("scripted inject: " if scripted else "injected: ") + text
    if kind == "script_fire":
        return (f"提前触发预设事件 {d.get('index')}" if zh
                else f"fired scripted inject {d.get('index')} now")
    if kind == "script_skip":
        return (f"取消预设事件 {d.get('index')}" if zh
                else f"skipped scripted inject {d.get('index')}")
    if kind == "order_evacuation":
        where = _where(d, zh)
        return f"下达疏散命令：{where}" if zh else f"ordered evacuation: {where}"
    if kind == "door":
        act = d.get("action") or ("open" if d.get("open") else "close")
        ex = d.get("id") or d.get("exit")
        if zh:
            return f"{'开启' if act == 'open' else '关闭'}出口 {ex}"
        return f"{'opened' if act == 'open' else 'closed'} exit {ex}"
    if kind == "report":
        auto = "（自动消息）" if d.get("auto") and zh else " (automatic)" if d.get("auto") else ""
        return (f"信息报送{auto}：{d.get('text')}" if zh else f"report{auto}: {d.get('text')}")
    if kind == "mark":
        m = _pick(MARKS.get(str(d.get("kind")), (str(d.get("kind")), str(d.get("kind")))), lang)
        pos = d.get("position") or [None, None]
        where = f"({_num(pos[0])}, {_num(pos[1])})"
        note = d.get("note")
        if zh:
            return f"在地图上标记{m} {where}" + (f"：{note}" if note else "")
        return f"marked {m} at {where}" + (f": {note}" if note else "")
    if kind in ("person_join", "steer", "release", "hold_premovement"):
        return {"person_join": ("参演人员化身进入场景", "a participant's avatar joined"),
                "steer": ("参演人员行走", "a participant walked"),
                "release": ("参演人员化身交由仿真", "an avatar handed to the simulation"),
                "hold_premovement": ("等待警报后开始疏散", "people wait for the alarm")
                }[kind][0 if zh else 1]
    return f"操作 {kind}" if zh else f"command {kind}"
