"""Cases on how one person or a free crowd walks: corridors, stairs, a corner, speeds.

RiMEA tests 1, 2, 3, 6, 7; NIST TN 1822 Verif.2.1-2.5, 2.10; ISO 20414 tests 2-5, 7, 18.
"""

from __future__ import annotations

import numpy as np
import shapely

from sim.verify.case import ISO, NIST, RIMEA, Runner, case, pct
from sim.verify.engine import Outcome, case_doc, scenario
from sim.verify.observe import StairLog
from sim.verify.record import Figure, Measured, Table, tx

__all__: list[str] = []  # cases register themselves in sim.verify.case.CASES

STAIR = tx("楼梯：JuPedSim 1.x 只有单层平面几何", "stairs: JuPedSim 1.x takes one planar geometry")


def _line_speed(o: Outcome, distance: float) -> float:
    """Speed of the (single) walker between the scenario's two measuring lines, m/s."""
    a, b = o.line_times[0], o.line_times[1]
    return distance / (b[0] - a[0]) if len(a) and len(b) else float("nan")


@case("corridor-speed", title=tx("走廊中保持步行速度", "Keeping the walking speed in a corridor"),
      criterion=tx("1 人以 1.33 m/s 走完 2 m × 40 m 走廊，用时 26–34 秒",
                   "one person at 1.33 m/s walks the 2 m x 40 m corridor in 26 s to 34 s"),
      source=f"{RIMEA}, test 1")
def corridor_speed(run: Runner, quick: bool) -> Measured:
    """RiMEA 1: travel time along 40 m at 1.33 m/s."""
    o = run(case_doc("rimea_01_corridor"))
    t = float(o.exit_time[0])
    v = _line_speed(o, 30.0)
    return Measured(passed=o.everyone_out and 26.0 <= t <= 34.0, summary=f"{t:.1f} s (26–34 s)",
                    figures=[Figure("travel_time", tx("行走时间", "travel time"), round(t, 2), "s"),
                             Figure("speed", tx("中段速度", "speed (x 5-35 m)"), round(v, 3),
                                    "m/s")])


@case("corridor-speed-1", title=tx("走廊中的步行速度（1 m/s）", "Speed in a corridor (1 m/s)"),
      criterion=tx("1 人期望速度 1.0 m/s，走廊中测得速度 1.0 ± 0.05 m/s（40 m 约 40 秒）",
                   "one occupant with desired speed 1.0 m/s walks at 1.0 ± 0.05 m/s (40 m in "
                   "about 40 s)"),
      source=f"{NIST}, Verif.2.1; {ISO}, test 2")
def corridor_speed_1(run: Runner, quick: bool) -> Measured:
    """NIST Verif.2.1: the represented speed equals the assigned 1 m/s."""
    doc = case_doc("rimea_01_corridor")
    doc["groups"][0]["speed"] = {"mean": 1.0, "sd": 0.0, "min": 0.3, "max": 2.5}
    o = run(doc)
    v = _line_speed(o, 30.0)
    return Measured(passed=o.everyone_out and abs(v - 1.0) <= 0.05,
                    summary=f"{v:.3f} m/s (1.0 ± 0.05 m/s)",
                    figures=[Figure("speed", tx("测得速度", "measured speed"), round(v, 3), "m/s"),
                             Figure("time_40m", tx("40 m 用时", "time for 40 m"),
                                    round(40.0 / v, 1), "s")])


def _stair(run: Runner, name: str) -> tuple[bool, float, float, float]:
    """(ok, measured stair time s, expected s, measured speed m/s) of the single walker."""
    doc = case_doc(name)
    log = StairLog()
    o = run(doc, observe=log)
    scen = scenario(doc)
    st = scen.scene.stairs[0]
    up = scen.scene.floors[st.floors[0]].elevation < scen.scene.floors[st.floors[1]].elevation
    start_floor = scen.groups[0].floor
    up = up if start_floor == st.floors[0] else not up
    factor = st.speed_up if up else st.speed_down
    expected = st.length / (float(o.v0[0]) * factor)
    t = float(log.landed[0] - log.boarded[0]) if len(log.ids) else float("nan")
    ok = o.everyone_out and abs(t - expected) <= max(0.05 * expected, 2 * 0.05)
    return ok, t, expected, st.length / t


_WAY = {"up": tx("上行", "up"), "down": tx("下行", "down")}


def _stair_measured(run: Runner, names: list[tuple[str, str]]) -> Measured:
    figs, zh, en, ok = [], [], [], True
    rows = []
    for name, label in names:
        good, t, expected, v = _stair(run, name)
        ok &= good
        way = _WAY[label]
        zh.append(f"{way['zh']} {t:.1f} s（应为 {expected:.1f} s ± 5 %）")
        en.append(f"{label} {t:.1f} s ({expected:.1f} s ± 5 %)")
        figs += [Figure(f"{label}_time", tx(f"楼梯用时（{way['zh']}）", f"stair time ({label})"),
                        round(t, 2), "s"),
                 Figure(f"{label}_speed", tx(f"楼梯速度（{way['zh']}）", f"stair speed ({label})"),
                        round(v, 3), "m/s")]
        rows.append([way, round(t, 2), round(expected, 2), round(v, 3), round(pct(t, expected), 1)])
    table = Table(head=[tx("方向", "direction"), tx("用时 (s)", "time (s)"),
                        tx("应为 (s)", "expected (s)"), tx("速度 (m/s)", "speed (m/s)"),
                        tx("偏差 %", "deviation %")], rows=rows)
    return Measured(passed=ok, summary=tx("；".join(zh), "; ".join(en)), figures=figs, table=table)


_STAIR_CRITERION = ("1 人走 10 m 长（沿坡度）、2 m 宽的楼梯，用时等于"
                    "长度 ÷（平地速度 × 楼梯速度系数），误差 ±5 %",
                    "one person on a 2 m wide stair, 10 m along the slope, takes "
                    "length / (flat speed x the stair's speed factor), within ±5 %")


@case("stair-up", title=tx("上楼梯时保持速度", "Keeping the walking speed up a stair"),
      criterion=tx(_STAIR_CRITERION[0] + "（上行系数 0.5）", _STAIR_CRITERION[1] +
                   " (up: factor 0.5)"), source=f"{RIMEA}, test 2", jupedsim=STAIR)
def stair_up(run: Runner, quick: bool) -> Measured:
    """RiMEA 2: time on a 10 m stair going up."""
    return _stair_measured(run, [("rimea_02_stair_up", "up")])


@case("stair-down", title=tx("下楼梯时保持速度", "Keeping the walking speed down a stair"),
      criterion=tx(_STAIR_CRITERION[0] + "（下行系数 0.75）", _STAIR_CRITERION[1] +
                   " (down: factor 0.75)"), source=f"{RIMEA}, test 3", jupedsim=STAIR)
def stair_down(run: Runner, quick: bool) -> Measured:
    """RiMEA 3: time on a 10 m stair going down."""
    return _stair_measured(run, [("rimea_03_stair_down", "down")])


@case("stair-speed", title=tx("楼梯上的速度（上行与下行）", "Speed on stairs (up and down)"),
      criterion=tx(_STAIR_CRITERION[0] + "；上行、下行各一次", _STAIR_CRITERION[1] +
                   "; once up, once down"),
      source=f"{NIST}, Verif.2.2; {ISO}, test 3", jupedsim=STAIR)
def stair_speed(run: Runner, quick: bool) -> Measured:
    """NIST Verif.2.2: both directions."""
    return _stair_measured(run, [("rimea_02_stair_up", "up"), ("rimea_03_stair_down", "down")])


@case("corner", title=tx("绕过拐角", "Movement around a corner"),
      criterion=tx("20 人绕过左转拐角全部到达出口，任何时刻无人穿越或接触墙体"
                   "（中心到墙距离 ≥ 半径）",
                   "20 persons turn a left corner and all reach the exit; nobody ever passes "
                   "through or touches a wall (centre to wall ≥ radius)"),
      source=f"{RIMEA}, test 6; {NIST}, Verif.2.3; {ISO}, test 4")
def corner(run: Runner, quick: bool) -> Measured:
    """RiMEA 6: clearance to the walls, sampled every 0.1 s."""
    doc = case_doc("rimea_06_corner")
    o = run(doc, frames=True)
    scen = scenario(doc)
    floor = scen.scene.floors[0]
    openings = tuple(e.polygon for e in scen.scene.exits)
    walls = shapely.multilinestrings(floor.wall_segments(openings))
    xy = o.frames.xy.reshape(-1, 2)
    ok = np.isfinite(xy[:, 0])
    radius = float(scen.groups[0].radius)
    clearance = float((shapely.distance(walls, shapely.points(xy[ok])) - radius).min())
    t = o.evacuation_time
    passed = o.everyone_out and clearance >= -1e-6
    return Measured(passed=passed,
                    summary=tx(f"{o.evacuated}/{o.total} 人到达出口，最小墙距 {clearance:.3f} m（≥ "
                               f"0）",
                               f"{o.evacuated}/{o.total} out, wall clearance {clearance:.3f} m (≥ "
                               f"0)"),
                    figures=[Figure("out", tx("到达出口人数", "persons out"), o.evacuated),
                             Figure("clearance", tx("最小墙距（减半径）", "least wall clearance"),
                                    round(clearance, 4), "m"),
                             Figure("evacuation_time", tx("疏散时间", "evacuation time"),
                                    None if t is None else round(t, 1), "s")],
                    note=tx("位置每 0.1 秒采样一次", "positions sampled every 0.1 s"))


def _walking_speeds(o: Outcome, x0: float, x1: float) -> np.ndarray:
    """(total,) median speed of each agent while its x lies in [x0, x1], m/s (NaN: none)."""
    f = o.frames
    v = f.speeds()
    x = f.xy[1:, :, 0]
    with np.errstate(invalid="ignore"):
        inside = (x >= x0) & (x <= x1) & np.isfinite(v)
    v = np.where(inside, v, np.nan)
    out = np.full(o.total, np.nan)
    has = inside.any(axis=0)
    out[has] = np.nanmedian(v[:, has], axis=0)
    return out


# RiMEA table 1 (walking speeds on the flat after Weidmann 1993), m/s
_RIMEA_GROUPS = [("under-30", 0.58, 1.61), ("30-50", 1.41, 1.54), ("over-50", 0.68, 1.41),
                 ("limited-mobility", 0.46, 0.76)]


@case("demographics", title=tx("人口特征参数的分配", "Allocation of demographic parameters"),
      criterion=tx("50 名成人按 RiMEA 表 1 的四组速度范围分配：每人期望速度在本组范围内；各组实测"
                   "平均步速与分配的平均值相差 ≤ 0.05 m/s",
                   "50 adults in the four speed groups of RiMEA table 1: every desired speed "
                   "lies in its group's range; each group's mean measured walking speed is "
                   "within 0.05 m/s of its assigned mean"),
      source=f"{RIMEA}, test 7 (table 1 after Weidmann 1993)")
def demographics(run: Runner, quick: bool) -> Measured:
    """RiMEA 7: assigned and represented speeds per group."""
    o = run(case_doc("rimea_07_demographics"), frames=True)
    walk = _walking_speeds(o, 15.0, 45.0)
    rows, ok = [], o.everyone_out
    for gi, (name, lo, hi) in enumerate(_RIMEA_GROUPS):
        g = o.group == gi
        v0, v = o.v0[g], walk[g]
        in_range = bool(((v0 >= lo - 1e-9) & (v0 <= hi + 1e-9)).all())
        diff = float(np.nanmean(v) - v0.mean())
        ok &= in_range and abs(diff) <= 0.05
        rows.append([name, f"{lo:.2f}–{hi:.2f}", int(g.sum()), round(float(v0.min()), 2),
                     round(float(v0.max()), 2), round(float(v0.mean()), 3),
                     round(float(np.nanmean(v)), 3), round(diff, 3)])
    worst = max(abs(r[-1]) for r in rows)
    table = Table(head=[tx("组", "group"), tx("范围 (m/s)", "range (m/s)"), tx("人数", "n"),
                        tx("最小", "min"), tx("最大", "max"), tx("分配均值", "assigned mean"),
                        tx("实测均值", "measured mean"), tx("差 (m/s)", "diff (m/s)")], rows=rows)
    return Measured(passed=ok, summary=tx(f"各组最大差 {worst:.3f} m/s（≤ 0.05 m/s）",
                                          f"largest group difference {worst:.3f} m/s (≤ 0.05 m/s)"),
                    figures=[Figure("largest_difference", tx("最大组间差", "largest difference"),
                                    round(worst, 3), "m/s")], table=table,
                    note=tx("实测步速：每人在 x = 15–45 m 间 0.1 秒位移速度的中位数",
                            "measured speed: each person's median 0.1 s step speed in x = 15-45 m"))


@case("speed-distribution", title=tx("指定的人员速度分布", "Assigned demographics (speeds)"),
      criterion=tx("100 人期望速度服从正态 (1.2, 0.2) m/s：实测步速的均值、标准差"
                   "与之相差 ≤ 0.05 m/s",
                   "100 occupants with desired speeds normal(1.2, 0.2) m/s: the mean and the "
                   "standard deviation of their measured walking speeds are within 0.05 m/s"),
      source=f"{NIST}, Verif.2.4; {ISO}, test 5")
def speed_distribution(run: Runner, quick: bool) -> Measured:
    """NIST Verif.2.4: the represented speeds follow the assigned distribution."""
    from scipy import stats

    o = run(case_doc("speed_distribution"), frames=True)
    walk = _walking_speeds(o, 15.0, 55.0)
    walk = walk[np.isfinite(walk)]
    mean, sd = float(walk.mean()), float(walk.std(ddof=1))
    ks = float(stats.ks_2samp(walk, o.v0).pvalue)
    ok = o.everyone_out and abs(mean - 1.2) <= 0.05 and abs(sd - 0.2) <= 0.05
    table = Table(head=[tx("", ""), tx("均值 (m/s)", "mean (m/s)"), tx("标准差 (m/s)", "sd (m/s)")],
                  rows=[[tx("规定", "specified"), 1.2, 0.2],
                        [tx("分配", "assigned"), round(float(o.v0.mean()), 3),
                         round(float(o.v0.std(ddof=1)), 3)],
                        [tx("实测", "measured"), round(mean, 3), round(sd, 3)]])
    return Measured(passed=ok, summary=tx(f"均值 {mean:.3f} m/s，标准差 {sd:.3f} m/s（1.2 ± 0.05，"
                                          f"0.2 ± 0.05）",
                                          f"mean {mean:.3f} m/s, sd {sd:.3f} m/s "
                                          "(1.2 ± 0.05, 0.2 ± 0.05)"),
                    figures=[Figure("mean", tx("实测均值", "measured mean"), round(mean, 3), "m/s"),
                             Figure("sd", tx("实测标准差", "measured sd"), round(sd, 3), "m/s"),
                             Figure("ks_p", tx("与分配速度的 KS 检验 p 值", "KS p vs assigned"),
                                    round(ks, 3))], table=table)


@case("smoke-speed", title=tx("能见度降低与步行速度", "Reduced visibility vs walking speed"),
      criterion=tx("烟气中步速 = 清晰空气中步速 × 模型的烟气速度系数 0.67（Fridolf 等 2013，消光系"
                   "数 2.2 m⁻¹），误差 ±5 %",
                   "the walking speed in smoke is the clear-air speed x the model's smoke factor "
                   "0.67 (Fridolf et al. 2013, extinction coefficient 2.2 1/m), within ±5 %"),
      source=f"{NIST}, Verif.2.5; {ISO}, test 18",
      jupedsim=tx("减速区（烟气）：JuPedSim 1.x 的 CollisionFreeSpeedModel 没有速度区",
                  "speed zones (smoke): JuPedSim 1.x's CollisionFreeSpeedModel has none"))
def smoke_speed(run: Runner, quick: bool) -> Measured:
    """NIST Verif.2.5: the speed factor in smoke, against a run in clear air."""
    doc = case_doc("smoke_corridor")
    factor = doc["floors"][0]["zones"][0]["factor"]
    smoke = _line_speed(run(doc), 30.0)
    doc["floors"][0]["zones"] = []
    clear = _line_speed(run(doc), 30.0)
    expected = clear * factor
    ok = abs(smoke - expected) <= 0.05 * expected
    return Measured(passed=ok, summary=tx(f"烟气中 {smoke:.3f} m/s，清晰空气中 {clear:.3f} m/s"
                                          f"（应为 {expected:.3f} m/s ± 5 %）",
                                          f"{smoke:.3f} m/s in smoke, {clear:.3f} m/s clear "
                                          f"({expected:.3f} m/s ± 5 %)"),
                    figures=[Figure("smoke", tx("烟气中步速", "speed in smoke"), round(smoke, 3),
                                    "m/s"),
                             Figure("clear", tx("清晰空气中步速", "speed in clear air"),
                                    round(clear, 3), "m/s"),
                             Figure("factor", tx("速度系数", "speed factor"), factor)],
                    note=tx("本引擎以速度系数表示烟气（速度区或演练中注入的烟气），不直接输入消光系"
                            "数",
                            "this engine represents smoke by a speed factor (a speed zone, or "
                            "a smoke hazard in a drill), not by an extinction coefficient"))


@case("movement-disability", title=tx("行动不便人员（超越）", "People with movement disabilities"),
      criterion=tx("24 人在 2 m 走廊中跟在 1 名慢速（0.5 m/s）、体型较大（半径 0.35 m）的人后面："
                   "全部疏散，且比该人与他人相同时用时更长",
                   "24 occupants follow one slow (0.5 m/s), larger (radius 0.35 m) occupant in a "
                   "2 m corridor: everyone gets out, later than when that occupant is like the "
                   "others"),
      source=f"{ISO}, test 7; {NIST}, Verif.2.10")
def movement_disability(run: Runner, quick: bool) -> Measured:
    """ISO 7: evacuation time with and without the slower, larger occupant."""
    doc = case_doc("movement_disability")
    slow = run(doc)
    doc["groups"][0]["speed"] = dict(doc["groups"][1]["speed"])
    doc["groups"][0]["radius"] = doc["groups"][1].get("radius", 0.2)
    control = run(doc)
    ts, tc = slow.evacuation_time, control.evacuation_time
    passed = ts is not None and tc is not None and ts > tc
    ahead = int(np.count_nonzero(slow.exit_time[1:] < slow.exit_time[0]))

    def fmt(t: float | None) -> str:
        return "—" if t is None else f"{t:.1f} s"

    return Measured(passed=passed, summary=tx(f"有行动不便者 {fmt(ts)}，对照 {fmt(tc)}（应更长）；"
                                              f"24 人中 {ahead} 人超越",
                                              f"{fmt(ts)} with, {fmt(tc)} without (longer with); "
                                              f"{ahead} of 24 overtook"),
                    figures=[Figure("with", tx("有行动不便者", "with the slow occupant"),
                                    None if ts is None else round(ts, 1), "s"),
                             Figure("without", tx("对照", "control"),
                                    None if tc is None else round(tc, 1), "s"),
                             Figure("overtook", tx("超越者人数", "persons who overtook"), ahead)])
