"""Nothing leaves the machine: the real ``tagassist`` commands open no network socket.

Each command runs as its own process under ``strace -f -e trace=network`` (children too: ``train``
starts ``python -m trainer.personal``), on a real library of sample photos; the trace is parsed
and any ``socket()`` of a family other than AF_UNIX fails the test (AF_INET/AF_INET6 is the
network; AF_NETLINK comes from glibc's getaddrinfo, i.e. a DNS lookup on its way).

Issue 20: onnxruntime's telemetry (Microsoft 1DS, inside its shared library) wrote a device id
and an event store under ``$XDG_CACHE_HOME/Microsoft`` in every process that imported it, and
about ten seconds later sent DNS queries for mobile.events.data.microsoft.com: in ``train
--full``'s child, and in any process that lives that long (the window).  The shorter commands
ended before the upload, so the store is checked too: it shows the telemetry was on even where
the process ended in time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tagassist.library import Library
from tagassist.paths import sample_library_dir
from tests.suggest.conftest import models_dir  # noqa: F401 - the built default models

STRACE = shutil.which("strace")
pytestmark = pytest.mark.skipif(STRACE is None,
                                reason="strace is not installed (apt-get install strace)")

FOLDERS = ("2018-montreal", "2019-spring-berkeley", "2021-kennedy-space-center")
TAGS = {"2018-montreal": ["montreal", "stairs"], "2019-spring-berkeley": ["berkeley", "animals"],
        "2021-kennedy-space-center": ["space", "nasa"]}
USER = "ann"
# "1234 socket(AF_INET6, SOCK_DGRAM, IPPROTO_IP) = 13" (or "... <unfinished ...>")
SOCKET = re.compile(r"^(\d+\s+)?socket\((\w+),")
CONNECT = re.compile(r"^(\d+\s+)?connect\(\d+, \{sa_family=(\w+)")
LOCAL = {"AF_UNIX", "AF_LOCAL", "PF_UNIX", "PF_LOCAL"}


def network_calls(trace: Path) -> tuple[list[str], set[str]]:
    """(the socket()/connect() lines of a family other than AF_UNIX, every family seen)."""
    bad, families = [], set()
    for line in trace.read_text(errors="replace").splitlines():
        m = SOCKET.match(line) or CONNECT.match(line)
        if m is None:
            continue
        families.add(m.group(2))
        if m.group(2) not in LOCAL:
            bad.append(line.strip())
    return bad, families


def traced(tmp: Path, name: str, argv: list[str], env: dict[str, str], timeout: int = 300
           ) -> subprocess.CompletedProcess:
    """Run ``argv`` under ``strace -f -e trace=network``; fail on any non-AF_UNIX socket."""
    trace = tmp / f"{name}.trace"
    proc = subprocess.run([STRACE, "-f", "-qq", "-e", "trace=network", "-o", str(trace), *argv],
                          capture_output=True, text=True, timeout=timeout, env=env)
    assert trace.is_file(), f"strace wrote no trace for {name}: {proc.stderr[-2000:]}"
    assert proc.returncode == 0, f"{name} failed ({proc.returncode}): {proc.stderr[-2000:]}"
    bad, families = network_calls(trace)
    assert not bad, (f"`{name}` opened network sockets (families seen: {sorted(families)}):\n"
                     + "\n".join(bad[:20]))
    return proc


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tagassist", *args]


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """The test's environment (conftest's private user dirs) with its own cache folder, where
    onnxruntime's telemetry would put its store."""
    return dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "xdg-cache"))


def telemetry_store(env: dict[str, str]) -> list[str]:
    root = Path(env["XDG_CACHE_HOME"]) / "Microsoft"
    return sorted(str(p) for p in root.rglob("*")) if root.exists() else []


@pytest.mark.slow
def test_import_featurize_suggest_and_train_open_no_network_socket(models_dir, tmp_path,  # noqa: F811
                                                                   env):
    photos = tmp_path / "photos"
    for folder in FOLDERS:
        shutil.copytree(sample_library_dir() / folder, photos / folder)
    lib = tmp_path / "lib"
    common = ["--library", str(lib), "--user", USER, "--json"]

    report = json.loads(traced(tmp_path, "import", cli("import", str(photos), *common),
                               env).stdout)
    assert report["added"] >= 15 and not report["problems"]
    with Library.open(lib / "tagassist.db") as library:  # >= 10 tagged photos to train on
        user = library.users.get_or_create(USER).id
        for folder, tags in TAGS.items():
            ids = [library.items.by_path(p).id
                   for p in sorted((photos / folder).glob("*.jpg"))]
            library.assignments.assign(user, ids[:-1], tags)  # the last one stays untagged

    done = json.loads(traced(tmp_path, "featurize", cli("featurize", *common), env).stdout)
    assert done["photos"] >= 15 and not done["failed"]
    untagged = [str(sorted((photos / f).glob("*.jpg"))[-1]) for f in FOLDERS[:2]]
    rows = json.loads(traced(tmp_path, "suggest", cli("suggest", *untagged, *common),
                             env).stdout)
    assert len(rows) == 2 and all(r["ranked"] for r in rows)
    trained = json.loads(traced(tmp_path, "train --full", cli("train", "--full", *common),
                                env).stdout)
    assert trained["event"] == "done", trained  # the export (torch.onnx, onnxruntime) ran
    assert not telemetry_store(env), ("onnxruntime's telemetry wrote its store: "
                                      f"{telemetry_store(env)}")


@pytest.mark.slow
def test_a_process_that_keeps_the_models_loaded_stays_offline(models_dir, tmp_path,  # noqa: F811
                                                              env):
    """The window lives long: the telemetry's upload came ~10 s after onnxruntime loaded."""
    code = ("import sys, time; from tagassist.suggest.featurize import Models; "
            "m = Models(sys.argv[1], strict=True); m.text.encode(['a cat']); time.sleep(15)")
    traced(tmp_path, "models kept loaded", [sys.executable, "-c", code, str(models_dir)], env)
    assert not telemetry_store(env), ("onnxruntime's telemetry wrote its store: "
                                      f"{telemetry_store(env)}")
