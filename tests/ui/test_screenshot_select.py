"""``run_gui(..., select=NAME)``: the screenshot run selects the named file before grabbing."""

from __future__ import annotations

from pathlib import Path

from tagassist.ui import app as app_module
from tagassist.ui.app import run_gui


def test_screenshot_selects_the_named_file(qapp, paths, sample_folder, tmp_path, monkeypatch):
    seen: list[list[str]] = []
    grab = app_module.MainWindow.grab

    def grab_and_record(window):
        [item] = window.model.items_for(window.grid.selected_ids())
        seen.append([Path(p).name for p in item.paths])
        return grab(window)

    monkeypatch.setattr(app_module.MainWindow, "grab", grab_and_record)
    shot = tmp_path / "cat.png"
    assert run_gui(paths, open_folder=sample_folder, user="tester", screenshot=shot,
                   select="chelsea-the-cat.jpg") == 0
    assert shot.exists() and seen == [["chelsea-the-cat.jpg"]]


def test_screenshot_with_an_unknown_name_fails(qapp, paths, sample_folder, tmp_path, capsys):
    shot = tmp_path / "none.png"
    assert run_gui(paths, open_folder=sample_folder, user="tester", screenshot=shot,
                   select="no-such-file.jpg") == 1
    assert not shot.exists()
    assert "no-such-file.jpg" in capsys.readouterr().err
