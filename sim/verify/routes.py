"""Cases on when people start and which way they go: pre-movement, assigned exits, exit
and route choice, an exit that closes.

RiMEA tests 5, 10, 11, 14; NIST TN 1822 Verif.1.1, 3.1, 4.1; ISO 20414 tests 1, 8, 9, 17.
"""

from __future__ import annotations

import numpy as np

from sim.verify.case import ISO, NIST, RIMEA, Runner, case
from sim.verify.engine import case_doc, scenario
from sim.verify.observe import StairLog, StartLog
from sim.verify.record import Figure, Measured, Table, tx

__all__: list[str] = []  # cases register themselves in sim.verify.case.CASES



@case("premovement", title=tx("预动作时间", "Pre-movement time"),
      criterion=tx("10 人的预动作时间在 10–100 秒间均匀分布：每人恰在其预动作时间开始移动（误差 ≤ "
                   "1 个时间步），之前不动",
                   "10 persons with pre-movement times uniform on 10-100 s: each starts to move "
                   "at its own pre-movement time (within one time step) and not before"),
      source=f"{RIMEA}, test 5; {NIST}, Verif.1.1; {ISO}, test 1",
      jupedsim=tx("预动作时间：JuPedSim 1.x 没有预动作时间",
                  "pre-movement times: JuPedSim 1.x has none"))
def premovement(run: Runner, quick: bool) -> Measured:
    """RiMEA 5: observed start against assigned pre-movement, agent by agent."""
    from scipy import stats

    doc = case_doc("rimea_05_premovement")
    log = StartLog()
    o = run(doc, observe=log)
    dt = scenario(doc).settings.dt
    err = log.start - log.premovement
    worst = float(np.nanmax(np.abs(err)))
    ok = o.everyone_out and bool(np.isfinite(err).all()) and bool((err >= -1e-9).all()) \
        and worst <= dt + 1e-9
    ks = float(stats.kstest(log.start, "uniform", args=(10.0, 90.0)).pvalue)
    rows = [[int(i), round(float(p), 2), round(float(s), 2), round(float(e), 3)]
            for i, (p, s, e) in enumerate(zip(log.premovement, log.start, err, strict=True))]
    return Measured(passed=ok, summary=tx(f"最大起步误差 {worst:.2f} s（≤ {dt:g} s）",
                                          f"largest start error {worst:.2f} s (≤ {dt:g} s)"),
                    figures=[Figure("largest_error", tx("最大起步误差", "largest start error"),
                                    round(worst, 3), "s"),
                             Figure("ks_p", tx("起步时间与 U(10, 100) 的 KS 检验 p 值",
                                               "KS p of start times vs U(10, 100)"), round(ks, 3))],
                    table=Table(head=[tx("人员", "person"),
                                      tx("预动作时间 (s)", "pre-movement (s)"),
                                      tx("开始移动 (s)", "started (s)"), tx("差 (s)", "diff (s)")],
                                rows=rows),
                    note=tx("情景格式只提供均匀分布的预动作时间；NIST 另列的伽马、对数正态、威布尔"
                            "分布无法表达",
                            "the scenario format offers uniform pre-movement times only; the "
                            "gamma, log-normal and Weibull cases NIST also lists cannot be given"))


@case("assigned-routes", title=tx("指定疏散路线", "Allocation of escape routes"),
      criterion=tx("12 个房间的 23 人按指定出口疏散（多数指定的是较远的出口）："
                   "每人都从指定出口离开",
                   "23 persons in 12 rooms have assigned exits (for most, the farther one): "
                   "every person leaves by the exit assigned"),
      source=f"{RIMEA}, test 10; {NIST}, Verif.3.1; {ISO}, test 8")
def assigned_routes(run: Runner, quick: bool) -> Measured:
    """RiMEA 10: exit used against exit assigned."""
    doc = case_doc("rimea_10_routes")
    o = run(doc)
    scen = scenario(doc)
    assigned = np.array([scen.groups[g].exit for g in o.group])
    right = int(np.count_nonzero(o.exit_used == assigned))
    ok = o.everyone_out and right == o.total
    by_exit = {e.id: int(np.count_nonzero(o.exit_used == i))
               for i, e in enumerate(scen.scene.exits)}
    return Measured(passed=ok, summary=tx(f"{right}/{o.total} 人从指定出口离开",
                                          f"{right}/{o.total} by their assigned exit"),
                    figures=[Figure("right", tx("从指定出口离开", "left by the assigned exit"),
                                    right),
                             *[Figure(f"exit_{k}", tx(f"出口 {k}", f"exit {k}"), v)
                               for k, v in by_exit.items()]])


@case("exit-choice", title=tx("疏散出口的选择", "Choice of escape route (exit)"),
      criterion=tx("房间西侧三分之一的人员有近、远两个 1 m 出口：多数（> 50 %）走近出口，也有人（"
                   "≥ 1）走远出口",
                   "persons in the west third of a room with a near and a far 1 m exit: most (> "
                   "50 %) take the near exit, and some (≥ 1) the far one"),
      source=f"{RIMEA}, test 11",
      jupedsim=tx("出口选择规则（quickest）是本引擎的，JuPedSim 1.x 的行程是固定的",
                  "the exit-choice rule (quickest) is this engine's; JuPedSim 1.x journeys are "
                  "fixed"))
def exit_choice(run: Runner, quick: bool) -> Measured:
    """RiMEA 11: how many use the near and the far exit."""
    doc = case_doc("rimea_11_exit_choice")
    if quick:
        doc["groups"][0]["count"] = 150
    o = run(doc)
    near = int(np.count_nonzero(o.exit_used == 0))
    far = int(np.count_nonzero(o.exit_used == 1))
    ok = o.everyone_out and near > 0.5 * o.total and far >= 1
    t = o.evacuation_time
    return Measured(passed=ok, summary=tx(f"近出口 {near}、远出口 {far}（共 {o.total}；近 > 50 %，"
                                          f"远 ≥ 1）",
                                          f"near {near}, far {far} of {o.total} "
                                          "(near > 50 %, far ≥ 1)"),
                    figures=[Figure("near", tx("近出口", "near exit"), near),
                             Figure("far", tx("远出口", "far exit"), far),
                             Figure("evacuation_time", tx("疏散时间", "evacuation time"),
                                    None if t is None else round(t, 1), "s")])


@case("route-choice", title=tx("路线选择（短路线经楼梯或长路线）",
                               "Route choice (short via stairs, or long)"),
      criterion=tx("记录人员走哪条路线：短（经两段楼梯）、长（首层绕行）、混合或可配置；全部疏散即"
                   "通过（RiMEA：仅作记录）",
                   "document which route people take: short (over two stairs), long (round the "
                   "ground floor), mixed or configurable; passes when everyone gets out (RiMEA: "
                   "documentation only)"),
      source=f"{RIMEA}, test 14; {ISO}, test 17",
      jupedsim=tx("多楼层/楼梯：JuPedSim 1.x 只有单层平面几何",
                  "several floors and stairs: JuPedSim 1.x takes one planar geometry"))
def route_choice(run: Runner, quick: bool) -> Measured:
    """RiMEA 14: who walked the stairs (short) and who the ground floor (long)."""
    doc = case_doc("rimea_14_route_choice")
    log = StairLog()
    o = run(doc, observe=log)
    short = len(log.ids)
    long_ = o.total - short
    kind = tx("短", "short") if long_ == 0 else tx("长", "long") if short == 0 else \
        tx("混合", "mixed")
    return Measured(passed=o.everyone_out,
                    summary=tx(f"{kind['zh']}：{short} 人经楼梯，{long_} 人走首层",
                               f"{kind['en']}: {short} via the stairs, {long_} on the ground "
                               "floor"),
                    figures=[Figure("short", tx("走短路线（楼梯）", "short route (stairs)"), short),
                             Figure("long", tx("走长路线（首层）", "long route (ground floor)"),
                                    long_),
                             Figure("kind", tx("结论", "finding"), kind)],
                    note=tx(f"结论：{kind['zh']}。路线长度按楼梯长度 ÷ 速度系数计，改变楼梯的长度或"
                            "速度系数即可改变选择（可配置）",
                            f"finding: {kind['en']}. Routes count a stair as its length / its "
                            "speed factor, so the stairs' length or speed factors change the "
                            "choice (configurable)"))


@case("dynamic-exit", title=tx("出口动态可用性", "Dynamic availability of exits"),
      criterion=tx("1 人走向近出口，该出口在 1 秒时关闭：此人改从另一出口离开",
                   "one occupant heads for the near exit, which closes at t = 1 s: the occupant "
                   "leaves by the other exit"),
      source=f"{NIST}, Verif.4.1; {ISO}, test 9",
      jupedsim=tx("定时开关出口：JuPedSim 1.x 没有对应的事件",
                  "timed exit closures: JuPedSim 1.x has no such events"))
def dynamic_exit(run: Runner, quick: bool) -> Measured:
    """NIST Verif.4.1: the exit used after the near one closed."""
    doc = case_doc("dynamic_exit")
    o = run(doc)
    scen = scenario(doc)
    east = scen.scene.exit_index("East")
    ok = o.everyone_out and bool((o.exit_used == east).all())
    used = ", ".join(scen.scene.exits[i].id if i >= 0 else "—" for i in o.exit_used)
    t = o.evacuation_time
    return Measured(passed=ok, summary=tx(f"从 {used} 离开（应为 East）", f"left by {used} (East)"),
                    figures=[Figure("exit", tx("所用出口", "exit used"), used),
                             Figure("time", tx("离开时间", "time out"),
                                    None if t is None else round(t, 1), "s")])
