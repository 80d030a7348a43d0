"""The report pages (report.html, compare.html) come from the package's Jinja2 templates:
the cover, the overall assessment, sentences for events and commands, the annexes, the
print styling, and escaping of whatever text a scenario or a report brings."""

from __future__ import annotations

import copy
import fnmatch
import html
import importlib.resources
import json
import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rec_util import hall_doc, recorded_run

from sim.report import _html, compare, write_report
from sim.report.text import T

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n-not-a-real-picture"
PICS = {"evacuation_curve": PNG, "exit_flows": PNG, "distributions": PNG, "density_0": PNG}
COVER = {"title": "2024 年春季消防疏散演练", "type": "实战演练", "date": "2024-05-12 09:30",
         "place": "一号教学楼", "organiser": "校安全办",
         "units": [{"name": "初一年级", "people": 120}, {"name": "物业", "people": None}],
         "participants": 128, "instructor": None, "evaluators": ["李四", "王五"]}
CONCLUSION = {"grade": "pass", "zh": "全部人员按时撤离，预案基本可行。",
              "en": "Everyone was out in time; the plan works.",
              "basis": [{"zh": "末人撤出 10.9 秒", "en": "last out at 10.9 s"},
                        {"zh": "预案步骤 P2 未达标", "en": "plan step P2 missed"}]}


@pytest.fixture(scope="module")
def hall(tmp_path_factory) -> tuple[Path, dict]:
    """A recorded hall run and its report.json content (as the template reads it)."""
    tmp = tmp_path_factory.mktemp("report_html")
    rec = recorded_run(tmp, hall_doc(), "hall")
    write_report(rec, tmp / "r", stills=False)
    return rec, json.loads((tmp / "r" / "report.json").read_text(encoding="utf-8"))


def page_of(data: dict, lang: str = "zh", **changes) -> str:
    """The report page of ``data`` with top-level keys changed (None: the key removed)."""
    d = copy.deepcopy(data)
    for k, v in changes.items():
        if v is None:
            d.pop(k, None)
        else:
            d[k] = v
    return _html(d, PICS, [], lang)


class _Tags(HTMLParser):
    VOID = {"meta", "img", "br", "hr", "link", "input"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def assert_well_formed(page: str) -> None:
    p = _Tags()
    p.feed(page)
    p.close()
    assert not p.errors and not p.stack, (p.errors, p.stack)


def text_of(page: str) -> str:
    """The page without tags, entities resolved (what a reader sees, roughly)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_the_report_page_is_rendered_from_the_packaged_templates(hall, tmp_path):
    rec, _ = hall
    templates = importlib.resources.files("sim.report") / "templates"
    assert (templates / "report.html.j2").is_file() and (templates / "compare.html.j2").is_file()
    write_report(rec, tmp_path / "r", stills=False)
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "<!-- evacdrill: report.html.j2 (sim/report/templates) -->" in page
    assert_well_formed(page)
    compare(rec, rec, tmp_path / "c", lang="en")
    cpage = (tmp_path / "c" / "compare.html").read_text(encoding="utf-8")
    assert "<!-- evacdrill: compare.html.j2" in cpage and '<html lang="en">' in cpage
    assert cpage.count('src="data:image/png;base64,') == 2
    assert_well_formed(cpage)
    # every template is package data, and Jinja2 is a dependency
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(d.replace(" ", "").startswith("Jinja2>=3.1") for d in project["dependencies"])
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["package-data"]["sim"]
    for f in (ROOT / "sim" / "report" / "templates").iterdir():
        rel = f"report/templates/{f.name}"
        assert any(fnmatch.fnmatch(rel, g) for g in globs), rel


def test_a_changed_report_dict_changes_the_rendered_page(hall):
    _, data = hall
    page = page_of(data, name="另一个情景", findings=[
        {"code": "x", "severity": "medium", "zh": "楼梯口需增设指示牌", "en": "add signs"}])
    assert "演练评估报告 — 另一个情景</title>" in page
    assert '<li class="medium">楼梯口需增设指示牌</li>' in page


def test_the_cover_and_overall_assessment_come_first_when_given(hall):
    _, data = hall
    page = page_of(data, cover=COVER, conclusion=CONCLUSION)
    assert_well_formed(page)
    seen = text_of(page)
    for label in ("演练名称", "演练类型", "演练时间", "演练地点", "组织单位", "参演单位与人数",
                  "导调人员", "评估人员"):
        assert label in seen
    assert "2024 年春季消防疏散演练" in seen and "一号教学楼" in seen and "校安全办" in seen
    assert "初一年级（120 人）；物业" in seen and "参演人员共 128 人" in seen
    assert "李四、王五" in seen
    assert re.search(r"导调人员\s+未填写", seen)  # instructor None
    assert "演练评估报告：2024 年春季消防疏散演练</h1>" in page
    assert "评价等级：合格" in seen and CONCLUSION["zh"] in seen
    assert "<li>末人撤出 10.9 秒</li>" in page and "<li>预案步骤 P2 未达标</li>" in page
    cover, overall, first = (page.index(s) for s in ("演练名称", "<h2>总体评价</h2>",
                                                      "<h2>一、"))
    assert page.index("<h1>") < cover < overall < first
    en = text_of(page_of(data, "en", cover=COVER, conclusion={**CONCLUSION, "grade": "fail"}))
    for label in ("Drill", "Type", "Date", "Place", "Organiser",
                  "Participating units and people", "Instructor", "Evaluators",
                  "Overall assessment", "Grade: fail", CONCLUSION["en"], "last out at 10.9 s",
                  "初一年级 (120 people)", "128 people taking part", "not given"):
        assert label in en, label
    assert "总体评价" not in en and "未填写" not in en


def test_the_page_renders_without_cover_and_conclusion(hall):
    _, data = hall
    for lang in ("zh", "en"):
        page = page_of(data, lang, cover=None, conclusion=None)
        assert_well_formed(page)
        assert "演练名称" not in page and "总体评价" not in page
        assert "Overall assessment" not in page and 'class="cover"' not in page
        assert ("<h2>一、" if lang == "zh" else "<h2>1. ") in page
    empty = {k: None for k in COVER}
    seen = text_of(page_of(data, cover=empty, conclusion={"grade": "incomplete"}))
    assert seen.count("未填写") == 8 and "评价等级：未完成" in seen


def test_event_and_command_sentences_replace_the_raw_json_detail(hall):
    _, data = hall
    events = [{"t": 1.0, "type": "exit_closed", "exit": "West",
               "zh": "出口 West 关闭", "en": "exit West closed"},
              {"t": 2.0, "type": "custom", "what": "raw"}]
    commands = [{"t": 0.5, "type": "inject", "role": "instructor", "name": "张三",
                 "detail": {"kind": "fire", "x": 3}, "zh": "导调员 张三 注入火灾",
                 "en": "instructor 张三 started a fire", "role_zh": "导调员",
                 "role_en": "instructor"},
                {"t": 0.7, "type": "door", "role": "participant", "name": "李四",
                 "detail": {"exit": "East", "open": True}}]
    for lang, sentence, role, cmd in (("zh", "出口 West 关闭", "导调员", "导调员 张三 注入火灾"),
                                      ("en", "exit West closed", "instructor",
                                       "instructor 张三 started a fire")):
        page = page_of(data, lang, events=events, commands=commands)
        assert_well_formed(page)
        seen = html.unescape(page)
        assert f"<td>1.0</td><td>{sentence}</td>" in seen  # the sentence, no type code
        assert "exit_closed" not in seen and '"exit": "West"' not in seen and '"zh":' not in seen
        assert '<td>custom {"what": "raw"}</td>' in seen  # no sentence: type and JSON
        assert f"<td>{role}</td><td>张三</td><td>{cmd}</td>" in seen
        assert '"kind": "fire"' not in seen and "<td>inject</td>" not in seen
        assert '<td>participant</td><td>李四</td><td>door {"exit": "East", "open": true}</td>' \
            in seen


def test_long_lists_are_cut_in_the_sections_and_given_whole_in_the_annexes(hall):
    _, data = hall
    events = [{"t": float(i), "type": "note", "zh": f"事件{i:02d}", "en": f"event {i:02d}"}
              for i in range(25)]
    people = [{"name": f"人员{i:02d}", "agent": i, "joined_s": 0.0, "out_s": 5.0,
               "exit": "West", "walked_s": 5.0} for i in range(3)]
    page = page_of(data, events=events, commands=[], people=people)
    assert_well_formed(page)
    annexes = page.index('<section class="annexes">')
    assert page.count("事件00") == 2 and page.count("事件24") == 1  # section 一 shows 10
    assert page.index("事件24") > annexes
    assert "以上为前 10 项（共 25 项），完整记录见附件1。" in page
    # numbered by what is there: no commands, so the plan is annex 2 and the people annex 3
    for h in ("附件1：演练时间线", "附件2：预案核对", "附件3：参演人员"):
        assert h in page and page.index(h) > annexes
    assert "指令与报送记录" not in page[annexes:]
    assert "逐项核对见附件2。" in page and page.count("人员02") == 2
    assert page.index(T["footer"]["zh"]) > annexes
    en = page_of(data, "en", events=events, commands=[], people=people)
    assert "The first 10 of 25 are shown; the full list is in Annex 1." in en
    assert "Annex 3: Participants" in en
    bare = page_of(data, events=[], commands=[], plan=[], people=[])
    assert '<section class="annexes">' not in bare and "附件" not in bare


def test_the_page_is_styled_for_printing_on_a4(hall):
    _, data = hall
    page = page_of(data)
    css = page[page.index("<style>"):page.index("</style>")]
    assert "@page{size:A4;margin:18mm15mm}" in css.replace(" ", "")
    assert re.search(r"figure,\s*tr\{[^}]*page-break-inside:avoid", css)
    assert re.search(r"h2[^{]*\{[^}]*page-break-after:avoid", css)


def test_text_from_a_scenario_or_the_report_is_html_escaped(tmp_path, hall):
    rec = recorded_run(tmp_path, hall_doc(name="<script>alert(1)</script>"), "xss")
    write_report(rec, tmp_path / "r", stills=False)
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    _, data = hall
    evil = "<img src=x onerror=alert(1)>"
    page = page_of(data, cover={**COVER, "title": evil, "evaluators": [evil]},
                   conclusion={**CONCLUSION, "zh": evil, "basis": [{"zh": evil, "en": evil}]},
                   events=[{"t": 1.0, "type": evil, "zh": evil}],
                   commands=[{"t": 1.0, "type": "x", "role": evil, "name": evil,
                              "detail": {"k": evil}}],
                   findings=[{"code": "x", "severity": "info", "zh": evil, "en": evil}])
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert_well_formed(page)


def test_the_timeline_shows_the_plans_deadlines_when_the_plan_has_them(hall):
    _, data = hall
    deadlines = {"first_report": {"step": "P9", "deadline_s": 60.0, "met": False}}
    for lang, missed in (("zh", "未达标"), ("en", "missed")):
        page = page_of(data, lang, deadlines=deadlines)
        assert_well_formed(page)
        seen = html.unescape(page)
        assert "P9 · 60.0" in seen and f"<td>P9 · 60.0</td><td>{missed}</td>" in seen
    assert "P9" not in page_of(data, "zh", deadlines={})
