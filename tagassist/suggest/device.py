"""Where the models run (CUDA or the CPU) and, when the CPU runs instead of CUDA, why.

:mod:`tagassist.suggest.runtime` records every session it creates here (:func:`record`); the
Settings dialog shows :func:`device_summary` of :func:`device_report` in one line, e.g.
``CPU — CUDA unavailable: libcublasLt.so.13 not found``.  A model is reported on CUDA only when
its session's first provider is CUDA's.

Why CUDA did not start is found by loading onnxruntime's CUDA provider library the way
onnxruntime does (:func:`cuda_unavailable_reason`): onnxruntime logs that error instead of
raising it, and the log is silenced for users.  Setting ``TAGASSIST_DEVICE=cpu`` keeps every
model on the CPU (docs/gpu.md).  No onnxruntime import here (runtime.py imports it after
switching its telemetry off).
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DEVICE_ENV = "TAGASSIST_DEVICE"  # "cpu": never try CUDA; unset or anything else: CUDA if it works
CUDA_DEVICE, CPU_DEVICE = "CUDA", "CPU"
PROVIDER_LIBRARY = "libonnxruntime_providers_cuda.so"
# dlopen's "libcublasLt.so.13: cannot open shared object file: No such file or directory"
_NOT_FOUND = re.compile(r"([\w.+-]+\.so[\w.]*): cannot open shared object file")
# What CUDA, cuDNN, cuBLAS and onnxruntime's arena say when a run fails on the GPU: such a run
# is retried on the CPU; any other error (a wrong input) would fail there too.
_CUDA_RUN_FAILURE = re.compile(
    r"out of memory|CUDA failure|CUDA error|CUDNN failure|CUBLAS failure|cudaError"
    r"|Failed to allocate memory", re.IGNORECASE)
_OUT_OF_MEMORY = re.compile(r"out of memory|Failed to allocate memory", re.IGNORECASE)
# cuInit results worth a sentence (CUresult values of the driver API)
_DRIVER_ERRORS = {100: "no CUDA GPU found", 35: "the NVIDIA driver is too old for this CUDA",
                  804: "the NVIDIA driver does not support this CUDA (forward compatibility)",
                  999: "the NVIDIA driver reports an unknown error"}


@dataclass(frozen=True)
class DeviceChoice:
    """Where one model's session runs.

    ``reason`` says why the CPU runs although this process would have used CUDA (missing
    libraries, no GPU, a session that failed on CUDA, CUDA out of memory, the CPU forced); it is
    empty when the session runs on CUDA or its caller asked for the CPU."""

    model: str
    device: str  # CUDA_DEVICE or CPU_DEVICE: the session's first provider
    reason: str = ""


_lock = threading.Lock()
_choices: dict[str, DeviceChoice] = {}


def cpu_forced() -> bool:
    return os.environ.get(DEVICE_ENV, "").strip().lower() == "cpu"


def forced_reason() -> str:
    return f"forced by {DEVICE_ENV}=cpu"


def record(choice: DeviceChoice) -> None:
    """Remember where a model runs (the latest session of a model name wins)."""
    with _lock:
        _choices[choice.model] = choice


def device_report() -> dict[str, DeviceChoice]:
    """Model name -> where its latest session runs, for every model this process loaded."""
    with _lock:
        return dict(_choices)


def device_summary(choices: Iterable[DeviceChoice]) -> str:
    """One line: "CUDA", "CPU", "CPU — why not CUDA" or "CUDA and CPU — which models on the
    CPU and why"; empty when there is no model."""
    choices = list(choices)
    on_cpu = [c for c in choices if c.device != CUDA_DEVICE]
    if not on_cpu:
        return CUDA_DEVICE if choices else ""
    reasons: dict[str, list[str]] = {}
    for c in sorted(on_cpu, key=lambda c: c.model):
        reasons.setdefault(c.reason, []).append(c.model)
    if len(on_cpu) == len(choices):
        why = "; ".join(r for r in reasons if r)
        return f"{CPU_DEVICE} — {why}" if why else CPU_DEVICE
    parts = [f"{', '.join(models)} on the CPU" + (f": {r}" if r else "")
             for r, models in reasons.items()]
    return f"{CUDA_DEVICE} and {CPU_DEVICE} — " + "; ".join(parts)


def is_cuda_run_failure(error: BaseException | str) -> bool:
    """A run that failed because of the GPU (out of memory, a CUDA/cuDNN/cuBLAS error)."""
    return bool(_CUDA_RUN_FAILURE.search(str(error)))


def run_failure_reason(error: BaseException | str, first_line: str) -> str:
    if _OUT_OF_MEMORY.search(str(error)):
        return "CUDA ran out of GPU memory; moved to the CPU"
    return f"CUDA failed while running ({first_line}); moved to the CPU"


def cuda_unavailable_reason(capi_dir: Path) -> str:
    """Why onnxruntime's CUDA provider did not start in this process, as a short sentence.

    Loads what the provider loads, in its order: its library (and through it cuBLAS, cudart,
    cuRAND and the driver's libcuda), then cuDNN, then asks the driver for a GPU."""
    if not sys.platform.startswith("linux"):
        return "CUDA did not start (onnxruntime's log says why)"
    library = capi_dir / PROVIDER_LIBRARY
    if not library.is_file():
        return "CUDA unavailable: this onnxruntime has no CUDA provider library"
    for name in (str(library), "libcudnn.so.9"):
        try:
            ctypes.CDLL(name)
        except OSError as e:
            return f"CUDA unavailable: {_load_error(e)}"
    return _driver_reason()


def _load_error(error: OSError) -> str:
    missing = _NOT_FOUND.search(str(error))
    if missing is None:
        return str(error)[:200]
    name = missing.group(1)
    return f"{name} not found" + (" (no NVIDIA driver)" if name.startswith("libcuda.") else "")


def _driver_reason() -> str:
    """The libraries load; does the driver see a GPU (cuInit, cuDeviceGetCount)?"""
    try:
        driver = ctypes.CDLL("libcuda.so.1")
        status = driver.cuInit(0)
        count = ctypes.c_int(0)
        if status == 0:
            status = driver.cuDeviceGetCount(ctypes.byref(count))
    except (OSError, AttributeError) as e:
        return f"CUDA unavailable: {str(e)[:200]}"
    if status != 0:
        return f"CUDA unavailable: {_DRIVER_ERRORS.get(status, f'driver error {status}')}"
    if count.value == 0:
        return "CUDA unavailable: no CUDA GPU found"
    return (f"CUDA did not start although the driver sees {count.value} GPU(s) "
            "(onnxruntime's log says why)")
