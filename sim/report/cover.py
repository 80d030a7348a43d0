"""The report's cover data (封面信息): what drill, what kind, when, where, who.

A scenario says it in its ``[drill]`` table (:mod:`sim.drill_info`). Anything not given
is filled from the recording where it can be (date, instructor, participants) and
otherwise shown as not given.
"""

from __future__ import annotations

import datetime as _dt
import tomllib
from typing import Any

from sim.drill_info import DRILL_TYPES, parse_cover
from sim.errors import ScenarioError

__all__ = ["cover_of"]

def cover_of(header: dict[str, Any], journal: list[dict[str, Any]],
             people: list[dict[str, Any]], agents: int) -> dict[str, Any]:
    """Cover data of a recording: its ``[drill]`` table, completed from the recording.

    Keys: :data:`COVER_KEYS`, plus ``type_words`` (zh, en), ``participants`` (people who
    walked in the crowd), ``simulated`` (agents), ``given`` (the keys the scenario gave)
    and ``warning`` (a ``[drill]`` table that could not be read, or None).
    """
    text = (header.get("scenario") or {}).get("toml")
    raw: dict[str, Any] = {}
    warning = None
    if text:
        try:
            table = tomllib.loads(text).get("drill", {})
            raw = parse_cover(table if isinstance(table, dict) else {})
        except (tomllib.TOMLDecodeError, ScenarioError) as exc:
            warning = str(exc)
    meta = header.get("meta") or {}
    served = meta.get("mode") == "serve"
    created = header.get("created")
    instructors = sorted({str(e["name"]) for e in journal
                          if e.get("role") == "instructor" and e.get("name")})
    kind = raw.get("type") or ("tabletop" if served else "simulation")
    return {
        "title": raw.get("title") or header.get("name"),
        "type": kind,
        "type_words": list(DRILL_TYPES[kind]),
        "date": raw.get("date") or (_dt.datetime.fromtimestamp(created).strftime(
            "%Y-%m-%d %H:%M") if created else None),
        "place": raw.get("place"),
        "organiser": raw.get("organiser"),
        "units": raw.get("units"),
        "participants": len(people),
        "simulated": agents,
        "instructor": raw.get("instructor") or ("、".join(instructors) or None),
        "evaluators": raw.get("evaluators"),
        "given": sorted(raw),
        "warning": warning,
    }
