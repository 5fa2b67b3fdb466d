"""Offline reverse geocoding."""

from __future__ import annotations

import math

import pytest

from tagassist.media.places import place_name


def test_paris():
    name = place_name(48.8566, 2.3522)
    assert name is not None and "Paris" in name and name.endswith("France")


def test_southern_and_western_hemispheres():
    assert place_name(-33.9175, 18.4026) == "Cape Town, South Africa"
    assert "United States" in place_name(47.6062, -122.3321)


@pytest.mark.parametrize(
    "lat,lon", [(91, 0), (0, 181), (math.nan, 1), (1, math.inf), ("x", 1), (None, None)]
)
def test_invalid_coordinates(lat, lon):
    assert place_name(lat, lon) is None


def test_open_ocean_is_no_place():
    assert place_name(0.0, -30.0) is None
