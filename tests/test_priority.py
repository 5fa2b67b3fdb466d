"""Background work runs below the window (tagassist.priority): the helpers and the decode
workers.  The window's own job threads: tests/ui/test_jobs.py."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from tagassist.priority import BACKGROUND_NICE, MAX_NICE, lower_this_thread

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice: Linux")


def _nice_of(pid_or_tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, pid_or_tid)


def _process_at(start_increment: int) -> int:
    """The nice a child ends at: started ``start_increment`` below us, then lowered."""
    code = ("import os; from tagassist.priority import at_background_priority; "
            "at_background_priority(); print(os.getpriority(os.PRIO_PROCESS, 0))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, preexec_fn=lambda: os.nice(start_increment))
    return int(out.stdout)


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no nice values here")
def test_a_background_process_is_at_nice_10_at_least_never_pushed_further():
    base = _nice_of(0)
    assert _process_at(0) == max(base, BACKGROUND_NICE)
    # A child of an already lowered thread inherits its nice: it stays there, not at 19.
    assert _process_at(BACKGROUND_NICE - base if base < BACKGROUND_NICE else 0) == max(
        base, BACKGROUND_NICE)
    assert _process_at(15 - base if base < 15 else 0) == max(base, 15)


@linux
def test_lowering_a_thread_leaves_the_others_alone():
    seen: dict[str, int | bool] = {}

    def body() -> None:
        seen["lowered"] = lower_this_thread()
        seen["nice"] = _nice_of(threading.get_native_id())
        seen["again"] = lower_this_thread()  # idempotent: not another ten
        seen["after"] = _nice_of(threading.get_native_id())

    before = _nice_of(threading.get_native_id())
    t = threading.Thread(target=body)
    t.start()
    t.join()
    want = min(MAX_NICE, _nice_of(os.getpid()) + BACKGROUND_NICE)
    assert seen == {"lowered": True, "nice": want, "again": True, "after": want}
    assert _nice_of(threading.get_native_id()) == before


@linux
def test_decode_workers_started_from_a_background_thread_stay_at_nice_10(tmp_path):
    from PIL import Image

    from tagassist.media.preprocess import Preprocessing
    from tagassist.suggest.decode_pool import PhotoDecoder

    if os.cpu_count() == 1:
        pytest.skip("the pool needs 2 CPUs")
    photo = tmp_path / "a.jpg"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(photo)
    spec = Preprocessing(32, 36, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 36)
    seen: dict[str, object] = {}

    def body() -> None:
        lower_this_thread()
        with PhotoDecoder[int](spec, 1, workers=2, min_pooled=1) as pool:
            seen["pooled"] = pool.pooled
            seen["workers"] = [_nice_of(pid) for pid in pool.worker_pids()]
            seen["decoded"] = [crop.shape for batch in pool.decode([[(0, str(photo))]])
                               for _, _, crop in batch]

    t = threading.Thread(target=body)
    t.start()
    t.join()
    want = max(min(MAX_NICE, _nice_of(os.getpid()) + BACKGROUND_NICE), BACKGROUND_NICE)
    assert seen == {"pooled": True, "workers": [want, want], "decoded": [(32, 32, 3)]}
