"""The refusals every action raises (shared by core's audit helpers and every app's actions)."""
from __future__ import annotations


class ActionError(Exception):
    """A refused action, with the field it concerns and a readable reason."""

    def __init__(self, message: str, field: str = "", rule: str = ""):
        super().__init__(message)
        self.field = field
        self.rule = rule


class Conflict(ActionError):
    """A write lost a race: another request changed (or created) the same record first. The API answers
    409 with ``field`` and ``detail``; pages show it like any refused action. Retrying re-reads the state."""
