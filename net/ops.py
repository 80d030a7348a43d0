"""What whoever runs ``drill serve`` watches: the operations log and the metrics.

:class:`OpsLog` writes one line per join, leave, command, refusal and drill start or end
(logger ``net.ops``; ``json=True`` makes each a JSON object). :class:`Metrics` counts
what the server did and renders it for ``/metrics`` in the Prometheus text format
(version 0.0.4) — a dozen counters and gauges need no client library.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import Counter
from typing import Any

__all__ = ["Metrics", "OpsLog", "log_to_stderr"]

_log = logging.getLogger("net.ops")


def log_to_stderr(*, json_lines: bool = False) -> None:
    """Send the operations log (logger ``net.ops``) to stderr, once per process: as JSON
    objects, or as ``time key=value`` text."""
    if _log.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s" if json_lines
                                           else "%(asctime)s %(message)s"))
    _log.addHandler(handler)
    _log.setLevel(logging.INFO)
    _log.propagate = False


class OpsLog:
    """One line per operational event, as text (``key=value``) or JSON lines."""

    def __init__(self, *, json_lines: bool = False):
        self.json_lines = json_lines

    def __call__(self, event: str, /, **fields: Any) -> None:
        """Log ``event`` (join, leave, command, refused, drill_started, drill_ended, ...)."""
        if not _log.isEnabledFor(logging.INFO):
            return
        if self.json_lines:
            line = json.dumps({"ts": round(time.time(), 3), "event": event, **fields},
                              ensure_ascii=False, default=str)
        else:
            line = event + "".join(f" {k}={_text(v)}" for k, v in fields.items()
                                   if v is not None)
        _log.info(line)


def _text(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
    return json.dumps(s, ensure_ascii=False) if (not s or any(c.isspace() for c in s)) else s


class Metrics:
    """Counters of one server; gauges (drills, clients, tick time) are read when rendered."""

    def __init__(self) -> None:
        self.started = time.time()
        self.bytes_out = 0
        """Bytes of WebSocket messages sent to clients."""
        self.messages_in = 0
        self.poses_in = 0
        self.refusals: Counter[str] = Counter()
        """Refused messages by error code."""
        self.joins = 0
        self.drills_created = 0
        self.drills_ended: Counter[str] = Counter()
        """Ended drills by reason (instructor, finished, idle, server)."""
        self.renders = 0
        self.ticks = 0
        self.tick_seconds = 0.0
        """Sum of the wall time of every tick (step and encode), s."""
        self.tick_max = 0.0
        """Longest tick since the last scrape, s."""

    def tick(self, seconds: float) -> None:
        self.ticks += 1
        self.tick_seconds += seconds
        self.tick_max = max(self.tick_max, seconds)

    def render(self, gauges: dict[str, float]) -> str:
        """The Prometheus text exposition of the counters and the given gauges."""
        rows: list[tuple[str, str, str, list[tuple[str, float]]]] = [
            ("evacdrill_up_seconds", "gauge", "Seconds since the server started.",
             [("", time.time() - self.started)]),
            ("evacdrill_drills", "gauge", "Live drills hosted (ended ones excluded).",
             [("", gauges.get("drills", 0))]),
            ("evacdrill_replays", "gauge", "Live drills that are replays.",
             [("", gauges.get("replays", 0))]),
            ("evacdrill_clients", "gauge", "Connected clients that joined a drill.",
             [("", gauges.get("clients", 0))]),
            ("evacdrill_agents", "gauge", "Agents inside the buildings of all live drills.",
             [("", gauges.get("agents", 0))]),
            ("evacdrill_ticks_total", "counter", "Simulation ticks of all drills.",
             [("", self.ticks)]),
            ("evacdrill_tick_seconds_total", "counter",
             "Wall time spent in ticks (step, record, encode), s.", [("", self.tick_seconds)]),
            ("evacdrill_tick_seconds_max", "gauge", "Longest tick since the last scrape, s.",
             [("", self.tick_max)]),
            ("evacdrill_bytes_sent_total", "counter", "Bytes sent to clients.",
             [("", self.bytes_out)]),
            ("evacdrill_messages_received_total", "counter",
             "Messages received from clients (poses included).", [("", self.messages_in)]),
            ("evacdrill_poses_received_total", "counter", "Pose messages received.",
             [("", self.poses_in)]),
            ("evacdrill_refusals_total", "counter", "Refused messages by error code.",
             [(f'code="{code}"', n) for code, n in sorted(self.refusals.items())]),
            ("evacdrill_joins_total", "counter", "Joins (resumes included).",
             [("", self.joins)]),
            ("evacdrill_drills_created_total", "counter", "Drills started on this server.",
             [("", self.drills_created)]),
            ("evacdrill_drills_ended_total", "counter", "Drills ended, by reason.",
             [(f'reason="{r}"', n) for r, n in sorted(self.drills_ended.items())]),
            ("evacdrill_renders_total", "counter", "Rendered views sent.",
             [("", self.renders)]),
        ]
        self.tick_max = 0.0
        out = []
        for name, kind, help_text, samples in rows:
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            out += [f"{name}{{{labels}}} {_num(v)}" if labels else f"{name} {_num(v)}"
                    for labels, v in samples]
        return "\n".join(out) + "\n"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.6g}"
