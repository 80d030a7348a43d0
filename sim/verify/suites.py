"""The test lists of the suites: RiMEA, NIST TN 1822, ISO 20414, and the model-validity set.

Each entry names a test as its guideline does and either the case that implements it
(:data:`sim.verify.case.CASES`; shared between suites, run once) or why the engine
cannot express it (``not_applicable``).

Sources of the lists:

- RiMEA tests 1-14 follow guideline v3.0 (2016); test 15, a large crowd round a corner,
  was added in v4.
- NIST TN 1822 (Ronchi, Kuligowski, Reneke, Peacock, Nilsson 2013), section 3: the 17
  verification tests Verif.1.1-5.2, numbered as there.
- ISO 20414:2020 builds its verification tests on NIST TN 1822. Its 21 verification
  tests (1-21) are listed with their titles as published V&V documentation of
  JuPedSim-based tools (PedestrianDynamics: jupedsim-web-community, pyFDS-Evac) quotes
  them; the numbering there is ours to check against the standard's text, which was not
  available here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sim.verify.crowds  # noqa: F401  (importing a case module registers its cases)
import sim.verify.movement  # noqa: F401
import sim.verify.routes  # noqa: F401
import sim.verify.validity  # noqa: F401
from sim.verify.case import ISO, ISO_FULL, NIST, NIST_FULL, RIMEA_FULL
from sim.verify.record import Text, tx

__all__ = ["SUITES", "SUITE_NAMES", "Entry"]


@dataclass(frozen=True)
class Entry:
    """One test of a suite."""

    id: str
    title: Text
    case: str | None = None
    """Key of the implementing case, or None: not expressible by this engine."""
    reason: Text | None = None
    """Why the test is not applicable (when ``case`` is None)."""
    source: str = ""
    """The publication, when the entry is not applicable (else the case's)."""


_NO_TOX = tx("本引擎没有毒性/FED（有效剂量分数）模型：危险源只降低步速或关闭出口",
             "this engine has no toxicity / FED (fractional effective dose) model: hazards only "
             "slow people down or close exits")
_NO_LIFT = tx("本引擎没有电梯；楼梯类型 escalator 是按楼梯行走的停运扶梯", "this engine has no "
              "lifts; a stair of kind escalator is a stopped escalator walked as a stair")
_NO_GROUP = tx("情景中的 groups 是放置人群的区域，不是结伴同行的社会群体；本引擎没有群体凝聚模型",
               "a scenario's groups are populations placed in an area, not social groups that "
               "keep together; this engine has no group-cohesion model")
_NO_SOCIAL = tx("本引擎没有社会影响（从众）模型：出口选择只按路线长度与排队", "this engine has no "
                "social-influence (herding) model: exit choice goes by route length and queues")
_NO_FAMILIAR = tx("本引擎没有对出口熟悉程度的模型（只能直接指定出口，见出口分配）", "this engine "
                  "has no model of familiarity with exits (exits can only be assigned, see route "
                  "allocation)")
_NO_ESCALATOR = tx("运行中的扶梯速度未建模：escalator 按停运扶梯（楼梯）行走", "a running "
                   "escalator's own speed is not modelled: an escalator is walked as a stopped "
                   "one (a stair)")

RIMEA_TESTS = (
    Entry("rimea-1", tx("走廊中保持步行速度", "Maintaining the walking speed in a corridor"),
          "corridor-speed"),
    Entry("rimea-2", tx("上楼梯时保持步行速度", "Maintaining the walking speed up stairs"),
          "stair-up"),
    Entry("rimea-3", tx("下楼梯时保持步行速度", "Maintaining the walking speed down stairs"),
          "stair-down"),
    Entry("rimea-4", tx("基本图的测量", "Measurement of the fundamental diagram"),
          "fundamental-diagram"),
    Entry("rimea-5", tx("预动作时间", "Pre-movement time"), "premovement"),
    Entry("rimea-6", tx("绕过拐角", "Movement around a corner"), "corner"),
    Entry("rimea-7", tx("人口特征参数的分配", "Allocation of demographic parameters"),
          "demographics"),
    Entry("rimea-8", tx("参数分析", "Parameter analysis"), "time-gap-sensitivity"),
    Entry("rimea-9", tx("人群离开大型公共房间", "A crowd leaves a large public room"),
          "large-room"),
    Entry("rimea-10", tx("疏散路线的分配", "Allocation of escape routes"), "assigned-routes"),
    Entry("rimea-11", tx("疏散路线（出口）的选择", "Choice of escape route"), "exit-choice"),
    Entry("rimea-12", tx("瓶颈的影响", "Effect of bottlenecks"), "bottleneck"),
    Entry("rimea-13", tx("楼梯前的拥堵", "Congestion in front of stairs"), "stair-congestion"),
    Entry("rimea-14", tx("路线选择", "Route choice"), "route-choice"),
    Entry("rimea-15", tx("大规模人群绕过拐角", "Movement of a large crowd around a corner"),
          "crowd-corner"),
)

NIST_TESTS = (
    Entry("nist-1.1", tx("预疏散时间分布", "Pre-evacuation time distributions"), "premovement"),
    Entry("nist-2.1", tx("走廊中的速度", "Speed in a corridor"), "corridor-speed-1"),
    Entry("nist-2.2", tx("楼梯上的速度", "Speed on stairs"), "stair-speed"),
    Entry("nist-2.3", tx("绕过拐角", "Movement around a corner"), "corner"),
    Entry("nist-2.4", tx("指定的人员特征", "Assigned demographics"), "speed-distribution"),
    Entry("nist-2.5", tx("能见度降低与步行速度", "Reduced visibility vs walking speed"),
          "smoke-speed"),
    Entry("nist-2.6", tx("人员失能", "Occupant incapacitation"), reason=_NO_TOX,
          source=f"{NIST}, Verif.2.6"),
    Entry("nist-2.7", tx("电梯使用", "Elevator usage"), reason=_NO_LIFT,
          source=f"{NIST}, Verif.2.7"),
    Entry("nist-2.8", tx("水平对向人流", "Horizontal counter-flows"), "counterflow"),
    Entry("nist-2.9", tx("群体行为", "Group behaviours"), reason=_NO_GROUP,
          source=f"{NIST}, Verif.2.9"),
    Entry("nist-2.10", tx("行动不便人员", "People with movement disabilities"),
          "movement-disability"),
    Entry("nist-3.1", tx("出口路线分配", "Exit route allocation"), "assigned-routes"),
    Entry("nist-3.2", tx("社会影响", "Social influence"), reason=_NO_SOCIAL,
          source=f"{NIST}, Verif.3.2"),
    Entry("nist-3.3", tx("归属（熟悉的出口）", "Affiliation"), reason=_NO_FAMILIAR,
          source=f"{NIST}, Verif.3.3"),
    Entry("nist-4.1", tx("出口动态可用性", "Dynamic availability of exits"), "dynamic-exit"),
    Entry("nist-5.1", tx("拥堵", "Congestion"), "stair-congestion"),
    Entry("nist-5.2", tx("最大流率", "Maximum flow rates"), "passage-flow"),
)

ISO_TESTS = (
    Entry("iso20414-1", tx("预疏散时间的分配", "Pre-evacuation time assignment"), "premovement"),
    Entry("iso20414-2", tx("走廊中的步行速度", "Walking speed in a corridor"), "corridor-speed-1"),
    Entry("iso20414-3", tx("楼梯上的步行速度", "Walking speed on stairs"), "stair-speed"),
    Entry("iso20414-4", tx("绕过拐角", "Movement around a corner"), "corner"),
    Entry("iso20414-5", tx("指定的人员特征", "Assigned demographics"), "speed-distribution"),
    Entry("iso20414-6", tx("水平对向人流", "Horizontal counter-flows"), "counterflow"),
    Entry("iso20414-7", tx("超越行动不便人员", "Overtaking people with movement disabilities"),
          "movement-disability"),
    Entry("iso20414-8", tx("出口路线分配", "Exit route allocation"), "assigned-routes"),
    Entry("iso20414-9", tx("出口动态可用性", "Dynamic availability of exit"), "dynamic-exit"),
    Entry("iso20414-10", tx("楼梯前的拥堵", "Congestion in front of a flight of stairs"),
          "stair-congestion"),
    Entry("iso20414-11", tx("开口/出口处的最大流率", "Maximum flow rates at an opening/exit"),
          "passage-flow"),
    Entry("iso20414-12", tx("楼梯流率", "Stair flow rates"), "stair-flow"),
    Entry("iso20414-13", tx("走廊中的流率、密度与步速", "Flow rate, density and walking speed in a "
                           "corridor"), "fundamental-diagram"),
    Entry("iso20414-14", tx("群体行为", "Group behaviour"), reason=_NO_GROUP,
          source=f"{ISO}, test 14"),
    Entry("iso20414-15", tx("社会影响与出口选择", "Social influence on exit choice"),
          reason=_NO_SOCIAL, source=f"{ISO}, test 15"),
    Entry("iso20414-16", tx("对熟悉出口的归属", "Affiliation to familiar exits"),
          reason=_NO_FAMILIAR, source=f"{ISO}, test 16"),
    Entry("iso20414-17", tx("基于几何布局的路线选择", "Route choice based on geometric layout"),
          "route-choice"),
    Entry("iso20414-18", tx("能见度降低与步行速度", "Reduced visibility vs walking speed"),
          "smoke-speed"),
    Entry("iso20414-19", tx("火灾/烟气导致的人员失能", "Occupant incapacitation by fire or smoke"),
          reason=_NO_TOX, source=f"{ISO}, test 19"),
    Entry("iso20414-20", tx("电梯使用", "Lift usage"), reason=_NO_LIFT, source=f"{ISO}, test 20"),
    Entry("iso20414-21", tx("扶梯使用", "Escalator usage"), reason=_NO_ESCALATOR,
          source=f"{ISO}, test 21"),
)

VALIDITY_TESTS = (
    Entry("passage-flow", tx("通道流量", "Flow through a passage"), "passage-flow"),
    Entry("counterflow", tx("对向人流", "Counterflow"), "counterflow"),
    Entry("fundamental-diagram", tx("基本图", "Fundamental diagram"), "fundamental-diagram"),
)

SUITES: dict[str, tuple[Entry, ...]] = {
    "rimea": RIMEA_TESTS, "nist": NIST_TESTS, "iso20414": ISO_TESTS, "validity": VALIDITY_TESTS,
}
"""Every suite's tests, in the order of its guideline."""
SUITE_NAMES: dict[str, Text] = {
    "rimea": tx("RiMEA 微观疏散分析指南", "RiMEA guideline"),
    "nist": tx("NIST TN 1822 验证测试", "NIST TN 1822 verification tests"),
    "iso20414": tx("ISO 20414:2020 验证测试", "ISO 20414:2020 verification tests"),
    "validity": tx("模型有效性", "Model validity"),
}
SUITE_SOURCES = {"rimea": RIMEA_FULL, "nist": NIST_FULL, "iso20414": ISO_FULL, "validity": ""}
"""The publication of each suite, in full."""
