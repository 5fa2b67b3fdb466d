"""Context words from time, place and folder."""

from __future__ import annotations

from tagassist.media.context import context_words, folder_words


def test_summer_saturday_evening():
    assert context_words("2024-07-13T21:30:00", "Paris, France", []) == [
        "summer", "weekend", "evening", "july", "2024", "paris", "france",
    ]


def test_southern_hemisphere_flips_season():
    assert context_words("2024-07-13T21:30:00", None, [], lat=-33.9)[0] == "winter"
    assert context_words("2024-01-15T08:00:00", None, [], lat=-33.9)[:3] == [
        "summer", "weekday", "morning",
    ]


def test_parts_of_day_and_date_only():
    assert context_words("2023-03-01T14:00:00", None, [])[:3] == ["spring", "weekday", "afternoon"]
    assert context_words("2023-10-01T02:00:00", None, [])[:3] == ["autumn", "weekend", "night"]
    assert context_words("2023-12-25", None, []) == ["winter", "weekday", "december", "2023"]


def test_folder_words():
    parts = ["home", "DCIM", "100CANON", "2024_Summer-Holiday", "Lake Como 2", "IMG"]
    assert folder_words(parts) == ["summer", "holiday", "lake", "como"]


def test_garbage_and_missing_inputs():
    assert context_words(None, None, []) == []
    assert context_words("not a date", "", ["2024"]) == []
    assert context_words("2024-07-13T21:30:00", None, ["summer"]).count("summer") == 1
