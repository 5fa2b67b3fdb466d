"""Benchmark: import N generated 12-megapixel JPEGs with EXIF (default N = 2000).

Reports files per second for the whole import (run as a separate ``tagassist import`` process, so
its peak RSS is measured alone), thumbnail milliseconds per file (median, JPEG draft decoding)
against a full-decode thumbnail baseline in the same process, and the import time against a
hash-only pass over the same files (the floor any import pays: reading every byte).

    python -m tests.bench.bench_import [N] [--keep DIR]

Generating distinct 12 MP files is made cheap by encoding a few bodies once and splicing a
different EXIF segment (capture time, GPS) into each copy: the content hashes differ, so every
file is hashed, read and thumbnailed for real.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from PIL.TiffImagePlugin import IFDRational

WIDTH, HEIGHT = 4000, 3000  # 12 MP


def _bodies(count: int = 4) -> list[bytes]:
    """A few distinct 12 MP JPEG encodings (smooth gradients plus noise, like a real photo)."""
    rng = np.random.default_rng(0)
    out = []
    for k in range(count):
        y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
        base = np.stack([(x * (k + 1) / 16) % 256, (y / 12) % 256, ((x + y) / 28) % 256], -1)
        noisy = base + rng.normal(0, 6, base.shape)
        img = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
        path = Path(tempfile.mkstemp(suffix=".jpg")[1])
        img.save(path, quality=88)
        out.append(path.read_bytes())
        path.unlink()
    return out


def _exif_segment(i: int) -> bytes:
    exif = Image.Exif()
    when = f"2021:{1 + i % 12:02}:{1 + i % 28:02} {i % 24:02}:{i % 60:02}:00"
    exif[0x0132] = when
    exif.get_ifd(0x8769)[0x9003] = when
    gps = exif.get_ifd(0x8825)
    lat, lon = 40 + (i % 100) / 50, -3 + (i % 70) / 40
    gps[1], gps[3] = "N", "E" if lon >= 0 else "W"
    gps[2] = (IFDRational(int(lat), 1), IFDRational(int(lat % 1 * 60), 1), IFDRational(0, 1))
    gps[4] = (IFDRational(int(abs(lon)), 1), IFDRational(int(abs(lon) % 1 * 60), 1),
              IFDRational(0, 1))
    data = exif.tobytes()
    return b"\xff\xe1" + (len(data) + 2).to_bytes(2, "big") + data


def make_corpus(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    bodies = _bodies()
    paths = []
    for i in range(n):
        body = bodies[i % len(bodies)]
        path = folder / f"{i // 250:02}" / f"IMG_{i:05}.jpg"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(body[:2] + _exif_segment(i) + body[2:])  # SOI + EXIF + the rest
        paths.append(path)
    return paths


def _thumb_full_decode(path: Path, out: Path) -> None:
    with Image.open(path) as img:
        img = ImageOps.exif_transpose(img.convert("RGB"))
        img.thumbnail((256, 256))
        img.save(out, quality=85)


def bench_thumbnails(paths: list[Path], workdir: Path, repeats: int = 40) -> dict:
    from tagassist.media.hashing import content_hash
    from tagassist.media.thumbnails import make_thumbnail

    sample = paths[:repeats]
    draft, full = [], []
    for i, path in enumerate(sample):
        digest = content_hash(path)
        t = time.perf_counter()
        make_thumbnail(path, workdir / "thumbs-draft", digest)
        draft.append(time.perf_counter() - t)
        t = time.perf_counter()
        _thumb_full_decode(path, workdir / f"full{i}.jpg")
        full.append(time.perf_counter() - t)
    d, f = statistics.median(draft) * 1e3, statistics.median(full) * 1e3
    return {"thumbnail_ms_median": round(d, 2), "full_decode_thumbnail_ms_median": round(f, 2),
            "speedup_vs_full_decode": round(f / d, 2)}


# The child reports its own peak (VmHWM of its post-exec address space): getrusage's
# RUSAGE_CHILDREN ru_maxrss also counts the parent's RSS at fork time (Linux keeps the pre-exec
# high-water mark), which made this benchmark report 1.4 GB for an import that peaks at 0.2 GB.
_CHILD = """
import atexit, os, sys
from tagassist.cli import main
def _peak():
    with open("/proc/self/status") as f:
        kb = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    with open(os.environ["BENCH_PEAK_FILE"], "w") as f:
        f.write(kb)
atexit.register(_peak)
sys.exit(main())
"""


def bench_import(folder: Path, workdir: Path) -> dict:
    from tagassist.media.hashing import content_hash

    files = sorted(folder.rglob("*.jpg"))
    t = time.perf_counter()
    for path in files:
        content_hash(path)
    hash_s = time.perf_counter() - t

    peak_file = workdir / "peak_kb"
    env = dict(os.environ, TAGASSIST_CACHE_DIR=str(workdir / "cache"),
               BENCH_PEAK_FILE=str(peak_file))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, "import", str(folder), "--json",
                           "--library", str(workdir / "lib"), "--user", "bench"],
                          capture_output=True, text=True, env=env)
    import_s = time.perf_counter() - t
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    peak_mib = int(peak_file.read_text()) / 1024
    return {"files": len(files), "imported": report["added"], "problems": len(report["problems"]),
            "import_s": round(import_s, 1), "files_per_s": round(len(files) / import_s, 1),
            "hash_only_s": round(hash_s, 1), "import_vs_hash_only": round(import_s / hash_s, 2),
            "peak_rss_mib": round(peak_mib, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=2000)
    ap.add_argument("--keep", type=Path, help="generate into (and keep) this folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = args.keep or work / "photos"
        t = time.perf_counter()
        paths = make_corpus(folder, args.n)
        print(f"generated {len(paths)} 12 MP JPEGs in {time.perf_counter() - t:.0f} s",
              file=sys.stderr)
        result = {"thumbnails": bench_thumbnails(paths, work), "import": bench_import(folder, work)}
    print(json.dumps(result, indent=1))


def test_import_benchmark_small(tmp_path):
    """A 40-file run so the benchmark itself stays working (`pytest tests/bench -s`)."""
    paths = make_corpus(tmp_path / "photos", 40)
    print(bench_thumbnails(paths, tmp_path, repeats=10))
    result = bench_import(tmp_path / "photos", tmp_path)
    print(result)
    assert result["imported"] == 40 and result["problems"] == 0


if __name__ == "__main__":
    main()
