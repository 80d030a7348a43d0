"""Words of the report in Chinese (default) and English."""

from __future__ import annotations

__all__ = ["ACTION_NAMES", "T", "action_name"]

ACTION_NAMES = {
    "alarm": ("发出警报", "alarm given"),
    "report": ("首次信息报送", "first report"),
    "order_evacuation": ("下达疏散命令", "evacuation ordered"),
    "door": ("首次开关门", "first door opened or closed"),
    "first_out": ("首人撤出", "first person out"),
    "evacuated": ("人员撤离", "people out"),
    "floor_clear": ("楼层清空", "floor(s) clear"),
    "zone_clear": ("区域清空", "zone clear"),
}


def action_name(action: str, lang: str) -> str:
    """The plan action in words."""
    zh, en = ACTION_NAMES.get(action, (action, action))
    return zh if lang == "zh" else en


_PAIRS = {
    "title": ("演练评估报告", "Drill evaluation report"),
    "pdf_link": ("下载 PDF 版（A4，可打印、归档）", "Download the PDF (A4, to print and file)"),
    "item": ("项目", "item"), "value": ("数值", "value"),
    "scenario": ("情景", "scenario"), "recorded": ("记录时间", "recorded"),
    "mode": ("方式", "mode"), "seed": ("随机种子", "seed"),
    "mode_run": ("仿真运行（drill run）", "simulation run (drill run)"),
    "mode_serve": ("联网演练（drill serve）", "networked drill (drill serve)"),
    "recording_file": ("记录文件", "recording"), "agents": ("参演人数", "people"),
    "evacuated": ("已撤离人数", "people out"), "duration": ("记录时长 (秒)", "recorded time (s)"),
    "damaged": ("记录文件损坏，报告截至", "recording damaged; the report stops at"),
    "font_note": ("说明：本机没有中文字体，图中文字以英文显示。",
                  "Note: no CJK font here, figure labels are in English."),
    "s1": ("演练的执行情况", "Execution of the drill"),
    "s2": ("应急预案的实用性和可操作性", "Practicality of the plan"),
    "s3": ("指挥协调和应急联动机制运行情况", "Command, coordination and joint response"),
    "s4": ("应急人员的处置情况", "Handling by the people involved"),
    "s5": ("演练所用设备装备的适用性", "Suitability of equipment and exits"),
    "s6": ("意见和建议", "Findings and suggestions"),
    "evacuation_time": ("疏散时间（末人撤出，秒）", "evacuation time (last out, s)"),
    "p95_time": ("95% 人员撤出时间 (秒)", "95 % out (s)"),
    "first_out": ("首人撤出 (秒)", "first out (s)"),
    "mean_evac": ("平均撤出时间 (秒)", "mean time out (s)"),
    "complete": ("全部撤离", "everyone out"),
    "evac_curve": ("疏散曲线", "evacuation curve"),
    "events": ("演练事件", "events"), "time_s": ("时间 (秒)", "time (s)"),
    "event": ("事件", "event"), "detail": ("详情", "detail"),
    "still": ("三维画面", "3D view"),
    "plan_summary": ("预案共 {n} 个步骤，达标 {met} 个。", "{met} of {n} plan steps met."),
    "step": ("步骤", "step"), "role": ("岗位", "role"), "content": ("内容", "content"),
    "action": ("动作", "action"), "deadline": ("时限", "deadline"),
    "deadline_at": ("截止时刻 (秒)", "due at (s)"), "achieved": ("完成时刻 (秒)", "done at (s)"),
    "elapsed": ("用时 (秒)", "took (s)"), "verdict": ("结论", "verdict"),
    "met": ("达标", "met"), "missed": ("未达标", "missed"),
    "after_alarm": ("自警报起", "after the alarm"), "after_start": ("自演练开始", "after start"),
    "no_plan": ("本情景未载入数字化预案（[[plan]]），无法逐项核对。",
                "The scenario carries no plan ([[plan]]); nothing to check."),
    "milestone": ("环节", "milestone"), "since_alarm": ("距警报 (秒)", "since alarm (s)"),
    "tl_alarm": ("警报", "alarm"), "tl_first_report": ("首次信息报送", "first report"),
    "tl_evacuation_order": ("下达疏散命令", "evacuation order"),
    "tl_first_out": ("首人撤出", "first out"), "tl_last_out": ("末人撤出", "last out"),
    "tl_p95_out": ("95% 撤出", "95 % out"),
    "journal": ("指令与报送记录", "commands and reports"),
    "plan_deadline": ("预案时限（步骤 · 截止秒）", "plan deadline (step · due s)"),
    "actors_title": ("参演人员行动", "What each person did"),
    "actions_n": ("操作次数", "actions"), "first_s": ("首次 (秒)", "first (s)"),
    "last_s": ("末次 (秒)", "last (s)"),
    "marks_title": ("地图标记及后续处置", "Marks and what followed"),
    "marks_note": ("每个标记（伤员、火点等）之后 120 秒内的信息报送、疏散命令、开关门与注入；"
                   "无后续处置的标记以红色显示。",
                   "For each mark (an injured person, a fire …) the reports, orders, doors "
                   "and injects within 120 s after it; marks nothing followed are in red."),
    "mark_kind": ("标记", "mark"), "position": ("位置 (米)", "position (m)"),
    "followed": ("后续处置", "what followed"),
    "not_followed": ("无后续处置", "nothing followed"),
    "type": ("类型", "type"), "name": ("人员", "name"),
    "no_commands": ("演练中无导调指令或参演人员操作。", "No commands or actions were given."),
    "premovement": ("预动作时间 (秒)", "pre-movement (s)"),
    "travel": ("行走时间 (秒)", "travel time (s)"),
    "mean": ("平均", "mean"), "median": ("中位数", "median"), "max": ("最大", "max"),
    "distributions": ("时间分布", "distributions"),
    "clear_times": ("楼层与区域清空时间", "floors and zones clear"),
    "people_title": ("参演人员撤离情况", "Participants in the crowd"),
    "people_note": ("参演人员以化身身份在模拟人群中行走、撤离并计时。",
                    "Participants walked their avatars in the simulated crowd; each was timed."),
    "person": ("姓名", "name"), "joined": ("加入时间 (s)", "joined (s)"),
    "out_at": ("撤出时间 (s)", "out at (s)"), "walked": ("用时 (s)", "took (s)"),
    "by_exit": ("经由出口", "by exit"), "still_inside": ("未撤出", "still inside"),
    "area": ("区域", "area"), "clear_at": ("清空时刻 (秒)", "clear at (s)"),
    "floor": ("楼层", "floor"), "zone": ("区域", "zone"),
    "density": ("人员密度", "density"),
    "density_note": ("每 0.5 秒采样，在 0.5 米网格上计数，以 σ = 0.5 米的高斯核平滑（有效面积约 "
                     "1.6 平方米）并除以同样平滑的可通行面积；服务水平按 Fruin 步行道标准（C ≥ "
                     "0.43、D ≥ 0.72、E ≥ 1.08、F ≥ 2.17 人/平方米）。另按 2 米网格计数、除以格内"
                     "可通行面积（至少按 1 平方米计），给出不小于 1 平方米范围的峰值。",
                     "Sampled every 0.5 s: people counted on a 0.5 m grid, smoothed with a "
                     "Gaussian of σ = 0.5 m (about 1.6 m² effective) and divided by the equally "
                     "smoothed walkable area; Fruin walkway levels of service (C ≥ 0.43, "
                     "D ≥ 0.72, E ≥ 1.08, F ≥ 2.17 persons/m²). A second peak counts people on "
                     "a 2 m grid per walkable area of the cell (at least 1 m²)."),
    "peak": ("峰值密度", "peak density"),
    "peak_1m2": ("按 2 米网格", "over 2 m cells"),
    "bottlenecks": ("瓶颈（密度 > 4 人/平方米 持续 > 10 秒）",
                    "bottlenecks (density > 4 /m² for > 10 s)"),
    "area_m2": ("面积 (平方米)", "area (m²)"), "longest": ("最长持续 (秒)", "longest (s)"),
    "nearest_exit": ("最近出口（楼层无出口时为楼梯）",
                     "nearest exit (a stair on a floor without exits)"),
    "stair_word": ("楼梯", "stair"),
    "no_bottleneck": ("未出现密度超过 4 人/平方米、持续 10 秒以上的拥堵（排队见上方服务水平）。",
                      "No place above 4 persons/m² for more than 10 s (queues: see the levels "
                      "of service above)."),
    "exit": ("出口", "exit"), "width": ("宽度 (米)", "width (m)"), "people": ("人数", "people"),
    "share": ("占比", "share"), "first": ("首人 (秒)", "first (s)"),
    "last": ("末人 (秒)", "last (s)"),
    "mean_flow": ("平均流率 (人/秒)", "mean flow (/s)"),
    "peak_flow": ("峰值流率 (人/秒)", "peak flow (/s)"),
    "specific_flow": ("单位宽度峰值流率 (人/米/秒)", "peak specific flow (/m/s)"),
    "flows": ("出口流率", "exit flows"),
    "footer": ("本报告由 evacdrill 根据演练记录自动生成；数据见 report.json。",
               "Generated by evacdrill from the drill recording; figures in report.json."),
    "compare_title": ("两次演练对比", "Comparison of two runs"),
    "what_differs": ("两次运行的不同之处", "What differs between the runs"),
    "difference": ("差值 (B − A)", "difference (B − A)"),
    "premovement_median": ("预动作时间中位数 (秒)", "median pre-movement (s)"),
    "travel_median": ("行走时间中位数 (秒)", "median travel time (s)"),
    "evacuation_median": ("撤出时间中位数 (秒)", "median time out (s)"),
}
T = {k: {"zh": zh, "en": en} for k, (zh, en) in _PAIRS.items()}
"""key -> {"zh": ..., "en": ...}."""
