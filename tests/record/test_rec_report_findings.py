"""Findings that know the drill: closed exits, refuges, grouped capacity lines, the cover,
the overall assessment, events and commands as sentences, bots' messages."""

from __future__ import annotations

import copy
import html
import json
import re

import numpy as np
import pytest
from rec_util import hall_doc, recorded_run

from sim.drill_info import parse_cover
from sim.errors import ScenarioError
from sim.report import write_report
from sim.report.findings import conclusion, findings

ENGLISH_CODE = re.compile(r"\b(floor_clear|exit_closed|hazard_cleared|evacuation_ordered|"
                          r"order_evacuation|inject|participant|instructor|observer)\b")


@pytest.fixture(scope="module")
def blocked(tmp_path_factory):
    """The hall with its West exit closed from t = 0, and a report of it."""
    tmp = tmp_path_factory.mktemp("findings")
    doc = hall_doc(events=[{"time": 0.0, "action": "close_exit", "exit": "West"}])
    rec = recorded_run(tmp, doc, "blocked")
    return write_report(rec, tmp / "report", stills=False), tmp / "report"


def test_a_closed_exit_is_reported_as_closed_never_recommended_or_unused(blocked):
    data, _ = blocked
    texts = [f["zh"] + f["en"] for f in data["findings"]]
    assert not any("引向出口 West" in t or "guide people to exit West" in t for t in texts)
    assert not any(f["code"] == "exit_unused" and "West" in f["zh"] for f in data["findings"])
    closed = next(f for f in data["findings"] if f["code"] == "exit_closed")
    assert "West" in closed["zh"] and "0.0 秒关闭" in closed["zh"] and closed["basis"]


def test_every_finding_names_the_figure_it_rests_on(blocked):
    data, _ = blocked
    assert all(f["basis"] for f in data["findings"] if f["code"] != "no_issue")


def test_a_refuge_people_went_to_is_not_a_fault():
    m = _figures(exits=[
        {"id": "Refuge", "kind": "refuge", "width": 1.0, "count": 40, "share": 0.8,
         "specific_flow": 0.5, "peak_flow": 0.5},
        {"id": "WestGate", "kind": "exit", "width": 4.0, "count": 10, "share": 0.2,
         "specific_flow": 0.2, "peak_flow": 0.8}])
    assert not any(f["code"] == "exit_imbalance" for f in findings(m))


def test_exits_at_capacity_make_one_finding_not_one_line_each():
    exits = [{"id": f"E{i}", "kind": "exit", "width": 1.0, "count": 50, "share": 1 / 7,
              "specific_flow": 1.4, "peak_flow": 1.4} for i in range(7)]
    exits.append({"id": "E7", "kind": "exit", "width": 1.0, "count": 5, "share": 0.01,
                  "specific_flow": 0.3, "peak_flow": 0.3})
    cap = [f for f in findings(_figures(exits=exits)) if f["code"] == "exit_capacity"]
    assert len(cap) == 1 and "8 个出口中有 7 个" in cap[0]["zh"]


def test_a_long_queue_is_a_finding_when_there_is_no_bottleneck():
    m = _figures(density=[{"floor": "2F", "peak": 2.5, "area_above_s": {
        "E": {"area_m2": 30.0, "max_s": 200.0}, "F": {"area_m2": 2.0, "max_s": 5.0}}}])
    queue = next(f for f in findings(m) if f["code"] == "queue")
    assert "2F" in queue["zh"] and "200 秒" in queue["zh"]


def test_the_overall_assessment_follows_from_the_findings():
    good = _figures()
    assert conclusion(good, findings(good))["grade"] in ("good", "pass")
    late = _figures(plan=[{"id": "P1", "role": "导调", "text": "报警", "met": False,
                           "achieved_s": None, "within": 30.0, "elapsed_s": None}])
    verdict = conclusion(late, findings(late))
    assert verdict["grade"] == "fail" and "不合格" in verdict["zh"] and verdict["basis"]
    stuck = _figures(complete=False, evacuated=30)
    assert conclusion(stuck, findings(stuck))["grade"] == "incomplete"


def test_the_cover_comes_from_the_drill_table_and_the_recording(tmp_path):
    doc = hall_doc(drill={"title": "商场火灾疏散演练", "type": "综合", "place": "某区某商场",
                          "organiser": "某区应急管理局", "evaluators": ["李四"],
                          "units": [{"name": "物业", "people": 12}, "消防站"]})
    rec = recorded_run(tmp_path, doc, "cover")
    cover = write_report(rec, tmp_path / "r", stills=False)["cover"]
    assert cover["title"] == "商场火灾疏散演练" and cover["type"] == "combined"
    assert cover["type_words"][0] == "综合演练" and cover["units"][0] == {"name": "物业",
                                                                          "people": 12}
    assert cover["date"] and cover["simulated"] == 60 and cover["evaluators"] == ["李四"]
    plain = write_report(recorded_run(tmp_path, hall_doc(), "plain"), tmp_path / "p",
                         stills=False)["cover"]
    assert plain["type"] == "simulation" and plain["place"] is None


def test_a_wrong_cover_key_is_an_error_naming_the_field():
    with pytest.raises(ScenarioError, match=r"drill\.type"):
        parse_cover({"type": "演习"}, "x.toml")
    with pytest.raises(ScenarioError, match=r"drill\.units\[1\]"):
        parse_cover({"units": ["物业", {"name": "x", "people": -1}]}, "x.toml")


def test_events_and_commands_read_as_chinese_sentences(blocked):
    data, out = blocked
    assert data["events"] and all(e["zh"] and not ENGLISH_CODE.search(e["zh"])
                                  for e in data["events"])
    assert any(e["zh"] == "出口 West 关闭" for e in data["events"])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '{"exit": "West"}' not in html and "出口 West 关闭" in html


def test_a_bots_automatic_message_is_not_the_first_report(tmp_path):
    from net.protocol import message
    from net.room import Room
    from net.script import load_drill
    from sim.metrics import compute
    from sim.recording import Recording

    room = Room("r", *load_drill("office"), record=tmp_path)
    ins = room.join(token=room.tokens["instructor"], resume=None, name="导调")
    bot = room.join(token=room.tokens["participant"], resume=None, name="bot1", avatar=False)
    person = room.join(token=room.tokens["participant"], resume=None, name="张三",
                       avatar=False)
    room.submit("k", ins, message("start"))
    room.tick(0.5)
    room.submit("k", bot, message("report", text="bot1: 已到达 (3, 4)", auto=True))
    room.tick(0.5)
    room.tick(0.5)
    room.submit("k", person, message("report", text="东侧楼梯有烟"))
    room.tick(0.5)
    room.end()
    with Recording(room.recorder.path) as rec:
        m = compute(rec)
    sent = [c for c in m.commands if c["type"] == "report"]
    assert len(sent) == 2 and m.timeline["first_report"] == sent[1]["t"] > sent[0]["t"]


def _figures(**changes) -> dict:
    """Report figures of a small drill that went well (as metrics.to_dict gives them)."""
    base = {"agents": 50, "evacuated": 50, "end_t": 60.0, "complete": True,
            "exits": [{"id": "A", "kind": "exit", "width": 2.0, "count": 25, "share": 0.5,
                       "specific_flow": 0.6, "peak_flow": 1.2},
                      {"id": "B", "kind": "exit", "width": 2.0, "count": 25, "share": 0.5,
                       "specific_flow": 0.6, "peak_flow": 1.2}],
            "bottlenecks": [], "plan": [], "density": [], "events": [],
            "premovement_s": {"n": 50, "p95": 30.0},
            "timeline_s": {"alarm": 0.0, "evacuation_order": None, "first_report": 5.0,
                           "last_out": 55.0}, "commands": []}
    out = copy.deepcopy(base)
    out.update(changes)
    return out


def test_compare_says_what_differs_names_the_runs_and_warns_of_one_seed(tmp_path):
    from sim.report import compare

    plain = recorded_run(tmp_path, hall_doc(), "plain")
    shut = recorded_run(tmp_path, hall_doc(events=[{"time": 0.0, "action": "close_exit",
                                                    "exit": "West"}]), "shut")
    compare(plain, shut, tmp_path / "c")
    data = json.loads((tmp_path / "c" / "compare.json").read_text(encoding="utf-8"))
    said = " ".join(d["zh"] for d in data["differences"]["items"])
    assert "关闭的出口不同" in said and "West（0.0 秒）" in said and "情景文件有" in said
    assert data["names"] == ["A: rec_hall · seed 5", "B: rec_hall · seed 5"]  # same name
    assert "一个随机种子" in data["differences"]["noise"]["zh"]
    assert any(line.startswith("+") and "close_exit" in line
               for line in data["differences"]["diff"])
    page = (tmp_path / "c" / "compare.html").read_text(encoding="utf-8")
    assert "两次运行的不同之处" in page and "first_out" not in page
    compare(plain, shut, tmp_path / "d", labels=("平时", "封堵西门"))
    assert json.loads((tmp_path / "d" / "compare.json").read_text())["names"] == ["平时",
                                                                                 "封堵西门"]


def test_densities_over_a_square_metre_stay_below_the_physical_bound(blocked):
    data, _ = blocked
    for dm in data["density"]:
        assert 0 < dm["peak_1m2"] < 7.5  # about 7 /m² is as tight as people can stand


def test_a_kernel_peak_above_six_is_explained_with_the_square_metre_figure():
    m = _figures(density=[{"floor": "4F", "peak": 8.79, "peak_1m2": 4.2, "area_above_s": {}}])
    note = next(f for f in findings(m) if f["code"] == "density_peak")
    assert note["severity"] == "info" and "8.8" in note["zh"] and "4.2" in note["zh"]
    pressed = _figures(density=[{"floor": "4F", "peak": 8.79, "peak_1m2": 6.6,
                                 "area_above_s": {}}])
    assert next(f for f in findings(pressed) if f["code"] == "density_peak")["severity"] == \
        "medium"


def test_marks_are_listed_with_what_followed_and_each_persons_actions(tmp_path):
    from net.protocol import message
    from net.room import Room
    from net.script import load_drill

    room = Room("r", *load_drill("office"), record=tmp_path)
    ins = room.join(token=room.tokens["instructor"], resume=None, name="导调")
    p = room.join(token=room.tokens["participant"], resume=None, name="张三", avatar=False)
    room.submit("k", ins, message("start"))
    room.tick(0.5)
    room.submit("k", p, message("mark", kind="injured", position=[3.0, 4.0, 0.0]))
    room.tick(0.5)
    room.submit("k", p, message("report", text="一名伤员在东侧走廊"))
    room.tick(0.5)
    room.submit("k", p, message("mark", kind="fire", position=[20.0, 5.0, 0.0]))
    room.tick(0.5)
    room.end()
    data = write_report(room.recorder.path, tmp_path / "r", stills=False)
    first, second = data["marks"]
    assert first["kind_zh"] == "伤员" and "一名伤员在东侧走廊" in first["followed"][0]["zh"]
    assert second["kind_zh"] == "火点" and second["followed"] == []
    lonely = next(f for f in data["findings"] if f["code"] == "mark_not_followed")
    assert "火点" in lonely["zh"] and "张三" in lonely["zh"]
    who = {a["name"]: a for a in data["actors"]}
    assert who["张三"]["n"] == 3 and "地图标记 2 次" in who["张三"]["zh"]
    assert who["导调"]["role_zh"] == "导调员"
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "地图标记及后续处置" in page and "无后续处置" in page and "参演人员行动" in page
    text = re.sub(r"<[^>]+>|data:image/png;base64,[A-Za-z0-9+/=]+", " ", page)
    assert not ENGLISH_CODE.search(text), ENGLISH_CODE.search(text)
    assert '{"' not in html.unescape(text)  # no raw JSON anywhere in the Chinese report


def test_the_timeline_says_whether_report_and_order_came_within_the_plan():
    from sim.report.coordination import milestone_deadlines

    plan = [{"id": "P1", "action": "report", "deadline_s": 60.0, "met": False},
            {"id": "P2", "action": "order_evacuation", "deadline_s": 90.0, "met": True},
            {"id": "P3", "action": "evacuated", "deadline_s": 300.0, "met": True}]
    got = milestone_deadlines(plan)
    assert got == {"first_report": {"step": "P1", "deadline_s": 60.0, "met": False},
                   "evacuation_order": {"step": "P2", "deadline_s": 90.0, "met": True}}


def test_the_report_and_the_compare_print_the_same_evacuation_time(tmp_path):
    from sim.report import compare

    rec = recorded_run(tmp_path, hall_doc(), "same")
    report = write_report(rec, tmp_path / "r", stills=False)
    rows = {r["key"]: r for r in compare(rec, rec, tmp_path / "c")}
    assert rows["last_out"]["a"] == report["timeline_s"]["last_out"]
    assert rows["last_out"]["diff"] == 0


def test_a_bottleneck_on_a_floor_without_exits_names_its_nearest_stair():
    from sim.metrics import DensityMap, _bottlenecks
    from sim.scenario import load

    sc = load("two_storey")
    upper = next(i for i, f in enumerate(sc.scene.floors)
                 if not any(e.floor == i for e in sc.scene.exits))
    f = sc.scene.floors[upper]
    x0, y0, x1, y1 = f.walkable.bounds
    nx, ny = int((x1 - x0) / 0.5), int((y1 - y0) / 0.5)
    busy = np.zeros((ny, nx))
    busy[ny // 2: ny // 2 + 4, nx // 2: nx // 2 + 4] = 30.0
    maps = [DensityMap(floor=g.id, origin=(x0, y0), cell=0.5, peak=busy + 5.0,
                       time_above={}, longest_congested=busy if i == upper else busy * 0)
            for i, g in enumerate(sc.scene.floors)]
    (b,) = _bottlenecks(sc, maps)
    assert b["nearest_kind"] == "stair" and b["nearest_exit"] in {s.id for s in sc.scene.stairs}


def test_a_run_where_nobody_got_out_still_reports_what_it_could_not_evaluate(tmp_path):
    doc = hall_doc(events=[{"time": 0.0, "action": "close_exit", "exit": "West"},
                           {"time": 0.0, "action": "close_exit", "exit": "East"}], plan=[])
    doc["simulation"] = {**doc["simulation"], "max_time": 5.0}
    rec = recorded_run(tmp_path, doc, "shut")
    data = write_report(rec, tmp_path / "r", stills=False)
    assert data["evacuated"] == 0 and data["conclusion"]["grade"] == "incomplete"
    assert any(f["code"] == "not_complete" for f in data["findings"])
    assert "未载入数字化预案" in data["conclusion"]["zh"]
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "未完成" in page
