"""What differs between two recorded runs, for ``drill compare`` (zh and en sentences).

A comparison of two runs is only worth reading with what was changed between them: the
scenario's text, the seed, the population, the exits closed, the injects. And one run per
side is one sample each: a difference may be run-to-run noise, so the comparison says so.
"""

from __future__ import annotations

import difflib
import tomllib
from typing import Any

from sim.recording import Recording

__all__ = ["NOISE_FRACTION", "differences", "run_label"]

NOISE_FRACTION = 0.05
"""A difference in evacuation time below this fraction of the mean is likely noise."""
MAX_DIFF_LINES = 60
"""Lines of the scenario text diff kept for the page."""


def run_label(rec: Recording) -> str:
    """A run named as a user knows it: the drill's title or scenario name, and its seed."""
    text = (rec.header.get("scenario") or {}).get("toml") or ""
    title = None
    try:
        table = tomllib.loads(text).get("drill", {}) if text else {}
        title = table.get("title") if isinstance(table, dict) else None
    except Exception:  # noqa: BLE001 - an unreadable table only loses the title
        title = None
    return f"{title or rec.header.get('name')} · seed {rec.seed}"


def _closed(rec: Recording) -> dict[str, float]:
    out: dict[str, float] = {}
    for e in rec.events():
        if e.get("type") == "exit_closed" and e.get("exit") not in out:
            out[str(e["exit"])] = round(float(e.get("t") or 0.0), 1)
    return out


def _injects(rec: Recording) -> list[str]:
    return [f"{round(tick * rec.dt, 1)} s {c.get('event', {}).get('kind')}"
            for tick, c in rec.commands() if c.get("type") == "inject"]


def differences(a: Recording, b: Recording, last_out: tuple[float | None, float | None],
                ) -> dict[str, Any]:
    """What differs between runs ``a`` and ``b``: a list of {zh, en} sentences
    (``items``), the scenario text diff (``diff``, unified, cut), and a note on noise
    (``noise`` {zh, en}) from their evacuation times ``last_out`` (s)."""
    items: list[dict[str, str]] = []

    def say(zh: str, en: str) -> None:
        items.append({"zh": zh, "en": en})

    text_a = (a.header.get("scenario") or {}).get("toml") or ""
    text_b = (b.header.get("scenario") or {}).get("toml") or ""
    diff = list(difflib.unified_diff(text_a.splitlines(), text_b.splitlines(), "A", "B",
                                     lineterm="", n=1))
    changed = sum(1 for x in diff if x[:1] in "+-" and x[:3] not in ("+++", "---"))
    if a.header.get("name") != b.header.get("name"):
        say(f"情景不同：A 为 {a.header.get('name')}，B 为 {b.header.get('name')}",
            f"different scenarios: A {a.header.get('name')}, B {b.header.get('name')}")
    if changed:
        say(f"情景文件有 {changed} 行不同（见下方差异）",
            f"{changed} lines of the scenario file differ (see the diff below)")
    if a.seed != b.seed:
        say(f"随机种子不同：A {a.seed}，B {b.seed}", f"different seeds: A {a.seed}, B {b.seed}")
    if a.total != b.total:
        say(f"人数不同：A {a.total} 人，B {b.total} 人",
            f"different populations: A {a.total}, B {b.total} people")
    ca, cb = _closed(a), _closed(b)
    if ca != cb:
        def fmt(c: dict[str, float]) -> str:
            return "、".join(f"{k}（{v} 秒）" for k, v in c.items()) or "无"

        def fmt_en(c: dict[str, float]) -> str:
            return ", ".join(f"{k} ({v} s)" for k, v in c.items()) or "none"

        say(f"关闭的出口不同：A {fmt(ca)}；B {fmt(cb)}",
            f"exits closed differ: A {fmt_en(ca)}; B {fmt_en(cb)}")
    ia, ib = _injects(a), _injects(b)
    if ia != ib:
        say(f"注入的险情不同：A {'、'.join(ia) or '无'}；B {'、'.join(ib) or '无'}",
            f"injects differ: A {', '.join(ia) or 'none'}; B {', '.join(ib) or 'none'}")
    if not items:
        say("两次运行的情景、随机种子、人数、出口与注入均相同",
            "the runs have the same scenario, seed, population, exits and injects")
    ta, tb = last_out
    zh = ("每一方只有一次运行（一个随机种子）：一次运行不足以判断差异是否超出随机波动，"
          "应以不同随机种子各运行多次后比较。")
    en = ("Each side is one run (one seed): one run cannot tell whether a difference is "
          "more than run-to-run noise; compare several runs with different seeds.")
    if ta is not None and tb is not None and ta + tb > 0:
        rel = abs(tb - ta) / ((ta + tb) / 2)
        if rel < NOISE_FRACTION:
            zh += (f"本次疏散时间相差 {100 * rel:.1f}%，小于 {100 * NOISE_FRACTION:.0f}%，"
                   "很可能在随机波动之内。")
            en += (f" The evacuation times differ by {100 * rel:.1f} %, under "
                   f"{100 * NOISE_FRACTION:.0f} %: likely within noise.")
    cut = diff[:MAX_DIFF_LINES] + ([f"… ({len(diff) - MAX_DIFF_LINES} more lines)"]
                                   if len(diff) > MAX_DIFF_LINES else [])
    return {"items": items, "diff": cut, "noise": {"zh": zh, "en": en}}
