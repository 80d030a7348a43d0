"""Cases on crowds: a parameter study, a large room, bottlenecks, a crowd round a corner,
congestion at stairs and flow onto stairs.

RiMEA tests 8, 9, 12, 13, 15; NIST TN 1822 Verif.5.1; ISO 20414 tests 10, 12.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from sim.stairs import BOUNDARY_LAYER
from sim.verify.case import ISO, NIST, RIMEA, Runner, case, steady_flow
from sim.verify.engine import Outcome, case_doc
from sim.verify.observe import StairLog
from sim.verify.record import Figure, Measured, Table, tx

__all__: list[str] = []  # cases register themselves in sim.verify.case.CASES

SFPE_STAIR_FLOW = 1.01
"""SFPE's largest specific flow on stairs of 7/11 in risers/treads, 1/(m·s) of effective
width (0.94 k, k = 1.08)."""
STAIR = tx("多楼层/楼梯：JuPedSim 1.x 只有单层平面几何", "several floors and stairs: "
           "JuPedSim 1.x takes one planar geometry")


def _s(t: float | None) -> str:
    return "—" if t is None else f"{t:.1f} s"


def _out(o: Outcome, lang: str) -> str:
    """The evacuation time, or how many got out when not everyone did."""
    t = o.evacuation_time
    if t is not None:
        return f"{t:.1f} s"
    return f"{o.evacuated}/{o.total} 人撤出" if lang == "zh" else f"{o.evacuated}/{o.total} out"


def _r(t: float | None, nd: int = 1) -> float | None:
    return None if t is None else round(t, nd)


@case("time-gap-sensitivity", title=tx("参数分析：时间间隔对疏散时间的影响",
                                       "Parameter analysis: evacuation time against time gap"),
      criterion=tx("三层建筑（90 人）在不同模型时间间隔 T 下的疏散时间列表作图记录；每次均全部疏散"
                   "即通过（RiMEA：参数分析仅作记录，不作淘汰标准）",
                   "the evacuation time of a three-storey building (90 persons) for several "
                   "model time gaps T, tabulated and drawn; passes when every run gets everyone "
                   "out (RiMEA: a parameter study documents, it is no exclusion criterion)"),
      source=f"{RIMEA}, test 8", jupedsim=STAIR)
def time_gap_sensitivity(run: Runner, quick: bool) -> Measured:
    """RiMEA 8: evacuation time for each time gap."""
    gaps = (0.5, 1.0) if quick else (0.3, 0.5, 0.8, 1.0, 1.5)
    base = case_doc("rimea_08_building")
    rows, times, ok = [], [], True
    for gap in gaps:
        doc = copy.deepcopy(base)
        doc.setdefault("model", {})["time_gap"] = gap
        o = run(doc)
        t = o.evacuation_time
        ok &= t is not None
        times.append(t)
        rows.append([gap, _r(t), o.evacuated])
    ref = times[list(gaps).index(0.5)]  # the default time gap
    for row, t in zip(rows, times, strict=True):
        row.append(None if t is None or ref is None else round(100.0 * (t - ref) / ref, 1))
    span = ", ".join(f"T={g:g}: {_s(t)}" for g, t in zip(gaps, times, strict=True))
    return Measured(passed=ok, summary=span, table=Table(
        head=[tx("时间间隔 T (s)", "time gap T (s)"), tx("疏散时间 (s)", "evacuation time (s)"),
              tx("撤出人数", "persons out"), tx("相对 T = 0.5 s (%)", "vs T = 0.5 s (%)")],
        rows=rows),
        figures=[Figure(f"t_{g:g}", tx(f"T = {g:g} s", f"T = {g:g} s"), _r(t), "s")
                 for g, t in zip(gaps, times, strict=True)],
        plot={"kind": "sensitivity", "x": list(gaps), "y": times})


@case("large-room", title=tx("人群离开大型公共房间", "A crowd leaves a large public room"),
      criterion=tx("30 m × 20 m 房间 1000 人、四个 1 m 门；关闭两个门后清空时间约加倍（比值 "
                   "1.6–2.4）",
                   "1000 persons, 30 m x 20 m room, four 1 m doors; with two doors shut the room "
                   "takes about twice as long to empty (ratio 1.6-2.4)"),
      source=f"{RIMEA}, test 9 (documents model behaviour, no exclusion criterion)")
def large_room(run: Runner, quick: bool) -> Measured:
    """RiMEA 9: four doors, then two."""
    doc = case_doc("rimea_09_large_room")
    if quick:
        doc["groups"][0]["count"] = 200
    four = run(doc)
    two_doc = copy.deepcopy(doc)
    for e in two_doc["exits"]:
        if e["id"] in ("D1", "D2"):
            e["open"] = False
    two = run(two_doc)
    t4, t2 = four.evacuation_time, two.evacuation_time
    ratio = None if t4 is None or t2 is None else t2 / t4
    ok = ratio is not None and 1.6 <= ratio <= 2.4
    rs = "—" if ratio is None else f"{ratio:.2f}"
    return Measured(passed=ok, summary=tx(f"{four.total} 人：四门 {_out(four, 'zh')}，两门 "
                                          f"{_out(two, 'zh')}，比值 {rs}（1.6–2.4）",
                                          f"{four.total} persons: 4 doors {_out(four, 'en')}, "
                                          f"2 doors {_out(two, 'en')}, ratio {rs} (1.6–2.4)"),
                    figures=[Figure("four", tx("四门", "four doors"), _r(t4), "s"),
                             Figure("two", tx("两门", "two doors"), _r(t2), "s"),
                             Figure("ratio", tx("比值", "ratio"), None if ratio is None
                                    else round(ratio, 3)),
                             Figure("persons", tx("人数", "persons"), four.total),
                             Figure("out_four", tx("四门撤出人数", "out, four doors"),
                                    four.evacuated),
                             Figure("out_two", tx("两门撤出人数", "out, two doors"),
                                    two.evacuated)])


@case("bottleneck", title=tx("瓶颈效应", "The effect of a bottleneck"),
      criterion=tx("两房间由 1 m 宽、5 m 长通道相连，150 人：排队只出现在房间 1（通道前），房间 2 "
                   "出口前的峰值密度低于通道前的一半",
                   "two rooms joined by a 1 m x 5 m corridor, 150 persons: a queue forms in room "
                   "1 only; the peak density in front of room 2's exit stays below half of that "
                   "in front of the corridor"),
      source=f"{RIMEA}, test 12 (documents model behaviour, no exclusion criterion)")
def bottleneck(run: Runner, quick: bool) -> Measured:
    """RiMEA 12: peak densities in front of the corridor and of the exit."""
    o = run(case_doc("rimea_12_bottleneck"), frames=True)
    before = o.frames.peak_density((8.0, 3.5, 10.0, 6.5))
    at_exit = o.frames.peak_density((23.0, 3.5, 25.0, 6.5))
    ok = o.everyone_out and at_exit < 0.5 * before
    f1, f2 = steady_flow(o.line_times[0]), steady_flow(o.line_times[1])
    left_zh = "" if o.everyone_out else f"；仅 {_out(o, 'zh')}"
    left_en = "" if o.everyone_out else f"; only {_out(o, 'en')}"
    return Measured(passed=ok, summary=tx(f"峰值密度：通道前 {before:.2f} /m²，出口前 "
                                          f"{at_exit:.2f} /m²（< 一半）{left_zh}",
                                          f"peak {before:.2f} /m² before the corridor, "
                                          f"{at_exit:.2f} /m² before the exit (< half){left_en}"),
                    figures=[Figure("before_corridor",
                                    tx("通道前峰值密度", "peak density before the corridor"),
                                    round(before, 2), "1/m²"),
                             Figure("before_exit", tx("出口前峰值密度", "peak density before the "
                                                      "exit"), round(at_exit, 2), "1/m²"),
                             Figure("flow_corridor", tx("通道流量", "flow out of the corridor"),
                                    round(f1, 2), "1/s"),
                             Figure("flow_exit", tx("出口流量", "flow at the exit"),
                                    round(f2, 2), "1/s")],
                    note=tx("密度：2 m × 3 m 区域内人数（2 秒滑动平均）÷ 面积",
                            "density: persons in a 2 m x 3 m box (2 s moving mean) / its area"))


@case("crowd-corner", title=tx("大规模人群绕过拐角", "A large crowd round a corner"),
      criterion=tx("500 人沿 6 m 宽走廊走 55 m（中心线）：有拐角时全部通过、不堵塞；与同长度直走廊"
                   "的用时对比作记录",
                   "500 persons walk 55 m (centreline) along a 6 m corridor: with a corner they "
                   "all get round without blocking; the time is documented against a straight "
                   "corridor of the same centreline length"),
      source=f"{RIMEA}, test 15")
def crowd_corner(run: Runner, quick: bool) -> Measured:
    """RiMEA 15: the corner against the straight."""
    docs = [case_doc("rimea_15_straight"), case_doc("rimea_15_corner")]
    if quick:
        for d in docs:
            d["groups"][0]["count"] = 100
    straight, corner = (run(d) for d in docs)
    ts, tc = straight.evacuation_time, corner.evacuation_time
    ok = straight.everyone_out and corner.everyone_out
    rel = None if ts is None or tc is None else round(100.0 * (tc - ts) / ts, 1)
    return Measured(passed=ok, summary=tx(f"{corner.total} 人：有拐角 {_out(corner, 'zh')}，直走廊 "
                                          f"{_out(straight, 'zh')}（全部绕过拐角）",
                                          f"{corner.total} persons: corner {_out(corner, 'en')}, "
                                          f"straight {_out(straight, 'en')} (everyone round the "
                                          "corner)"),
                    figures=[Figure("corner", tx("有拐角", "with the corner"), _r(tc), "s"),
                             Figure("straight", tx("直走廊", "straight"), _r(ts), "s"),
                             Figure("difference", tx("拐角相对直走廊", "corner vs straight"), rel,
                                    "%"),
                             Figure("persons", tx("人数", "persons"), corner.total)],
                    note=tx("拐角内侧的路线比中心线短，人群可沿内侧抄近路；JuPedSim 的 V&V 套件另要"
                            "求拐角比直走廊慢，此处只作记录", "the route along the inside of the "
                                                              "corner is shorter "
                            "than the centreline, so the crowd can cut it; JuPedSim's V&V suite "
                            "also asks the corner to be slower than the straight, here it is "
                            "documented only"))


@case("stair-congestion", title=tx("楼梯口前的拥堵", "Congestion in front of a stair"),
      criterion=tx("150 人经 2 m 通道走向上行楼梯：楼梯上的流量小于通道流量，楼梯口前与房间出口前"
                   "均形成排队（峰值密度 ≥ 2 人/m²）",
                   "150 persons walk along a 2 m corridor to a stair up: the flow onto the stair "
                   "is below the corridor's, and queues form at the stair's foot and at the "
                   "room's opening (peak density ≥ 2 /m²)"),
      source=f"{RIMEA}, test 13; {NIST}, Verif.5.1; {ISO}, test 10", jupedsim=STAIR)
def stair_congestion(run: Runner, quick: bool) -> Measured:
    """RiMEA 13: flows in the corridor and onto the stair, densities at both ends."""
    log = StairLog()
    o = run(case_doc("rimea_13_stair_congestion"), frames=True, observe=log)
    corridor = steady_flow(o.line_times[0])
    stair = steady_flow(log.boarded[log.ids])
    foot = o.frames.peak_density((18.0, 4.0, 20.0, 6.0), floor=0)
    door = o.frames.peak_density((8.0, 4.0, 10.0, 6.0), floor=0)
    ok = o.everyone_out and stair < corridor and foot >= 2.0 and door >= 2.0
    return Measured(passed=ok, summary=tx(f"楼梯 {stair:.2f} /s < 通道 {corridor:.2f} /s；峰值密度 "
                                          f"楼梯口 {foot:.1f} /m²、房间出口 {door:.1f} /m²（≥ 2）",
                                          f"stair {stair:.2f} /s < corridor {corridor:.2f} /s; "
                                          f"peak {foot:.1f} /m² at the stair, {door:.1f} /m² at "
                                          f"the room (≥ 2)"),
                    figures=[Figure("corridor_flow", tx("通道流量", "corridor flow"),
                                    round(corridor, 2), "1/s"),
                             Figure("stair_flow", tx("上楼梯流量", "flow onto the stair"),
                                    round(stair, 2), "1/s"),
                             Figure("stair_foot",
                                    tx("楼梯口前峰值密度", "peak density at the stair foot"),
                                    round(foot, 2), "1/m²"),
                             Figure("room_door",
                                    tx("房间出口前峰值密度", "peak density at the room's opening"),
                                    round(door, 2), "1/m²")],
                    note=tx("密度：2 m × 2 m 区域内人数（2 秒滑动平均）÷ 面积",
                            "density: persons in a 2 m x 2 m box (2 s moving mean) / its area"))


def stair_flow_doc(width: float, count: int | None = None, length: float | None = None
                   ) -> dict[str, Any]:
    """The stair-flow case with its stair (and the end area upstairs) ``width`` m wide;
    ``count`` occupants and a stair ``length`` m long if given."""
    doc = case_doc("stair_flow")
    st = doc["stairs"][0]
    st["width"] = width
    st["from"]["area"] = [[8.5, 5 - width / 2], [10, 5 - width / 2], [10, 5 + width / 2],
                          [8.5, 5 + width / 2]]
    if length is not None:
        st["length"] = length
    if count is not None:
        doc["groups"][0]["count"] = count
    return doc


@case("stair-flow", title=tx("楼梯流量与宽度", "Stair flow rates against width"),
      criterion=tx("100 人下楼，楼梯宽 1.2、1.8、2.4 m：离开楼梯的流量随宽度增大，每米有效宽度"
                   "（两侧各减 0.15 m）的比流量在 SFPE 楼梯最大比流量 1.01 人/(m·s) 的 ±1/3 内",
                   "100 occupants go down one stair 1.2, 1.8 or 2.4 m wide: the flow off the "
                   "stair grows with its width, and per metre of effective width (0.15 m less "
                   "each side) lies within ±1/3 of SFPE's largest specific flow on stairs, "
                   "1.01 /(m·s)"),
      source=f"{ISO}, test 12; SFPE Handbook (Gwynne & Rosenbaum), stairs of 7/11 in",
      jupedsim=STAIR)
def stair_flow(run: Runner, quick: bool) -> Measured:
    """ISO 12: steady flow off the stair for each stair width, against SFPE."""
    widths = (1.2, 2.4) if quick else (1.2, 1.8, 2.4)
    rows, flows, specific = [], [], []
    for w in widths:
        log = StairLog()
        run(stair_flow_doc(w), observe=log)
        f = steady_flow(np.sort(log.landed[log.ids]))
        flows.append(f)
        specific.append(f / (w - 2 * BOUNDARY_LAYER))
        rows.append([w, round(f, 3), round(specific[-1], 3)])
    ok = bool(np.all(np.diff(flows) > 0)) and all(
        abs(q / SFPE_STAIR_FLOW - 1) <= 1 / 3 for q in specific)
    parts = ", ".join(f"{w:g} m: {f:.2f} /s ({q:.2f} /(m·s))"
                      for w, f, q in zip(widths, flows, specific, strict=True))
    return Measured(passed=ok, summary=tx(parts + "（随宽度增大；SFPE 1.01）",
                                          parts + " (growing; SFPE 1.01)"),
                    table=Table(head=[tx("宽度 (m)", "width (m)"), tx("流量 (人/s)", "flow (1/s)"),
                                      tx("每米有效宽度比流量 (人/(m·s))",
                                         "per m of effective width (1/(m·s))")],
                                rows=rows),
                    figures=[Figure(f"flow_{w:g}", tx(f"宽 {w:g} m", f"{w:g} m wide"), round(f, 3),
                                    "1/s") for w, f in zip(widths, flows, strict=True)])
