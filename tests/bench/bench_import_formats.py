"""Benchmark: import rates of camera RAW and phone HEIC files beside JPEGs, in one run.

    python -m tests.bench.bench_import_formats [N] [--json] [--keep DIR]

N files of each kind (default 40), every one with its own content hash:

- ``jpeg``: 12 MP JPEGs with EXIF, as ``bench_import`` makes them;
- ``heic``: the real iPhone XS HEIC of tests/data/formats (1025 x 900);
- ``cr2``, ``arw``: the real Canon EOS 30D and Sony A7R III files of tests/data/formats/raw
  (their full-size camera previews, their sensor data cut short: 1.4 and 1.2 MB);
- ``dng_12mp``: generated 12 MP DNGs (4000 x 3000, 24 MB of sensor data, a 1600 x 1067
  preview), for the bytes a full-size RAW file makes the importer hash.

Copies differ in their capture time: the date string in the file is rewritten in place (same
length), so every copy is hashed, read and thumbnailed for real; one copy of each kind is read
back to check it still decodes, with its new date.

Each kind is imported by its own ``tagassist import`` process into a fresh library, one after
the other in the same run (files/s, MB/s, against a hash-only pass over the same files), and
then the whole mixed folder at once.  ``files_per_s_past_startup`` takes off the time the same
command needs for an empty folder (starting Python and the app, opening the library).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.bench_import import make_corpus

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
SAMPLES = {  # kind -> (sample, extension, the capture time written in it)
    "heic": (DATA / "real_iphone_xs.heic", "HEIC", b"2021:07:06 16:08:14"),
    "cr2": (DATA / "raw" / "canon_eos30d_cropped.cr2", "CR2", b"2008:02:16 13:51:56"),
    "arw": (DATA / "raw" / "sony_a7r3_cropped.arw", "ARW", b"2018:07:11 01:18:47"),
}
DNG_DATE = b"2022:10:01 07:15:30"


def _date(i: int) -> bytes:
    return f"2020:{1 + i % 12:02}:{1 + i % 28:02} {i % 24:02}:{i % 60:02}:{(i // 60) % 60:02}" \
        .encode()


def _copies(data: bytes, old: bytes, folder: Path, ext: str, n: int) -> list[Path]:
    assert data.count(old) >= 1, "the sample's date string is missing"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"IMG_{i:05}.{ext}"
        path.write_bytes(data.replace(old, _date(i)))
        paths.append(path)
    return paths


def _dng_12mp(work: Path) -> bytes:
    sys.path.insert(0, str(DATA))
    try:
        from make_samples import DNG_LAT, DNG_LON, scene, write_dng
    finally:
        sys.path.remove(str(DATA))
    path = work / "12mp.dng"
    write_dng(path, width=4000, height=3000, date=DNG_DATE.decode(), lat=DNG_LAT, lat_ref="S",
              lon=DNG_LON, lon_ref="E", orientation=1, preview=scene(1600, 1067))
    data = path.read_bytes()
    path.unlink()
    return data


def make_folder(root: Path, n: int) -> dict[str, list[Path]]:
    kinds = {"jpeg": make_corpus(root / "jpeg", n)}
    for kind, (sample, ext, date) in SAMPLES.items():
        kinds[kind] = _copies(sample.read_bytes(), date, root / kind, ext, n)
    kinds["dng_12mp"] = _copies(_dng_12mp(root.parent), DNG_DATE, root / "dng_12mp", "dng", n)
    return kinds


def check_copies(kinds: dict[str, list[Path]]) -> None:
    """The last copy of each kind still decodes, with the date written into it."""
    from tagassist.media.photos import open_image, read_photo

    for kind, paths in kinds.items():
        if kind == "jpeg":
            continue
        i = len(paths) - 1
        info = read_photo(paths[i])
        want = _date(i).decode().replace(":", "-", 2).replace(" ", "T")
        assert info.capture_time == want, (kind, info.capture_time, want)
        img, _ = open_image(paths[i])
        with img:
            img.load()


def _import(folder: Path, workdir: Path) -> tuple[float, dict]:
    env = dict(os.environ, TAGASSIST_CACHE_DIR=str(workdir / "cache"))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tagassist", "import", str(folder), "--json",
                           "--library", str(workdir / "lib"), "--user", "bench"],
                          capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t
    assert proc.returncode == 0, proc.stderr[-2000:]
    return seconds, json.loads(proc.stdout)


def bench(root: Path, kinds: dict[str, list[Path]], work: Path) -> dict:
    from tagassist.media.hashing import content_hash

    empty = work / "empty"
    empty.mkdir()
    startup_s, _ = _import(empty, work / "empty-lib")  # the process's own start and finish
    per_kind = {}
    for kind, paths in kinds.items():
        size = sum(p.stat().st_size for p in paths)
        t = time.perf_counter()
        for p in paths:
            content_hash(p)
        hash_s = time.perf_counter() - t
        seconds, report = _import(root / kind, work / kind)
        per_kind[kind] = {
            "files": len(paths), "imported": report["added"],
            "problems": len(report["problems"]), "mean_file_mb": round(size / len(paths) / 1e6, 2),
            "import_s": round(seconds, 2), "files_per_s": round(len(paths) / seconds, 1),
            "files_per_s_past_startup": round(len(paths) / max(seconds - startup_s, 1e-3), 1),
            "mb_per_s": round(size / 1e6 / seconds, 1), "hash_only_s": round(hash_s, 2),
        }
    files = sum(len(p) for p in kinds.values())
    seconds, report = _import(root, work / "mixed")
    mixed = {"files": files, "imported": report["added"], "problems": len(report["problems"]),
             "import_s": round(seconds, 2), "files_per_s": round(files / seconds, 1)}
    jpeg_rate = per_kind["jpeg"]["files_per_s_past_startup"]
    return {"startup_s": round(startup_s, 2), "per_kind": per_kind, "mixed_folder": mixed,
            "rate_vs_jpeg_past_startup": {
                k: round(v["files_per_s_past_startup"] / jpeg_rate, 2)
                for k, v in per_kind.items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=40, help="files of each kind")
    ap.add_argument("--json", action="store_true", help="print the result as JSON only")
    ap.add_argument("--keep", type=Path, help="generate into (and keep) this folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        root = args.keep or work / "photos"
        t = time.perf_counter()
        kinds = make_folder(root, args.n)
        check_copies(kinds)
        print(f"generated {sum(map(len, kinds.values()))} files in "
              f"{time.perf_counter() - t:.0f} s", file=sys.stderr)
        result = {"n_per_kind": args.n, "cpus": os.cpu_count(), **bench(root, kinds, work)}
        if args.keep is None:
            shutil.rmtree(root)
    print(json.dumps(result, indent=1) if args.json else result)


def test_import_formats_benchmark_small(tmp_path):
    """A 3-per-kind run so the benchmark itself stays working (`pytest tests/bench -s`)."""
    kinds = make_folder(tmp_path / "photos", 3)
    check_copies(kinds)
    result = bench(tmp_path / "photos", kinds, tmp_path)
    print(result)
    assert all(v["imported"] == 3 and v["problems"] == 0 for v in result["per_kind"].values())
    assert result["mixed_folder"]["imported"] == 15


if __name__ == "__main__":
    main()
