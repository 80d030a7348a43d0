"""``drill verify``: run the verification cases shipped in the package and write the V&V
report (``sim.verify``, docs/verify.md).

Prints one line per test (``rimea-1 pass 29.6 s (26–34 s)``) and a summary, and exits 0
when every test ran, whatever their status. An unknown suite, or ``--jupedsim`` without
JuPedSim installed, is one line and exit status 2 (a :class:`sim.errors.ScenarioError`).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError

__all__ = ["add_parser", "run_verify"]

_WORDS = {
    "zh": {"written": "报告已写入 {out}/（verify.json、verify.html、verify.en.html）",
           "line": "{name}：{tests} 项，通过 {pass}，未通过 {fail}，不适用 {not_applicable}，"
                   "出错 {error}",
           "total": "合计", "took": "用时 {s:.0f} 秒"},
    "en": {"written": "report written to {out}/ (verify.json, verify.html, verify.en.html)",
           "line": "{name}: {tests} tests, {pass} passed, {fail} failed, {not_applicable} not "
                   "applicable, {error} errors",
           "total": "total", "took": "took {s:.0f} s"},
}


def add_parser(sub: Any) -> None:
    """Add ``verify`` to the ``drill`` parser."""
    v = sub.add_parser("verify", help="run the verification cases (RiMEA, NIST TN 1822, "
                                      "ISO 20414) and write the V&V report")
    v.add_argument("--suite", default="all", metavar="NAME",
                   help="rimea, nist, iso20414, validity or all (default all)")
    v.add_argument("--quick", action="store_true",
                   help="the smaller subset CI runs (fewer people, widths and seeds)")
    v.add_argument("--jupedsim", action="store_true",
                   help="also run every case JuPedSim can express, for comparison")
    v.add_argument("--lang", default="zh", choices=("zh", "en"),
                   help="language of the printed summary (both reports are written)")
    v.add_argument("--out", required=True, help="folder for verify.json, verify.html, "
                                                "verify.en.html and the figures")
    v.set_defaults(func=run_verify)


def _suites(name: str) -> list[str]:
    from sim.verify.suites import SUITES

    if name == "all":
        return list(SUITES)
    if name not in SUITES:
        raise ScenarioError(f"--suite: unknown suite '{name}' "
                            f"(known: {', '.join([*SUITES, 'all'])})")
    return [name]


def _text(v: Any, lang: str) -> str:
    return v[lang] if isinstance(v, dict) else str(v)


def _line(rec: Any, lang: str) -> str:
    """One printed line per test: id, status, figure (or why not)."""
    if rec.status in ("not_applicable", "error"):
        detail = rec.reason[lang] if rec.reason else ""
    else:
        detail = _text(rec.summary, lang)
    line = f"{rec.id} {rec.status} {detail}".rstrip()
    j = rec.jupedsim
    if j is not None and j.get("status") == "ran":
        line += f" | JuPedSim {_text(j['summary'], lang)}"
    return line


def run_verify(args: argparse.Namespace) -> int:
    """Run the suites, print a line per test and a summary, write the report."""
    from sim.verify import run_suites
    from sim.verify.report import summary, write_report
    from sim.verify.suites import SUITE_NAMES

    names = _suites(args.suite)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ScenarioError(f"--out: '{args.out}' exists and is not a folder")
    version = None
    if args.jupedsim:
        from sim.verify.jps import require

        version = require()
    command = shlex.join(["drill", "verify", "--suite", args.suite,
                          *(["--quick"] if args.quick else []),
                          *(["--jupedsim"] if args.jupedsim else []),
                          "--lang", args.lang, "--out", str(args.out)])
    t0 = time.perf_counter()
    records = run_suites(names, quick=args.quick, jupedsim=args.jupedsim,
                         progress=lambda r: print(_line(r, args.lang), flush=True))
    wall = time.perf_counter() - t0
    write_report(records, out, command=command, quick=args.quick, suites=names,
                 jupedsim=version, wall_s=wall)
    w = _WORDS[args.lang]
    counts = summary(records)
    for key in [*names, "all"]:
        name = w["total"] if key == "all" else SUITE_NAMES[key][args.lang]
        print(w["line"].format(name=name, **counts[key]))
    print(w["took"].format(s=wall))
    print(w["written"].format(out=args.out))
    sys.stdout.flush()
    return 0
