"""What the personal trainer reports, as typed events: one JSON object per line on its stdout.

The trainer child (``python -m trainer.personal``) emits through :meth:`TrainEvent.to_json`;
the app reads its lines with :func:`parse`, and the window and the CLI read the dicts a job
yields with :func:`from_dict`.  Plain data only (no Qt, no torch): both sides import it.

Wire format, unchanged from the untyped dicts it replaces: ``{"event": KIND, field: value,
...}``; a field that is ``None`` is left out, and keys an event type does not name travel in
``extra`` (a stage's counts, a newer trainer's field) so nothing is lost on the way.  A line
that is not such an object (a stray print, a half-written line) becomes a :class:`Log`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

# Every named field's type, shared by the events that carry it (a wrong type: a garbled line).
_TYPES: dict[str, type | tuple[type, ...]] = {
    "stage": str, "model": str, "epoch": int, "epochs": int, "message": str, "version": str,
    "path": str, "metrics": dict, "calibration": dict, "seconds": (int, float),
    "notes": list}


@dataclass(frozen=True, kw_only=True)
class TrainEvent:
    """One report of a training job; ``kind`` is its ``"event"`` value."""

    kind: ClassVar[str] = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        named = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        return {"event": self.kind, **{k: v for k, v in named.items() if v is not None},
                **self.extra}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


@dataclass(frozen=True, kw_only=True)
class Progress(TrainEvent):
    """A stage started or an epoch ended; ``message`` is something the person should hear."""

    kind: ClassVar[str] = "progress"
    stage: str | None = None  # data, select, refit, update (trainer); set, blend (in process)
    model: str | None = None
    epoch: int | None = None
    epochs: int | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class Log(TrainEvent):
    """A line that is not an event (kept as text for the log)."""

    kind: ClassVar[str] = "log"
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class Done(TrainEvent):
    """A version was published (the trainer's, or an in-process stage's with ``stage``)."""

    kind: ClassVar[str] = "done"
    stage: str | None = None
    version: str | None = None
    path: str | None = None
    model: str | None = None
    metrics: dict[str, Any] | None = None
    calibration: dict[str, Any] | None = None
    seconds: float | None = None
    notes: list[str] | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class Skipped(TrainEvent):
    """Nothing published, for a reason the person can act on."""

    kind: ClassVar[str] = "skipped"
    stage: str | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class Error(TrainEvent):
    """The job failed (a bug, a damaged file); the previous model stays."""

    kind: ClassVar[str] = "error"
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class Cancelled(TrainEvent):
    """Stopped on request; the previous model stays."""

    kind: ClassVar[str] = "cancelled"
    message: str | None = None


KINDS: dict[str, type[TrainEvent]] = {
    c.kind: c for c in (Progress, Log, Done, Skipped, Error, Cancelled)}
FINAL = (Done, Skipped, Error, Cancelled)  # what a job ends with


def _typed(data: Any) -> TrainEvent | None:
    """The event a decoded object is, or None: not an object, an unknown kind, a field of
    the wrong type."""
    cls = KINDS.get(data.get("event")) if isinstance(data, dict) else None
    if cls is None:
        return None
    named = {f.name for f in fields(cls)} - {"extra"}
    values = {k: v for k, v in data.items() if k in named and v is not None}
    if any(isinstance(v, bool) or not isinstance(v, _TYPES[k]) for k, v in values.items()):
        return None
    extra = {k: v for k, v in data.items() if k != "event" and k not in named}
    return cls(**values, extra=extra)


def from_dict(data: dict[str, Any]) -> TrainEvent:
    """The typed event of a dict a job yielded (an event's :meth:`~TrainEvent.to_dict`, or
    an in-process stage's result); anything else is a :class:`Log` of it."""
    return _typed(data) or Log(message=json.dumps(data, default=str))


def parse(line: str) -> TrainEvent:
    """One stdout line of the trainer as an event; anything else is a :class:`Log` of it."""
    text = line.rstrip("\r\n")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    return _typed(data) or Log(message=text)
