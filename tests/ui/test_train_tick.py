"""The status bar's tick for each kind of training event, typed or as the dict a job yields."""

from __future__ import annotations

from tagassist.app.suggest_jobs import _train_tick
from tagassist.suggest import train_events as ev


def test_ticks_from_typed_events_and_dicts_agree():
    epoch = ev.Progress(stage="select", model="dae_ptr", epoch=3, epochs=100)
    assert _train_tick(epoch) == _train_tick(epoch.to_dict()) == (3, 100, "choosing a model")
    assert _train_tick({"event": "progress", "stage": "set"}) == (0, 0, "learning your tag sets")
    # the blend's result, yielded in process: named by its stage
    assert _train_tick({"event": "done", "stage": "blend", "version": "v0001"}) \
        == (0, 0, "learning how you tag")
    assert _train_tick(ev.Done(version="v0003")) == (0, 0, "done")
    assert _train_tick(ev.parse("not json")) == (0, 0, "log")
    assert _train_tick({"event": "progress", "epoch": "x"}) == (0, 0, "log")
