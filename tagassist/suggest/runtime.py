"""Load one exported model folder (metadata.json + model.onnx) and run it with onnxruntime.

The app's only way to run a neural network: no torch here.  Everything that can be wrong with
a model folder -- missing, half-written, corrupt, a checksum or input signature that does not
match its metadata, a graph that breaks the export's contract (inputs, outputs, opset), an ONNX
file onnxruntime cannot load -- surfaces as one ``ModelLoadError`` with a sentence a user can
act on, never as an onnxruntime traceback.  A folder whose metadata has no ``contract`` (built
by an older exporter) still loads; setup rebuilds it.

Providers: CUDA first when onnxruntime offers it, then CPU (``TAGASSIST_DEVICE=cpu``: the CPU
only).  onnxruntime-gpu lists CUDA even on machines without the CUDA libraries and logs an
error line when it falls back; the session is therefore created with onnxruntime's logger
silenced, the fallback is remembered (later models do not retry CUDA) with its reason, and
``device`` reports what the session really uses.  A provider list that fails to create a
session is retried on the CPU; a run that fails on the GPU (out of memory) moves that model's
session to the CPU and runs again.  Each model's device and the reason for a fallback go to
:mod:`tagassist.suggest.device`, which the Settings dialog reads (docs/gpu.md).

Nothing leaves the machine: onnxruntime (this build) carries Microsoft's 1DS telemetry, which
on import writes a device id and an event store under ``$XDG_CACHE_HOME/Microsoft`` and about
ten seconds later starts uploading to mobile.events.data.microsoft.com (DNS queries, then
HTTPS).  ``ORT_DISABLE_TELEMETRY=1`` is read once, when onnxruntime is imported, so this module
sets it before its import; ``ort.disable_telemetry_events()`` after the import does not stop
the upload (measured with strace).  ``python -m trainer.personal`` sets it too.

The metadata is sealed: the exporter writes ``contract_sha256`` (:func:`contract_checksum`),
a checksum over every entry of metadata.json that changes what the model does -- inputs,
outputs, opset, preprocessing, the checksums of model.onnx and the side files, parity, tag and
user lists, calibration ... -- so an edited entry (a changed mean in ``preprocessing``) makes
the folder refuse to load instead of changing suggestions silently.  Left out: the checksum
itself, ``version`` (a personal model's published name, written after its export) and
``contract`` (a declaration checked against the graph at every load; folders without one
still load).  A folder without ``contract_sha256`` was built before the seal and is refused
with the command that rebuilds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Before onnxruntime is imported: its telemetry reads this once, at import (module docstring).
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import onnxruntime as ort

from tagassist.suggest import device as devices
from tagassist.suggest.contract import mismatches, parity_within
from tagassist.suggest.onnx_opset import default_opset

METADATA = "metadata.json"
MODEL = "model.onnx"
CUDA, CPU = "CUDAExecutionProvider", "CPUExecutionProvider"
REBUILD_HINT = "rebuild it with: python -m trainer.export --force"
CONTRACT_SHA256 = "contract_sha256"
# metadata.json entries outside the seal (module docstring): the seal itself, the name a
# personal model is published under (trainer/personal/publish.py writes it after the export)
# and the contract, which every load checks against the graph itself.
UNSEALED = frozenset({CONTRACT_SHA256, "version", "contract"})
PERSONAL_KIND = "personal-content"  # metadata "kind" of a personal model (trainer.export.personal)

# ONNX tensor type -> numpy dtype name, for the types our models use.
_ORT_TYPES = {"tensor(float)": "float32", "tensor(int64)": "int64", "tensor(int32)": "int32",
              "tensor(float16)": "float16"}
_cuda_failed = False  # CUDA listed but its libraries did not load: do not try again
_cuda_reason = ""  # why it did not start, reported for every later model on the CPU
_cuda_preloaded = False  # the gpu extra's CUDA libraries were looked for (once a process)
CAPI_DIR = Path(ort.__file__).parent / "capi"  # onnxruntime's own libraries
_ORT_PREFIX = re.compile(r"^\s*\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*")
# "/onnxruntime_src/...cc:729 void f(A&, const B&) " before the sentence of a C++ exception
_ORT_SOURCE = re.compile(r"^\S+\.(?:cc|cpp|h):\d+\s+(?:[^()]*\((?:[^()]|\([^()]*\))*\)\s*"
                         r"(?:const\s*)?)?")


class ModelLoadError(Exception):
    """A model folder cannot be used; the message says which and why, for a human."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class ModelRunError(RuntimeError):
    """onnxruntime rejected a run (wrong inputs, out of memory); the message says which."""


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def contract_checksum(meta: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the sealed entries of a
    model's metadata: every entry but :data:`UNSEALED`.  The exporter stores it as
    ``contract_sha256``; :class:`OnnxModel` refuses a folder whose entries no longer give it."""
    sealed = {k: v for k, v in meta.items() if k not in UNSEALED}
    # through JSON first: what the exporter holds (tuples, numpy floats) hashes as it reads back
    canonical = json.dumps(json.loads(json.dumps(sealed)), sort_keys=True,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def read_metadata(model_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """metadata.json of a model folder, checked for the keys the runtime relies on."""
    folder = Path(model_dir)
    if not folder.is_dir():
        raise ModelLoadError(f"model folder not found: {folder} ({REBUILD_HINT})")
    path = folder / METADATA
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"{path} is missing: the model was never built or its export "
                             f"was interrupted ({REBUILD_HINT})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelLoadError(f"{path} is unreadable: {e}") from None
    if not isinstance(meta, dict):
        raise ModelLoadError(f"{path} is not a JSON object")
    for key in ("name", "sha256", "inputs", "outputs"):
        if key not in meta:
            raise ModelLoadError(f"{path} lacks the '{key}' entry ({REBUILD_HINT})")
    return meta


def choose_providers() -> list[str]:
    """CUDA then CPU when this onnxruntime offers CUDA (and it has not failed to load, and
    ``TAGASSIST_DEVICE=cpu`` does not force the CPU)."""
    if devices.cpu_forced():
        return [CPU]
    available = ort.get_available_providers()
    return [CUDA, CPU] if CUDA in available and not _cuda_failed else [CPU]


def cpu_reason() -> str:
    """Why :func:`choose_providers` leaves CUDA out; empty when it offers CUDA."""
    if devices.cpu_forced():
        return devices.forced_reason()
    if CUDA not in ort.get_available_providers():
        return "CUDA unavailable: this onnxruntime has no CUDA provider (onnxruntime-gpu has)"
    if _cuda_failed:
        return _cuda_reason or "CUDA did not start"
    return ""


def planned_device() -> str:
    """Where models loaded now would run, without loading one (cheap: no library probing)."""
    why = cpu_reason()
    return f"{devices.CPU_DEVICE} — {why}" if why else "CUDA if the GPU works, else CPU"


def _preload_cuda_libraries() -> None:
    """Load the CUDA and cuDNN libraries of the ``gpu`` extra's nvidia-* wheels, once.

    onnxruntime's CUDA provider has no RPATH to site-packages/nvidia: without this it finds
    them only on LD_LIBRARY_PATH.  ``ort.preload_dlls`` prints what it cannot find (and may
    warn); the fallback reason says it instead, so its stdout and warnings are dropped."""
    global _cuda_preloaded
    if _cuda_preloaded:
        return
    _cuda_preloaded = True
    preload = getattr(ort, "preload_dlls", None)  # onnxruntime-gpu >= 1.21
    if preload is None:
        return
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.suppress(Exception):  # what is missing is found by the reason probe
            preload()


@contextlib.contextmanager
def _quiet_onnxruntime() -> Iterator[None]:
    """Silence onnxruntime's global logger, even its error lines (the CUDA fallback)."""
    ort.set_default_logger_severity(4)
    try:
        yield
    finally:
        ort.set_default_logger_severity(3)  # errors only: warnings are noise for users


def _ort_message(e: BaseException) -> str:
    """First line of an onnxruntime error, without its '[ONNXRuntimeError] : 7 : CODE :'."""
    lines = str(e).strip().splitlines()
    text = _ORT_PREFIX.sub("", lines[0]) if lines else ""
    return (text or type(e).__name__)[:200]


def _reason_text(e: BaseException) -> str:
    """An onnxruntime error as a reason a user can read: its sentence, without the C++
    source location and signature in front of it."""
    lines = str(e).strip().splitlines()
    text = _ORT_SOURCE.sub("", _ORT_PREFIX.sub("", lines[0])) if lines else ""
    return (text or type(e).__name__)[:200]


def _shape_text(shape: Sequence[Any]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _same_dims(actual: Sequence[Any], expected: Sequence[Any]) -> bool:
    """Fixed dims must be equal; a symbolic one (a name in metadata) must be dynamic."""
    if len(actual) != len(expected):
        return False
    for a, e in zip(actual, expected, strict=True):
        if isinstance(e, int) and a != e:
            return False
        if isinstance(e, str) and isinstance(a, int):
            return False
    return True


def _described(tensors: Sequence[Any]) -> list[dict[str, Any]]:
    """The NodeArgs of onnxruntime in metadata's form: {name, dtype, shape}."""
    return [{"name": t.name, "dtype": _ORT_TYPES.get(t.type, t.type), "shape": t.shape}
            for t in tensors]


class OnnxModel:
    """A verified, warmed-up onnxruntime session over one exported model folder."""

    def __init__(self, model_dir: str | os.PathLike[str], *,
                 providers: Sequence[str] | None = None, warmup: bool = True) -> None:
        self.dir = Path(model_dir)
        self.metadata = read_metadata(self.dir)
        self.name: str = str(self.metadata["name"])
        self.path = self.dir / MODEL
        self._why_cpu = ""  # why the CPU runs instead of CUDA (set with the session)
        self._verify()
        # From the path, not the verified bytes: handing onnxruntime an 88 MB ``bytes`` copies
        # it into a std::string with the GIL held (100 ms, which stalled the window's event
        # loop).  The file is checked just before; the window between is ours alone.
        self.session = self._create_session(str(self.path), providers)
        self._check_signature()
        self._check_contract()
        self._check_seal()
        if warmup:
            try:
                self.run(self._dummy_feeds())
            except ModelRunError as e:
                raise ModelLoadError(f"model {self.name}: warm-up run failed: {e}") from None
        self._record()

    @property
    def device(self) -> str:
        """'CUDA' or 'CPU': where this session really runs."""
        return "CUDA" if self.session.get_providers()[0] == CUDA else "CPU"

    @property
    def device_reason(self) -> str:
        """Why this model runs on the CPU although CUDA would have been used ('' on CUDA)."""
        return "" if self.device == "CUDA" else self._why_cpu

    def move_to_cpu(self, reason: str) -> None:
        """Re-create this model's session on the CPU (after CUDA failed it), saying why."""
        self.session = self._new_session(str(self.path), [CPU])
        self._why_cpu = reason
        self._record()

    def _record(self) -> None:
        devices.record(devices.DeviceChoice(self.name, self.device, self.device_reason))

    @property
    def input_names(self) -> list[str]:
        return [i["name"] for i in self.metadata["inputs"]]

    @property
    def output_names(self) -> list[str]:
        return [o["name"] for o in self.metadata["outputs"]]

    def file(self, name: str) -> Path:
        """A file shipped beside the model (tokenizer.json, classes.json), checksum-verified."""
        return self.dir / name

    def run(self, feeds: Mapping[str, np.ndarray], outputs: Sequence[str] | None = None
            ) -> dict[str, np.ndarray]:
        """Run the model; returns {output name: array}.  Raises ModelRunError."""
        missing = set(self.input_names) - set(feeds)
        if missing:
            raise ModelRunError(f"model {self.name}: missing inputs {sorted(missing)}")
        names = list(outputs or self.output_names)
        inputs = {k: feeds[k] for k in self.input_names}
        try:
            values = self.session.run(names, inputs)
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
            if self.device != "CUDA" or not devices.is_cuda_run_failure(e):
                raise ModelRunError(f"model {self.name}: {_ort_message(e)}") from e
            try:
                self.move_to_cpu(devices.run_failure_reason(e, _ort_message(e)))
                values = self.session.run(names, inputs)
            except Exception as again:  # noqa: BLE001
                raise ModelRunError(f"model {self.name}: {_ort_message(again)}") from again
        return dict(zip(names, values, strict=True))

    # -- loading ---------------------------------------------------------------------------

    def _verify(self) -> None:
        try:
            actual = sha256_file(self.path)
        except FileNotFoundError:
            raise ModelLoadError(f"{self.path} is missing ({REBUILD_HINT})") from None
        except OSError as e:
            raise ModelLoadError(f"{self.path} is unreadable: {e.strerror or e}") from None
        expected = str(self.metadata["sha256"])
        if actual != expected:
            raise ModelLoadError(
                f"{self.path} does not match its metadata.json (sha256 {actual[:12]}..., "
                f"expected {expected[:12]}...): the file is corrupt or was replaced "
                f"({REBUILD_HINT})")
        for name, digest in dict(self.metadata.get("files", {})).items():
            extra = self.dir / name
            if not extra.is_file():
                raise ModelLoadError(f"{extra} is missing ({REBUILD_HINT})")
            if sha256_file(extra) != digest:
                raise ModelLoadError(f"{extra} does not match its metadata.json checksum: "
                                     f"corrupt or replaced ({REBUILD_HINT})")

    def _create_session(self, model: str, providers: Sequence[str] | None
                        ) -> ort.InferenceSession:
        """A session on the providers asked for (default :func:`choose_providers`); on the CPU,
        with the reason kept in ``_why_cpu``, when they are not offered, fail to create a
        session, or onnxruntime drops CUDA silently (its libraries missing)."""
        global _cuda_failed, _cuda_reason
        wanted = list(providers) if providers is not None else choose_providers()
        self._why_cpu = cpu_reason() if providers is None else ""
        if devices.cpu_forced():  # over providers asked for too: "force" means every model
            wanted, self._why_cpu = [CPU], devices.forced_reason()
        offered = ort.get_available_providers()
        unknown = [p for p in wanted if p not in offered]
        if unknown:  # passed on, they would only make onnxruntime warn and fail
            wanted = [p for p in wanted if p in offered] or [CPU]
            self._why_cpu = f"{', '.join(unknown)} not offered by this onnxruntime"
        if CUDA in wanted:
            _preload_cuda_libraries()
        try:
            session = self._new_session(model, wanted)
        except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
            if wanted == [CPU]:
                raise self._unloadable(e) from None
            try:
                session = self._new_session(model, [CPU])
            except Exception as on_cpu:  # noqa: BLE001 - the file itself is unusable
                raise self._unloadable(on_cpu) from None
            self._why_cpu = f"{wanted[0]} failed to create a session: {_reason_text(e)}"
            if wanted[0] == CUDA:
                _cuda_failed, _cuda_reason = True, self._why_cpu
            return session
        if CUDA in wanted and CUDA not in session.get_providers():
            self._why_cpu = devices.cuda_unavailable_reason(CAPI_DIR)
            _cuda_failed, _cuda_reason = True, self._why_cpu
        return session

    @staticmethod
    def _new_session(model: str, providers: Sequence[str]) -> ort.InferenceSession:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        # Idle pool threads sleep instead of spinning: spinning took the CPU the window's
        # UI thread needed on 2 cores (heartbeat gaps while featurizing).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        with _quiet_onnxruntime():
            # enable_fallback=0: onnxruntime's own fallback prints to stdout and hides why;
            # _create_session falls back to the CPU itself and keeps the reason.
            return ort.InferenceSession(model, sess_options=options, providers=list(providers),
                                        enable_fallback=0)

    def _unloadable(self, error: BaseException) -> ModelLoadError:
        return ModelLoadError(f"{self.path} is not a model onnxruntime can load "
                              f"({_ort_message(error)}) ({REBUILD_HINT})")

    def _check_signature(self) -> None:
        for kind, declared, actual in (
            ("input", self.metadata["inputs"], self.session.get_inputs()),
            ("output", self.metadata["outputs"], self.session.get_outputs()),
        ):
            want = [d["name"] for d in declared]
            have = [a.name for a in actual]
            if sorted(want) != sorted(have):
                raise ModelLoadError(f"{self.path} has {kind}s {have} but metadata.json "
                                     f"declares {want} ({REBUILD_HINT})")
            by_name = {a.name: a for a in actual}
            for d in declared:
                a = by_name[d["name"]]
                dtype = _ORT_TYPES.get(a.type, a.type)
                if dtype != d.get("dtype") or not _same_dims(a.shape, d.get("shape", [])):
                    raise ModelLoadError(
                        f"{self.path}: {kind} '{a.name}' is {dtype} {_shape_text(a.shape)} but "
                        f"metadata.json says {d.get('dtype')} {_shape_text(d.get('shape', []))}"
                        f" ({REBUILD_HINT})")

    def _check_contract(self) -> None:
        """The session keeps the exporter's contract: same inputs in order, outputs, opset."""
        contract = self.metadata.get("contract")
        if contract is None:  # an older export: the signature check above is all there is
            return
        where = f"model folder {self.dir}"
        try:
            opset = default_opset(self.path)
        except (OSError, ValueError) as e:
            raise ModelLoadError(f"{where}: cannot read the opset of {MODEL} ({e}) "
                                 f"({REBUILD_HINT})") from None
        inputs, outputs = (_described(self.session.get_inputs()),
                           _described(self.session.get_outputs()))
        try:
            problems = mismatches(contract, inputs, outputs, opset)
            if not parity_within(self.metadata):
                problems.append("its recorded parity exceeds the contract's tolerance")
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ModelLoadError(f"{where}: the contract in {METADATA} is malformed ({e!r}) "
                                 f"({REBUILD_HINT})") from None
        if problems:
            raise ModelLoadError(f"{where}: {MODEL} breaks the contract in {METADATA}: "
                                 f"{'; '.join(problems)} ({REBUILD_HINT})")

    def _check_seal(self) -> None:
        """metadata.json is as exported: its sealed entries still give ``contract_sha256``.

        Checked after the file, signature and contract checks, whose messages say more when
        one of those is what changed."""
        where = f"model folder {self.dir}"
        expected = self.metadata.get(CONTRACT_SHA256)
        if self.metadata.get("kind") == PERSONAL_KIND:
            hint = "train it again: tagassist train"
        else:
            hint = "rebuild the models: bash scripts/setup.sh"
        if expected is None:
            raise ModelLoadError(f"{where}: {METADATA} has no {CONTRACT_SHA256} (it was "
                                 f"exported before metadata was sealed); {hint}")
        actual = contract_checksum(self.metadata)
        if actual != expected:
            raise ModelLoadError(
                f"{where}: {METADATA} was changed after export: its entries (preprocessing, "
                f"inputs, outputs, checksums ...) no longer match its {CONTRACT_SHA256} "
                f"({actual[:12]}..., expected {str(expected)[:12]}...); {hint}")

    def _dummy_feeds(self) -> dict[str, np.ndarray]:
        """One small all-ones input per declared input (symbolic dims -> 1 or 8)."""
        feeds = {}
        for d in self.metadata["inputs"]:
            shape = [dim if isinstance(dim, int) else (1 if i == 0 else 8)
                     for i, dim in enumerate(d["shape"])]
            feeds[d["name"]] = np.ones(shape, dtype=np.dtype(d["dtype"]))
        return feeds
