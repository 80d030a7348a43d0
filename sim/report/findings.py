"""Findings and suggestions (意见和建议) drawn from the measured figures.

Each rule looks at :meth:`sim.metrics.Metrics.to_dict` figures and, when it fires, gives a
finding with a Chinese and an English sentence that quote the numbers behind it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CAPACITY", "findings"]

CAPACITY = 1.3
"""Specific flow taken as an exit's capacity, persons per metre per second (SFPE)."""
SLOW_PREMOVEMENT = 120.0
"""95th percentile of pre-movement times above which people reacted slowly, s."""
IMBALANCE = 1.5
"""An exit carrying this many times its fair share (by width) is overloaded."""


def _f(v: float, nd: int = 0) -> str:
    return f"{v:.{nd}f}"


def findings(m: dict[str, Any]) -> list[dict[str, str]]:
    """Findings of a report: dicts with ``code``, ``severity`` (high/medium/info), zh, en."""
    out: list[dict[str, str]] = []

    def add(code: str, severity: str, zh: str, en: str) -> None:
        out.append({"code": code, "severity": severity, "zh": zh, "en": en})

    if not m["complete"]:
        left = m["agents"] - m["evacuated"]
        add("not_complete", "high",
            f"记录结束（{_f(m['end_t'])} 秒）时仍有 {left} 人未撤离：查明滞留原因（出口封堵、"
            "路线受阻、未下达疏散命令），必要时组织搜救。",
            f"{left} people were still inside when the recording ended "
            f"({_f(m['end_t'])} s): find out why (blocked exits or routes, no order) and plan "
            "a search.")
    exits = [e for e in m["exits"]]
    used = sum(e["count"] for e in exits)
    width = sum(e["width"] for e in exits) or 1.0
    if used and len(exits) > 1:
        heavy = max(exits, key=lambda e: e["share"])
        light = min(exits, key=lambda e: e["share"])
        fair_heavy = heavy["width"] / width
        fair_light = light["width"] / width
        if heavy["share"] > IMBALANCE * fair_heavy and light["share"] < fair_light / IMBALANCE:
            add("exit_imbalance", "high",
                f"出口 {heavy['id']} 承担了 {_f(100 * heavy['share'])}% 的疏散人员，而出口 "
                f"{light['id']} 仅 {_f(100 * light['share'])}%：应在预案和现场引导中把人员引向"
                f"出口 {light['id']}（设置指示标志、安排疏散引导员）。",
                f"Exit {heavy['id']} carried {_f(100 * heavy['share'])} % of the evacuees while "
                f"exit {light['id']} carried {_f(100 * light['share'])} %: guide people to exit "
                f"{light['id']} (signs, marshals).")
    for e in exits:
        if e["count"] >= 10 and e["specific_flow"] >= 0.9 * CAPACITY:
            over = e["specific_flow"] >= CAPACITY
            add("exit_capacity", "medium",
                f"出口 {e['id']}（宽 {_f(e['width'], 1)} 米）峰值流率 "
                f"{_f(e['peak_flow'], 1)} 人/秒，即 {_f(e['specific_flow'], 2)} 人/(米·秒)，"
                f"{'已达到或超过' if over else '已接近'}通行能力 {CAPACITY} 人/(米·秒)："
                "考虑加宽出口、保持门扇全开或分流。",
                f"Exit {e['id']} ({_f(e['width'], 1)} m wide) peaked at "
                f"{_f(e['peak_flow'], 1)} persons/s, {_f(e['specific_flow'], 2)} persons/(m·s), "
                f"{'at or over' if over else 'near'} its capacity of {CAPACITY}: widen it, keep "
                "doors fully open or share the load.")
        if e["count"] == 0:
            add("exit_unused", "info",
                f"出口 {e['id']} 无人使用：检查其是否被封堵、标识是否清楚。",
                f"Nobody used exit {e['id']}: check that it is open and signposted.")
    for b in m["bottlenecks"][:3]:
        near = (f"，距出口 {b['nearest_exit']} 约 {_f(b['exit_distance_m'], 1)} 米"
                if b["nearest_exit"] else "")
        near_en = (f", {_f(b['exit_distance_m'], 1)} m from exit {b['nearest_exit']}"
                   if b["nearest_exit"] else "")
        add("bottleneck", "high",
            f"楼层 {b['floor']} 坐标 ({_f(b['x'], 1)}, {_f(b['y'], 1)}) 附近{near}形成瓶颈："
            f"密度超过 4 人/平方米持续 {_f(b['longest_s'])} 秒"
            f"（峰值 {_f(b['peak_density'], 1)} 人/平方米）："
            "在此处安排引导员、拓宽通道或清除障碍，并分流至其他出口。",
            f"Bottleneck on floor {b['floor']} near ({_f(b['x'], 1)}, {_f(b['y'], 1)})"
            f"{near_en}: density above 4 persons/m² for {_f(b['longest_s'])} s (peak "
            f"{_f(b['peak_density'], 1)}): post marshals, widen the passage or remove "
            "obstacles, and send people to other exits.")
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
                "or train that role.")
    pre = m["premovement_s"]
    if pre.get("n") and pre["p95"] is not None and pre["p95"] > SLOW_PREMOVEMENT:
        add("slow_reaction", "medium",
            f"95% 人员的预动作时间在 {_f(pre['p95'])} 秒以内，反应偏慢：改进警报的可听度与"
            "清晰度，加强疏散宣传和培训。",
            f"95 % of the people started within {_f(pre['p95'])} s, which is slow: make the "
            "alarm clearer and train staff.")
    tl = m["timeline_s"]
    if tl["alarm"] is not None and tl["alarm"] > 0 and tl["evacuation_order"] is None:
        add("no_order", "medium",
            "警报发出后未下达疏散命令：在预案中明确下达疏散命令的岗位和时限。",
            "No evacuation order followed the alarm: name the role that orders evacuation "
            "and its deadline in the plan.")
    if m["commands"] and tl["first_report"] is None:
        add("no_report", "info",
            "演练中没有信息报送：按预案要求及时向指挥部报送现场情况。",
            "Nobody reported to the command post during the drill: reporting should be "
            "part of the drill.")
    if not out:
        add("no_issue", "info", "未发现明显问题；建议在更不利的情景（封堵出口、烟气）下再次演练。",
            "No clear problem found; repeat the drill in a harder scenario (blocked exit, "
            "smoke).")
    return out
