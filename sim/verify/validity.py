"""The three model-validity cases the model is tuned against: flow through a passage,
counterflow in a corridor, and the fundamental diagram.

They are also NIST TN 1822 Verif.5.2 / 2.8 and ISO 20414 tests 11 / 6 / 13, and RiMEA
test 4. Their criteria are fixed here; the model may not meet them yet.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.verify.case import ISO, NIST, RIMEA, Runner, case, steady_flow
from sim.verify.engine import case_doc, scenario
from sim.verify.record import Figure, Measured, Table, tx

__all__ = ["LENGTHS", "WIDTHS", "counterflow_doc", "passage_doc"]

WIDTHS = (0.8, 1.0, 1.2)
"""Passage widths, m."""
LENGTHS = (0.2, 0.5, 1.0, 3.0, 5.0)
"""Passage lengths, m (0.2-0.5: a door in a thick wall)."""
QUICK_LENGTHS = (0.2, 3.0)
SPECIFIC = (1.3, 2.0)
"""Accepted specific flow, persons/(m·s): SFPE design value to bottleneck experiments."""
MAX_GAP = 5.0
"""Longest accepted time between two passages, s (no standoff)."""
COUNTER = ((2.0, 25), (3.0, 40), (4.0, 50))
"""Counterflow corridors: (width m, persons each way)."""


def passage_doc(width: float, length: float) -> dict[str, Any]:
    """The passage-flow case with a passage ``width`` × ``length`` m (see its TOML)."""
    doc = case_doc("passage_flow")
    y0, y1 = 5 - width / 2, 5 + width / 2
    xe = 10 + length
    x1 = xe + 4.0
    doc["floors"][0]["walkable"] = [[0, 0], [x1, 0], [x1, 10], [0, 10]]
    doc["floors"][0]["obstacles"] = [[[10, 0], [xe, 0], [xe, y0], [10, y0]],
                                     [[10, y1], [xe, y1], [xe, 10], [10, 10]]]
    doc["exits"][0]["polygon"] = [[x1 - 0.3, 0], [x1, 0], [x1, 10], [x1 - 0.3, 10]]
    doc["exits"][0]["width"] = width
    doc["measure"][0]["line"] = [[xe, y0], [xe, y1]]
    return doc


@case("passage-flow", title=tx("通道流量（宽度与长度）",
                               "Flow through a passage (width and length)"),
      criterion=tx("10 m × 10 m 房间 150 人经宽 w（0.8、1.0、1.2 m）、长 L（0.2–5 m）的通道离开："
                   "每组 (w, L) 的比流量（流量 ÷ w）在 1.3–2.0 人/(m·s) 内；同一 L 下流量随宽度增"
                   "大；相邻两人通过间隔不超过 5 秒（无僵持）",
                   "150 persons leave a 10 m x 10 m room through a passage w wide (0.8, 1.0, 1.2 "
                   "m) and L long (0.2-5 m): for every (w, L) the specific flow (flow / w) is "
                   "1.3-2.0 persons/(m·s); for each L the flow grows with the width; no gap over "
                   "5 s between two passages (no standoff)"),
      source="SFPE Handbook (design value 1.3 /(m·s)); Seyfried et al. 2009, Transportation "
             f"Science 43; Kretz et al. 2006; {NIST}, Verif.5.2; {ISO}, test 11")
def passage_flow(run: Runner, quick: bool) -> Measured:
    """Flow between the 10th and 90th percentile passage for every width and length."""
    lengths = QUICK_LENGTHS if quick else LENGTHS
    seeds = (1,) if quick else (1, 2)
    rows, points, ok = [], {}, True
    flows: dict[float, list[float]] = {}
    worst_gap, specifics = 0.0, []
    for length in lengths:
        for w in WIDTHS:
            fs, gaps, out = [], [], True
            for seed in seeds:
                o = run(passage_doc(w, length), seed=seed)
                t = o.line_times[0]
                fs.append(steady_flow(t))
                gaps.append(float(np.diff(t).max()) if len(t) > 1 else float("inf"))
                out &= o.everyone_out
            flow, gap = float(np.mean(fs)), float(max(gaps))
            spec = flow / w
            good = out and SPECIFIC[0] <= spec <= SPECIFIC[1] and gap <= MAX_GAP
            ok &= good
            worst_gap = max(worst_gap, gap)
            specifics.append(spec)
            flows.setdefault(length, []).append(flow)
            points.setdefault(f"{length:g}", []).append([w, round(spec, 4)])
            rows.append([length, w, round(flow, 3), round(spec, 3), round(gap, 2), good])
    grows = all(bool(np.all(np.diff(f) > 0)) for f in flows.values())
    ok &= grows
    # A passage that nobody (or fewer than 10) got through has no flow: NaN, and fails.
    finite = [x for x in specifics if np.isfinite(x)]
    lo, hi = (min(finite), max(finite)) if finite else (float("nan"), float("nan"))
    missing = len(specifics) - len(finite)
    none_zh = f"，{missing} 组无流量" if missing else ""
    none_en = f", {missing} without flow" if missing else ""
    return Measured(
        passed=ok, summary=tx(f"比流量 {lo:.2f}–{hi:.2f} /(m·s)（1.3–2.0），随宽度增大："
                              f"{'是' if grows else '否'}"
                              f"，最长间隔 {worst_gap:.1f} s（≤ 5 s）{none_zh}",
                              f"specific flow {lo:.2f}–{hi:.2f} /(m·s) (1.3–2.0), grows with "
                              f"width: {'yes' if grows else 'no'}, longest gap {worst_gap:.1f} s "
                              f"(≤ 5 s){none_en}"),
        figures=[Figure("specific_min", tx("最小比流量", "lowest specific flow"), round(lo, 3),
                        "1/(m·s)"),
                 Figure("specific_max", tx("最大比流量", "highest specific flow"), round(hi, 3),
                        "1/(m·s)"),
                 Figure("grows", tx("流量随宽度增大", "flow grows with width"), grows),
                 Figure("longest_gap", tx("最长通过间隔", "longest gap"), round(worst_gap, 2),
                        "s")],
        table=Table(head=[tx("长度 L (m)", "length L (m)"), tx("宽度 w (m)", "width w (m)"),
                          tx("流量 (人/s)", "flow (1/s)"), tx("比流量 (人/(m·s))",
                                                          "specific flow (1/(m·s))"),
                          tx("最长间隔 (s)", "longest gap (s)"), tx("满足", "met")], rows=rows),
        plot={"kind": "passage", "points": points, "band": list(SPECIFIC)},
        seeds=list(seeds),
        note=tx(f"流量：第 10 与第 90 百分位通过之间的人数 ÷ 时间，在通道出口的测量线上计；每组取 "
                f"{len(seeds)} 个随机种子的平均", "flow: persons between the 10th and 90th "
                                                  "percentile passage / their time, counted on the "
                                                  "line across the passage's far end; the "
                f"mean of {len(seeds)} seed(s) per (w, L)"))


def counterflow_doc(width: float, count: int) -> dict[str, Any]:
    """The counterflow case in a corridor ``width`` m wide with ``count`` persons each way."""
    doc = case_doc("counterflow")
    doc["floors"][0]["walkable"] = [[0, 0], [30, 0], [30, width], [0, width]]
    doc["exits"][0]["polygon"] = [[0, 0], [0.3, 0], [0.3, width], [0, width]]
    doc["exits"][1]["polygon"] = [[29.7, 0], [30, 0], [30, width], [29.7, width]]
    for g, (x0, x1) in zip(doc["groups"], ((1.0, 6.0), (24.0, 29.0)), strict=True):
        g["area"] = [[x0, 0], [x1, 0], [x1, width], [x0, width]]
        g["count"] = count
    return doc


def _counter_ratios(run: Runner, doc: dict[str, Any]) -> tuple[int, int, float, float, float]:
    """(through, total, median travel s, median free walk s, median of each one's ratio)."""
    o = run(doc)
    scen = scenario(doc)
    east = o.group == 0
    target = np.where(east, scen.scene.exit_index("East"), scen.scene.exit_index("West"))
    through = int(np.count_nonzero(o.exit_used == target))
    x0 = o.start[:, 0]
    free = np.where(east, 29.7 - x0, x0 - 0.3) / o.v0
    travel = np.where(o.exit_used == target, o.exit_time, np.inf)
    # Each person against their own free walk (slow walkers are slow in any case).
    return (through, o.total, float(np.median(travel)), float(np.median(free)),
            float(np.median(travel / free)))


@case("counterflow", title=tx("走廊中的对向人流", "Counterflow in a corridor"),
      criterion=tx("30 m 走廊（宽 2、3、4 m）两端各 25、40、50 人走向对端出口：全部从对端出口通过"
                   "，且每人行走时间与其自由行走时间之比的中位数 ≤ 1.5",
                   "a 30 m corridor (2, 3, 4 m wide) with 25, 40, 50 persons at each end walking "
                   "to the exit at the other end: everyone gets through, and the median of each "
                   "person's travel time over their free-walking time is at most 1.5"),
      source=f"{NIST}, Verif.2.8 (horizontal counter-flows); {ISO}, test 6")
def counterflow(run: Runner, quick: bool) -> Measured:
    """Median travel time against median free-walking time, for each width; beside it the
    same of the eastbound group walking alone (what the dense start costs by itself)."""
    rows, ok, ratios = [], True, []
    for width, n in COUNTER:
        doc = counterflow_doc(width, n)
        through, total, mt, mf, ratio = _counter_ratios(run, doc)
        doc["groups"] = doc["groups"][:1]
        alone = _counter_ratios(run, doc)[4]
        good = through == total and ratio <= 1.5
        ok &= good
        ratios.append(ratio)
        rows.append([width, n, f"{through}/{total}",
                     None if not np.isfinite(mt) else round(mt, 2), round(mf, 2),
                     None if not np.isfinite(ratio) else round(ratio, 3),
                     None if not np.isfinite(alone) else round(alone, 3), good])
    worst = max(ratios)
    ratio = [("—" if r[5] is None else f"{r[5]:.2f}") for r in rows]
    alone = [("—" if r[6] is None else f"{r[6]:.2f}") for r in rows]
    pairs = list(zip(rows, ratio, alone, strict=True))
    zh = "；".join(f"W={r[0]:g} m：{r[2]} 通过，比值 {q}（单向 {a}）" for r, q, a in pairs)
    en = "; ".join(f"W={r[0]:g} m: {r[2]} through, ratio {q} (one way {a})" for r, q, a in pairs)
    return Measured(
        passed=ok, summary=tx(zh + "（全部通过，≤ 1.5）", en + " (all through, ≤ 1.5)"),
        figures=[Figure("worst_ratio", tx("最大比值", "largest ratio"),
                        None if not np.isfinite(worst) else round(worst, 3))],
        table=Table(head=[tx("宽度 W (m)", "width W (m)"), tx("每向人数", "persons each way"),
                          tx("通过", "through"), tx("行走时间中位数 (s)", "median travel (s)"),
                          tx("自由行走中位数 (s)", "median free walk (s)"),
                          tx("每人比值中位数", "median of each person's ratio"),
                          tx("单向（无对向人流）", "one way (no counterflow)"),
                          tx("满足", "met")], rows=rows),
        note=tx("自由行走时间：起点到目标出口条带的距离 ÷ 该人期望速度。“单向”：东行组单独行走时"
                "的同一比值，即密集起步（约 2.5 人/m²）与无法超越慢行者本身的代价",
                "free-walking time: distance from the start to the exit strip / the person's "
                "desired speed. 'One way': the same ratio for the eastbound group walking "
                "alone, what the dense start (about 2.5 /m²) and not overtaking slow walkers "
                "cost by themselves"))


@case("fundamental-diagram", title=tx("基本图（速度–密度）",
                                      "Fundamental diagram (speed against density)"),
      criterion=tx("20 m × 4 m 周期走廊中，密度 0.5、1、2、3、4 人/m² 下中段 10 m 的平均速度与 "
                   "Weidmann (1993) v(ρ) = 1.34 (1 − exp(−1.913 (1/ρ − 1/5.4))) 之差均在 ±20 % 内",
                   "in a 20 m x 4 m corridor periodic in x, at 0.5, 1, 2, 3, 4 persons/m², the "
                   "mean speed in the middle 10 m is within ±20 % of Weidmann (1993), v(ρ) = "
                   "1.34 (1 − exp(−1.913 (1/ρ − 1/5.4)))"),
      source=f"{RIMEA}, test 4; Weidmann 1993 (ETH Zürich, IVT 90); {ISO}, test 13",
      jupedsim=tx("周期边界：JuPedSim 1.x 没有；本用例直接步进本引擎的模型核",
                  "periodic boundaries: JuPedSim 1.x has none; this case steps this engine's "
                  "model kernel"))
def fundamental_diagram(run: Runner, quick: bool) -> Measured:
    """Speed against density on the periodic corridor (sim.verify.periodic)."""
    from shapely.geometry import Polygon

    from sim.verify.periodic import Speeds, fd_point, weidmann

    doc = case_doc("fundamental_diagram")
    scen = scenario(doc)
    minx, miny, maxx, maxy = Polygon(doc["floors"][0]["walkable"]).bounds
    g = scen.groups[0]
    speeds = Speeds(g.speed_mean, g.speed_sd, g.speed_min, g.speed_max)
    densities = (1.0, 3.0) if quick else (0.5, 1.0, 2.0, 3.0, 4.0)
    seed = scen.settings.seed
    rows, pts, ok = [], [], True
    how = "pedpy"
    for i, rho in enumerate(densities):
        p = fd_point(rho, scen.model, np.random.default_rng([seed, i]), length=maxx - minx,
                     width=maxy - miny, speeds=speeds, radius=g.radius, dt=scen.settings.dt)
        how = p.estimator
        good = abs(p.deviation) <= 20.0
        ok &= good
        rows.append([rho, p.agents, round(p.density, 3), round(p.speed, 3), round(p.weidmann, 3),
                     round(p.deviation, 1), good])
        pts.append([round(p.density, 4), round(p.speed, 4)])
    curve_x = np.linspace(0.3, 5.0, 60)
    worst = max(abs(r[5]) for r in rows)
    note = tx("密度与速度：PedPy 经典密度与测量区内平均速度（中段 10 m，丢弃前 20 秒）",
              "density and speed: PedPy's classic density and mean speed in the measurement "
              "area (middle 10 m, first 20 s discarded)")
    if how != "pedpy":
        note = tx("PedPy 无法导入：改用同样定义的经典估计（区域内人数 ÷ 面积，区域内人员步速均值）",
                  "PedPy is not importable: the classic estimator of the same definition was "
                  "used (persons in the area / its area, mean step speed of those inside)")
    return Measured(
        passed=ok, summary=", ".join(f"ρ={r[2]:.2f}: {r[3]:.2f} m/s ({r[5]:+.0f} %)" for r in rows)
        + " (±20 %)",
        figures=[Figure("worst_deviation", tx("最大偏差", "largest deviation"), round(worst, 1),
                        "%"),
                 Figure("estimator", tx("估计方法", "estimator"), how)],
        table=Table(head=[tx("设定密度 (人/m²)", "density set (1/m²)"), tx("人数", "agents"),
                          tx("实测密度 (人/m²)", "density (1/m²)"), tx("速度 (m/s)", "speed (m/s)"),
                          tx("Weidmann (m/s)", "Weidmann (m/s)"), tx("偏差 %", "deviation %"),
                          tx("满足", "met")], rows=rows),
        plot={"kind": "fd", "points": pts,
              "curve": [[round(float(x), 3), round(float(weidmann(x)), 4)] for x in curve_x]},
        seeds=[seed], note=note, files=["fundamental_diagram.toml"])
