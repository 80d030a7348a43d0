"""Helpers of the recording tests: small scenarios and recorded runs made for real."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sim.run import run
from sim.scenario import parse

HERE = Path(__file__).parent
HALL = HERE / "rec_hall.toml"


def hall_doc(**changes: Any) -> dict[str, Any]:
    """The hall scenario as a document without its live-drill tables."""
    doc = tomllib.loads(HALL.read_text(encoding="utf-8"))
    doc.pop("drill")
    doc.pop("injects")
    doc.update(changes)
    return doc


def write_scenario(path: Path, doc: dict[str, Any]) -> Path:
    """Write a scenario document as TOML (only the shapes the tests use)."""
    lines: list[str] = []

    def val(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace('"', '\\"') + '"'
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        return repr(v)

    for k, v in doc.items():
        if not isinstance(v, dict | list) or (isinstance(v, list) and v
                                              and not isinstance(v[0], dict)):
            lines.append(f"{k} = {val(v)}")
    for k, v in doc.items():
        if isinstance(v, dict):
            lines.append(f"[{k}]")
            lines += [f"{a} = {val(b)}" for a, b in v.items()]
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                lines.append(f"[[{k}]]")
                lines += [f"{a} = {val(b)}" for a, b in item.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parse(tomllib.loads(path.read_text(encoding="utf-8")))  # it must be a valid scenario
    return path


def recorded_run(tmp: Path, doc: dict[str, Any], name: str = "run") -> Path:
    """Run a scenario document with ``drill run``'s code; returns the drill.rec path."""
    from sim.scenario import load_file

    scen = write_scenario(tmp / f"{name}.toml", doc)
    run(load_file(scen), tmp / name)
    return tmp / name / "drill.rec"
