"""The exception hierarchy of the simulation package.

::

    SimError
    ├── ScenarioError      a scenario file or scene description is wrong (names file and field)
    ├── SimulationError    a run cannot proceed (e.g. agents that can reach no exit)
    └── RecordingError     a recording cannot be read, replayed or reported on
"""

from __future__ import annotations

__all__ = ["RecordingError", "ScenarioError", "SimError", "SimulationError"]


class SimError(Exception):
    """Root of every error the simulation raises on purpose."""


class ScenarioError(SimError):
    """A scenario is invalid; the message names the file, the field and what is wrong."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.source = source
        """The file (or built-in name) the scenario came from, when known."""
        self.field = field
        """Dotted path of the offending field, e.g. ``groups[0].count``."""
        self.reason = message
        """What is wrong, without the file and field."""
        parts = [p for p in (source, field) if p]
        super().__init__(": ".join([*parts, message]))


class SimulationError(SimError):
    """A run cannot proceed for a reason found after the scenario was read.

    ``code`` (optional) names the cause for programs (e.g. ``outside_floor``) and
    ``detail`` its figures, so that a client can say it in its user's language.
    """

    def __init__(self, message: str, *, code: str | None = None,
                 detail: dict[str, object] | None = None):
        self.code = code
        self.detail = detail or {}
        super().__init__(message)


class RecordingError(SimError):
    """A recording is unreadable, damaged, of a newer format, or does not fit its use."""
