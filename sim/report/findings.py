"""Findings and suggestions (意见和建议) drawn from the measured figures.

Each rule looks at :meth:`sim.metrics.Metrics.to_dict` figures and, when it fires, gives a
finding with a Chinese and an English sentence that quote the numbers behind it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CAPACITY", "closed_exits", "conclusion", "findings"]

CAPACITY = 1.3
"""Specific flow taken as an exit's capacity, persons per metre per second (SFPE)."""
SLOW_PREMOVEMENT = 120.0
"""95th percentile of pre-movement times above which people reacted slowly, s."""
IMBALANCE = 1.5
"""An exit carrying this many times its fair share (by width) is overloaded."""
HIGH_DENSITY = 6.0
"""A peak density above this (persons/m²) is explained in a finding."""
QUEUE_AREA = 5.0
"""Area at level of service E or worse (m²) that makes a queue worth a finding ..."""
QUEUE_S = 60.0
"""... when it lasts this long somewhere in it, s."""


def _f(v: float, nd: int = 0) -> str:
    return f"{v:.{nd}f}"


def closed_exits(events: list[dict[str, Any]]) -> dict[str, float]:
    """Exit id -> the time it was first closed during the drill, s."""
    out: dict[str, float] = {}
    for e in events:
        if e.get("type") == "exit_closed" and e.get("exit") not in out:
            out[str(e["exit"])] = float(e.get("t") or 0.0)
    return out


def findings(m: dict[str, Any]) -> list[dict[str, str]]:
    """Findings of a report: dicts with ``code``, ``severity`` (high/medium/info), ``zh``,
    ``en`` and ``basis`` (the figure it rests on). ``m`` is report.json so far: the metrics
    and the drill's ``events`` (a closed exit is reported as closed, never as unused)."""
    out: list[dict[str, str]] = []

    def add(code: str, severity: str, zh: str, en: str, basis: str = "") -> None:
        out.append({"code": code, "severity": severity, "zh": zh, "en": en, "basis": basis})

    if not m["complete"]:
        left = m["agents"] - m["evacuated"]
        add("not_complete", "high",
            f"记录结束（{_f(m['end_t'])} 秒）时仍有 {left} 人未撤离：查明滞留原因（出口封堵、"
            "路线受阻、未下达疏散命令），必要时组织搜救。",
            f"{left} people were still inside when the recording ended "
            f"({_f(m['end_t'])} s): find out why (blocked exits or routes, no order) and plan "
            "a search.", basis=f"evacuated {m['evacuated']} of {m['agents']} at {m['end_t']} s")
    closed = closed_exits(m.get("events", []))
    exits = list(m["exits"])
    usable = [e for e in exits if e["id"] not in closed and e.get("kind") != "refuge"]
    used = sum(e["count"] for e in exits)
    width = sum(e["width"] for e in usable) or 1.0
    if used and len(usable) > 1:
        heavy = max(usable, key=lambda e: e["share"])
        light = min(usable, key=lambda e: e["share"])
        fair_heavy = heavy["width"] / width
        fair_light = light["width"] / width
        if heavy["share"] > IMBALANCE * fair_heavy and light["share"] < fair_light / IMBALANCE:
            add("exit_imbalance", "high",
                f"出口 {heavy['id']} 承担了 {_f(100 * heavy['share'])}% 的疏散人员，而出口 "
                f"{light['id']} 仅 {_f(100 * light['share'])}%：应在预案和现场引导中把人员引向"
                f"出口 {light['id']}（设置指示标志、安排疏散引导员）。",
                f"Exit {heavy['id']} carried {_f(100 * heavy['share'])} % of the evacuees while "
                f"exit {light['id']} carried {_f(100 * light['share'])} %: guide people to exit "
                f"{light['id']} (signs, marshals).",
                basis=f"share {heavy['id']} {heavy['share']:.3f} vs {light['id']} "
                      f"{light['share']:.3f}; widths {heavy['width']:g} / {light['width']:g} m")
    busy = [e for e in exits if e["count"] >= 10 and e["specific_flow"] >= 0.9 * CAPACITY]
    if len(busy) >= 3:  # one finding, not one near-identical line per exit
        ids = "、".join(f"{e['id']}（{_f(e['specific_flow'], 2)}）" for e in busy)
        ids_en = ", ".join(f"{e['id']} ({_f(e['specific_flow'], 2)})" for e in busy)
        add("exit_capacity", "medium",
            f"{len(exits)} 个出口中有 {len(busy)} 个的单位宽度峰值流率达到或接近通行能力 "
            f"{CAPACITY} 人/(米·秒)：{ids}。出口总宽度是疏散时间的主要限制：考虑增加或加宽"
            "出口、保持门扇全开，并在预案中安排分批疏散。",
            f"{len(busy)} of {len(exits)} exits peaked at or near their capacity of {CAPACITY} "
            f"persons/(m·s): {ids_en}. The total exit width limits the evacuation: add or "
            "widen exits, keep doors fully open, stagger the evacuation.",
            basis="peak specific flow per exit, persons/(m·s), 5 s bins")
    else:
        for e in busy:
            over = e["specific_flow"] >= CAPACITY
            add("exit_capacity", "medium",
                f"出口 {e['id']}（宽 {_f(e['width'], 1)} 米）峰值流率 "
                f"{_f(e['peak_flow'], 1)} 人/秒，即 {_f(e['specific_flow'], 2)} 人/(米·秒)，"
                f"{'已达到或超过' if over else '已接近'}通行能力 {CAPACITY} 人/(米·秒)："
                "考虑加宽出口、保持门扇全开或分流。",
                f"Exit {e['id']} ({_f(e['width'], 1)} m wide) peaked at "
                f"{_f(e['peak_flow'], 1)} persons/s, {_f(e['specific_flow'], 2)} persons/(m·s), "
                f"{'at or over' if over else 'near'} its capacity of {CAPACITY}: widen it, keep "
                "doors fully open or share the load.",
                basis=f"peak flow {e['peak_flow']:.2f} /s over {e['width']:g} m")
    for e in exits:
        if e["id"] in closed:
            t0 = closed[e["id"]]
            others = sum(x["count"] for x in exits if x["id"] != e["id"])
            add("exit_closed", "info",
                f"出口 {e['id']} 于 {_f(t0, 1)} 秒关闭（演练设定的险情或操作），此后经该出口撤离 "
                f"{e['count']} 人；其余出口共疏散 {others} 人。评估时应考虑该出口不可用的情况，"
                "而非将其视为无人使用。",
                f"Exit {e['id']} was closed at {_f(t0, 1)} s (a hazard or command of the drill); "
                f"{e['count']} people used it, the other exits took {others}. It was "
                "unavailable, not unused.",
                basis=f"exit_closed event at {t0:.1f} s")
        elif e["count"] == 0 and e.get("kind") == "refuge":
            add("refuge_unused", "info",
                f"避难场所 {e['id']} 无人进入：人员均经出口撤离。",
                f"Nobody went into the refuge {e['id']}: everyone left by the exits.",
                basis=f"count {e['id']} = 0")
        elif e["count"] == 0:
            add("exit_unused", "info",
                f"出口 {e['id']} 始终开启，却无人使用：检查其标识是否清楚、路线是否通畅。",
                f"Exit {e['id']} was open throughout yet nobody used it: check its signs and "
                "the routes to it.",
                basis=f"count {e['id']} = 0, never closed")
    for dm in m.get("density", []):
        peak, coarse = dm.get("peak") or 0.0, dm.get("peak_1m2")
        if coarse is None or max(peak, coarse) <= HIGH_DENSITY:
            continue
        pressed = coarse > HIGH_DENSITY
        zh_then = ("：人员在此被挤压，接近人体可达的上限（约 7 人/平方米），应在此处限流或分流。"
                   if pressed else "，在密集排队的正常范围内。")
        en_then = (": people were pressed together, near the physical limit (about 7 /m²); "
                   "meter or divide the flow there." if pressed
                   else ", within the range of a dense queue.")
        add("density_peak", "medium" if pressed else "info",
            f"楼层 {dm['floor']} 的核密度估计（σ = 0.5 米，约 1.6 平方米范围）峰值为 "
            f"{_f(peak, 1)} 人/平方米；按 2 米网格（每格按至少 1 平方米可通行面积）计，峰值为 "
            f"{_f(coarse, 1)} 人/平方米{zh_then}",
            f"On floor {dm['floor']} the kernel estimate (σ = 0.5 m, about 1.6 m²) peaks at "
            f"{_f(peak, 1)} /m²; counted on 2 m cells (at least 1 m² walkable each) the peak is "
            f"{_f(coarse, 1)} /m²{en_then}",
            basis=f"density {dm['floor']}: kernel peak {peak}, 2 m cell peak {coarse}")
    if not m["bottlenecks"]:
        for dm in m.get("density", []):
            queue = dm.get("area_above_s", {}).get("E") or {}
            if (queue.get("area_m2") or 0) >= QUEUE_AREA and (queue.get("max_s") or 0) >= QUEUE_S:
                add("queue", "medium",
                    f"楼层 {dm['floor']} 有 {_f(queue['area_m2'])} 平方米的区域人员密度达到"
                    f"服务水平 E 或更差（≥ 1.08 人/平方米），最长持续 {_f(queue['max_s'])} 秒："
                    "虽未达到瓶颈标准（> 4 人/平方米持续 10 秒），但存在排队，"
                    "应在该处（通常是楼梯、扶梯口或出口前）安排引导。",
                    f"On floor {dm['floor']} {_f(queue['area_m2'])} m² reached level of service "
                    f"E or worse (≥ 1.08 persons/m²) for up to {_f(queue['max_s'])} s: a queue, "
                    "though below the bottleneck threshold (> 4 /m² for 10 s); guide people "
                    "there (usually at stairs, escalators or exits).",
                    basis=f"density map {dm['floor']}: LOS E area and longest time")
    for b in m["bottlenecks"][:3]:
        stair = b.get("nearest_kind") == "stair"
        near = (f"，距{'楼梯' if stair else '出口'} {b['nearest_exit']} 约 "
                f"{_f(b['exit_distance_m'], 1)} 米" if b["nearest_exit"] else "")
        near_en = (f", {_f(b['exit_distance_m'], 1)} m from {'stair' if stair else 'exit'} "
                   f"{b['nearest_exit']}" if b["nearest_exit"] else "")
        add("bottleneck", "high",
            f"楼层 {b['floor']} 坐标 ({_f(b['x'], 1)}, {_f(b['y'], 1)}) 附近{near}形成瓶颈："
            f"密度超过 4 人/平方米持续 {_f(b['longest_s'])} 秒"
            f"（峰值 {_f(b['peak_density'], 1)} 人/平方米）："
            "在此处安排引导员、拓宽通道或清除障碍，并分流至其他出口。",
            f"Bottleneck on floor {b['floor']} near ({_f(b['x'], 1)}, {_f(b['y'], 1)})"
            f"{near_en}: density above 4 persons/m² for {_f(b['longest_s'])} s (peak "
            f"{_f(b['peak_density'], 1)}): post marshals, widen the passage or remove "
            "obstacles, and send people to other exits.",
            basis=f"density map {b['floor']}: {b['area_m2']} m² above 4 /m², longest "
                  f"{b['longest_s']} s")
    for p in m["plan"]:
        if not p["met"]:
            if p["achieved_s"] is None:
                zh_t, en_t = "记录中未完成", "was not done in the recording"
            else:
                zh_t = f"用时 {_f(p['elapsed_s'])} 秒，超过期限 {_f(p['within'])} 秒"
                en_t = f"took {_f(p['elapsed_s'])} s, over the {_f(p['within'])} s deadline"
            add("plan_missed", "high",
                f"预案步骤 {p['id']}（{p['role']}：{p['text']}）未达标，{zh_t}：修订预案中的时限或"
                "加强该岗位的训练。",
                f"Plan step {p['id']} ({p['role']}: {p['text']}) {en_t}: revise the deadline "
                "or train that role.",
                basis=f"plan step {p['id']}: achieved {p['achieved_s']} s, within "
                      f"{p['within']} s")
    pre = m["premovement_s"]
    if pre.get("n") and pre["p95"] is not None and pre["p95"] > SLOW_PREMOVEMENT:
        add("slow_reaction", "medium",
            f"95% 人员的预动作时间在 {_f(pre['p95'])} 秒以内，反应偏慢：改进警报的可听度与"
            "清晰度，加强疏散宣传和培训。",
            f"95 % of the people started within {_f(pre['p95'])} s, which is slow: make the "
            "alarm clearer and train staff.",
            basis=f"pre-movement p95 {pre['p95']} s > {SLOW_PREMOVEMENT:g} s")
    tl = m["timeline_s"]
    if tl["alarm"] is not None and tl["alarm"] > 0 and tl["evacuation_order"] is None:
        add("no_order", "medium",
            "警报发出后未下达疏散命令：在预案中明确下达疏散命令的岗位和时限。",
            "No evacuation order followed the alarm: name the role that orders evacuation "
            "and its deadline in the plan.",
            basis=f"alarm at {tl['alarm']} s, no order_evacuation command")
    lonely = [k for k in m.get("marks", []) if not k["followed"]]
    if lonely:
        what = "、".join(f"{k['kind_zh']}（{_f(k['t'], 1)} 秒，{k['name']}）" for k in lonely[:5])
        what_en = ", ".join(f"{k['kind_en']} ({_f(k['t'], 1)} s, {k['name']})"
                            for k in lonely[:5])
        add("mark_not_followed", "medium",
            f"{len(lonely)} 个地图标记之后 120 秒内没有信息报送或处置：{what}。"
            "发现伤员、火点等情况应立即报告并安排处置，预案中应写明由谁跟进。",
            f"{len(lonely)} marks were followed by no report or action within 120 s: "
            f"{what_en}. A found casualty or fire must be reported and handled; the plan "
            "should say who follows it up.",
            basis="marks and the journal entries within 120 s after each")
    if m["commands"] and tl["first_report"] is None:
        add("no_report", "info",
            "演练中没有信息报送：按预案要求及时向指挥部报送现场情况。",
            "Nobody reported to the command post during the drill: reporting should be "
            "part of the drill.", basis="no report in the journal (bots' messages excluded)")
    if not out:
        add("no_issue", "info", "未发现明显问题；建议在更不利的情景（封堵出口、烟气）下再次演练。",
            "No clear problem found; repeat the drill in a harder scenario (blocked exit, "
            "smoke).")
    return out


GRADES = {"good": ("优秀", "good"), "pass": ("合格", "pass"), "fail": ("不合格", "fail"),
          "incomplete": ("未完成", "incomplete")}


def conclusion(m: dict[str, Any], found: list[dict[str, str]]) -> dict[str, Any]:
    """总体评价: a grade stated from the findings and the plan check, with its basis.

    ``incomplete`` when people were still inside at the end; ``fail`` when a plan step
    was missed or a high-severity finding stands; ``pass`` with medium findings; else
    ``good``. Returns grade, its words, a sentence (zh, en) and the basis (zh, en each).
    """
    high = [f for f in found if f["severity"] == "high"]
    medium = [f for f in found if f["severity"] == "medium"]
    plan = m.get("plan") or []
    met = sum(1 for p in plan if p["met"])
    if not m["complete"]:
        grade = "incomplete"
    elif high or met < len(plan):
        grade = "fail"
    elif medium:
        grade = "pass"
    else:
        grade = "good"
    tl = m["timeline_s"]
    if m["complete"]:
        zh = f"参演及模拟人员共 {m['agents']} 人，于 {_f(tl['last_out'] or 0, 1)} 秒内全部撤离"
        en = f"All {m['agents']} people were out within {_f(tl['last_out'] or 0, 1)} s"
    else:
        zh = (f"记录结束（{_f(m['end_t'], 1)} 秒）时 {m['agents']} 人中仍有 "
              f"{m['agents'] - m['evacuated']} 人未撤离")
        en = (f"{m['agents'] - m['evacuated']} of {m['agents']} people were still inside when "
              f"the recording ended ({_f(m['end_t'], 1)} s)")
    if plan:
        zh += f"；预案 {len(plan)} 个步骤中 {met} 个按时完成"
        en += f"; {met} of {len(plan)} plan steps were done in time"
    else:
        zh += "；本情景未载入数字化预案，未逐项核对"
        en += "; the scenario has no digitised plan to check"
    zh += f"；发现重要问题 {len(high)} 项、一般问题 {len(medium)} 项。"
    en += f"; {len(high)} serious and {len(medium)} moderate findings."
    words = GRADES[grade]
    zh += f"总体评价：{words[0]}。"
    en += f" Overall: {words[1]}."
    basis = [{"zh": f["zh"], "en": f["en"]} for f in (high + medium)[:3]]
    return {"grade": grade, "words": list(words), "zh": zh, "en": en, "basis": basis}
