"""The trainer's typed events: what goes out as a JSON line comes back the same, and a line
that is not an event is kept as text instead of breaking the job."""

from __future__ import annotations

import json

import pytest

from tagassist.suggest import train_events as ev

EVENTS = [
    ev.Progress(stage="select", model="dae_ptr", epoch=3, epochs=100),
    ev.Progress(stage="refit", model="cnn_permlp", epochs=40),  # a stage's start: no epoch
    ev.Progress(stage="data", extra={"posts": 120, "photos": 30, "tags": 41}),
    ev.Progress(stage="data", message="your previous model cannot be read"),
    ev.Log(message="a stray print"),
    ev.Done(version="v0002", path="/lib/models/user-1/personal-content/v0002",
            model="dae_ptr", metrics={"mode": "full", "validation": {"p@5": 0.4}},
            calibration={"a": 1.5, "b": -2.0}, seconds=12.5, notes=[]),
    ev.Skipped(message="nothing new since v0001"),
    ev.Error(message="ModelFitError: dae_ptr epoch 3 loss is nan: training diverged"),
    ev.Cancelled(message="training cancelled; the previous model stays"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.kind)
def test_an_event_survives_its_json_line(event):
    line = event.to_json()
    assert "\n" not in line  # one event, one line
    assert ev.parse(line + "\n") == event
    assert ev.from_dict(json.loads(line)) == event


def test_the_wire_format_is_the_dicts_the_app_always_read():
    assert json.loads(EVENTS[0].to_json()) == {"event": "progress", "stage": "select",
                                               "model": "dae_ptr", "epoch": 3, "epochs": 100}
    assert json.loads(EVENTS[2].to_json()) == {"event": "progress", "stage": "data",
                                               "posts": 120, "photos": 30, "tags": 41}
    done = json.loads(EVENTS[5].to_json())
    assert set(done) == {"event", "version", "path", "model", "metrics", "calibration",
                         "seconds", "notes"}


@pytest.mark.parametrize("line", [
    "Traceback (most recent call last):",  # not JSON
    '{"event": "progress", "stage": "sel',  # half a line
    "[1, 2]",  # JSON, not an object
    '{"stage": "select"}',  # no kind
    '{"event": "rebooting"}',  # a kind nobody knows
    '{"event": "progress", "epoch": "three"}',  # a field of the wrong type
    '{"event": "done", "notes": "not a list"}',
])
def test_a_garbled_line_becomes_a_log_event_with_its_text(line):
    assert ev.parse(line + "\n") == ev.Log(message=line)


def test_an_in_process_stage_result_reads_as_its_event():
    """The set's and blend's results (dicts the personal job yields) keep every key."""
    result = {"event": "done", "stage": "blend", "version": "v0001",
              "metrics": {"acceptance@5_candidate": 0.4}, "message": "blend v0001 kept",
              "weights": [0.2, 0.8]}
    event = ev.from_dict(result)
    assert isinstance(event, ev.Done) and event.stage == "blend"
    assert event.extra == {"weights": [0.2, 0.8]}
    assert event.to_dict() == result
    assert ev.from_dict({"event": "skipped", "stage": "set", "message": "3 photos"}) \
        == ev.Skipped(stage="set", message="3 photos")
