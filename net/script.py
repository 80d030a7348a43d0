"""Scenario files with a drill script: ``[[injects]]`` timeline and ``[drill]`` options.

The scenario parser (:mod:`sim.scenario`) refuses unknown keys, so this module reads the
raw TOML, takes out the two tables it owns and hands the rest to
:func:`sim.scenario.parse`::

    [drill]
    blind = true          # participants are not told the inject timeline in advance
    alarm = "inject"      # "start" (default): pre-movement counts from t = 0;
                          # "inject": nobody moves until an alarm inject or an order
    spawn = [[12.0, 5.0, 0]]  # where participants' avatars start: x, y (m), floor index
                          # (in turn; default: in the groups' areas, in turn)

    [[injects]]
    time = 30.0           # simulated seconds
    kind = "smoke"        # any inject event kind of docs/protocol.md
    floor = 0
    x = 12.0
    y = 10.0
    radius = 4.0
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from net.protocol import valid_event
from sim.drill_info import COVER_KEYS, parse_cover
from sim.errors import ScenarioError
from sim.scenario import ASSETS, Scenario, builtin_names, parse

__all__ = ["DrillScript", "load_drill"]


@dataclass(frozen=True)
class DrillScript:
    """What a scenario file says about running it as a live drill."""

    injects: tuple[tuple[float, dict[str, Any]], ...] = ()
    """(simulated time in s, inject event) in time order."""
    blind: bool = False
    """Participants are not told the timeline in advance."""
    alarm: str = "start"
    """"start": pre-movement counts from t = 0; "inject": held until an alarm or order."""
    spawn: tuple[tuple[float, float, int], ...] = ()
    """Where participants' avatars start, in turn: (x m, y m, floor index)."""
    extra: dict[str, Any] = field(default_factory=dict)


def _path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix.lower() != ".toml" and not p.exists():
        candidate = ASSETS / f"{name_or_path}.toml"
        if not candidate.exists():
            raise ScenarioError("no such file, and not a built-in scenario (built-in: "
                                f"{', '.join(builtin_names())})", source=str(name_or_path))
        return candidate
    return p


def load_drill(name_or_path: str | Path) -> tuple[Scenario, DrillScript]:
    """Load a built-in scenario or a file, with its optional drill script.

    Raises ScenarioError naming the file and field for anything wrong.
    """
    path = _path(name_or_path)
    src = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError("file not found", source=src) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read file ({exc})", source=src) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"malformed TOML: {exc}", source=src) from None
    raw_injects = data.pop("injects", [])
    raw_drill = data.pop("drill", {})
    scenario = parse(data, source=src)
    return scenario, _script(raw_injects, raw_drill, src)


def _script(raw_injects: Any, raw_drill: Any, src: str) -> DrillScript:
    if not isinstance(raw_drill, dict):
        raise ScenarioError("must be a table", source=src, field="drill")
    unknown = sorted(set(raw_drill) - {"blind", "alarm", "spawn", *COVER_KEYS})
    if unknown:
        raise ScenarioError(f"unknown key '{unknown[0]}'", source=src, field=f"drill.{unknown[0]}")
    parse_cover(raw_drill, src)  # the report's cover data: checked here, read by the report
    blind = raw_drill.get("blind", False)
    if not isinstance(blind, bool):
        raise ScenarioError("must be true or false", source=src, field="drill.blind")
    alarm = raw_drill.get("alarm", "start")
    if alarm not in ("start", "inject"):
        raise ScenarioError(f"must be \"start\" or \"inject\", got {alarm!r}", source=src,
                            field="drill.alarm")
    spawn = _spawn(raw_drill.get("spawn", []), src)
    if not isinstance(raw_injects, list):
        raise ScenarioError("must be an array of tables ([[injects]])", source=src,
                            field="injects")
    injects = []
    for i, t in enumerate(raw_injects):
        where = f"injects[{i}]"
        if not isinstance(t, dict):
            raise ScenarioError("must be a table", source=src, field=where)
        event = dict(t)
        time = event.pop("time", None)
        if isinstance(time, bool) or not isinstance(time, int | float) or not time >= 0:
            raise ScenarioError("time is required: a number of seconds >= 0", source=src,
                                field=f"{where}.time")
        if not valid_event(event):
            raise ScenarioError("not a valid inject event (kind, floor, x, y, radius, exit, "
                                "id, factor, note; see docs/protocol.md)", source=src,
                                field=where)
        injects.append((float(time), event))
    injects.sort(key=lambda te: te[0])
    return DrillScript(injects=tuple(injects), blind=blind, alarm=alarm, spawn=spawn)


def _spawn(raw: Any, src: str) -> tuple[tuple[float, float, int], ...]:
    def number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    if not isinstance(raw, list):
        raise ScenarioError("must be an array of [x, y, floor] points", source=src,
                            field="drill.spawn")
    out = []
    for i, p in enumerate(raw):
        if not (isinstance(p, list) and len(p) == 3 and number(p[0]) and number(p[1])
                and isinstance(p[2], int) and not isinstance(p[2], bool) and p[2] >= 0):
            raise ScenarioError("must be [x, y, floor]: metres and a floor index",
                                source=src, field=f"drill.spawn[{i}]")
        out.append((float(p[0]), float(p[1]), int(p[2])))
    return tuple(out)
