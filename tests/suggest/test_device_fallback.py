"""Where the models run, and why the CPU when not CUDA (issue 21): real onnxruntime sessions.

This machine has onnxruntime-gpu without the CUDA libraries: CUDA (and TensorRT) are listed
but cannot start, which is the fallback these tests exercise.  On a machine where CUDA works
the CUDA-specific assertions take the other branch or skip, saying so.
"""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import onnxruntime as ort
import pytest

from tagassist.app.suggest_jobs import SuggestEngine
from tagassist.suggest import device as devices
from tagassist.suggest import runtime
from tagassist.suggest.device import DeviceChoice, device_report, device_summary
from tagassist.suggest.runtime import CPU, CUDA, ModelRunError, OnnxModel, choose_providers

TENSORRT = "TensorrtExecutionProvider"


@pytest.fixture(autouse=True)
def _fresh_device_state(monkeypatch):
    """Each test starts as a new process would: nothing recorded, CUDA not yet tried."""
    monkeypatch.setattr(devices, "_choices", {})
    monkeypatch.setattr(runtime, "_cuda_failed", False)
    monkeypatch.setattr(runtime, "_cuda_reason", "")
    monkeypatch.delenv(devices.DEVICE_ENV, raising=False)


def _cuda_offered() -> bool:
    return CUDA in ort.get_available_providers()


def _device_part(line: str) -> str:
    return line.split(" — ")[0]


def test_device_is_the_sessions_first_provider_and_cuda_is_never_claimed(models_dir, capfd):
    model = OnnxModel(models_dir / "image-lite0")
    first = model.session.get_providers()[0]
    assert model.device == ("CUDA" if first == CUDA else "CPU")
    choice = device_report()["image-lite0"]
    assert choice == DeviceChoice("image-lite0", model.device, model.device_reason)
    line = device_summary(device_report().values())
    if first != CUDA:  # this machine: CUDA listed, its libraries missing
        assert _device_part(line) == "CPU" and not line.startswith("CUDA")
        if _cuda_offered():
            assert model.device_reason.startswith("CUDA unavailable: ")
            assert line == f"CPU — {model.device_reason}"
    else:
        assert line == "CUDA" and model.device_reason == ""
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # the fallback is shown in Settings, not printed


def test_missing_cuda_libraries_are_named_and_remembered(models_dir):
    if not _cuda_offered():
        pytest.skip("this onnxruntime offers no CUDA provider")
    first = OnnxModel(models_dir / "image-lite0")
    if first.device == "CUDA":
        pytest.skip("CUDA works on this machine: there is no fallback to explain")
    # onnxruntime logs why its CUDA provider did not load; the reason carries the loader's words
    assert re.fullmatch(r"CUDA unavailable: (\S+\.so[\w.]* not found.*|.+)", first.device_reason)
    assert "onnxruntime_src" not in first.device_reason
    # later models do not try CUDA again, and give the same reason
    assert choose_providers() == [CPU]
    second = OnnxModel(models_dir / "text-minilm")
    assert second.device == "CPU" and second.device_reason == first.device_reason
    assert runtime.planned_device() == f"CPU — {first.device_reason}"


def test_missing_library_reason_on_this_machine(models_dir):
    """The loader's own error on this machine: onnxruntime-gpu built for a CUDA whose cuBLAS is
    not installed (libcublasLt is the first library its CUDA provider needs)."""
    model = OnnxModel(models_dir / "doc-ranker")
    if model.device == "CUDA" or not _cuda_offered():
        pytest.skip("needs onnxruntime-gpu without the CUDA libraries")
    if "libcublasLt" not in model.device_reason:
        pytest.skip(f"another library is what is missing here: {model.device_reason}")
    assert re.fullmatch(r"CUDA unavailable: libcublasLt\.so\.\d+ not found", model.device_reason)


def test_provider_list_that_fails_to_create_falls_back_to_cpu(models_dir, capfd):
    """TensorRT is listed by onnxruntime-gpu but its session cannot be created without the
    TensorRT libraries: onnxruntime raises, the runtime retries on the CPU and says why."""
    if TENSORRT not in ort.get_available_providers():
        pytest.skip("this onnxruntime does not list TensorRT")
    model = OnnxModel(models_dir / "text-minilm", providers=[TENSORRT, CUDA, CPU])
    if model.session.get_providers()[0] == TENSORRT:
        pytest.skip("TensorRT works on this machine")
    assert model.session.get_providers() == [CPU] and model.device == "CPU"
    assert model.device_reason.startswith(f"{TENSORRT} failed to create a session: ")
    assert "onnxruntime_src" not in model.device_reason  # the sentence, not the C++ location
    assert device_report()["text-minilm"].reason == model.device_reason
    assert model.run(model._dummy_feeds())  # the CPU session works
    out, err = capfd.readouterr()
    assert "EP Error" not in out and out == "" and err == ""  # onnxruntime's own fallback prints
    assert runtime._cuda_failed is False  # TensorRT failed, not CUDA: CUDA may still be tried


def test_provider_not_offered_is_dropped_with_its_reason(models_dir, capfd):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # onnxruntime warns about unknown providers
        model = OnnxModel(models_dir / "doc-ranker", providers=["BogusExecutionProvider", CPU])
    assert model.device == "CPU"
    assert model.device_reason == "BogusExecutionProvider not offered by this onnxruntime"
    assert capfd.readouterr() == ("", "")


def test_a_file_that_no_provider_can_load_is_still_a_load_error(image_model_copy):
    """The CPU retry must not hide a broken file behind a device fallback."""
    path = image_model_copy / "model.onnx"
    path.write_bytes(b"not an onnx graph")
    meta_sha = runtime.sha256_file(path)
    meta = json.loads((image_model_copy / "metadata.json").read_text())
    meta["sha256"] = meta_sha
    (image_model_copy / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(runtime.ModelLoadError, match="not a model onnxruntime can load"):
        OnnxModel(image_model_copy, providers=[TENSORRT, CUDA, CPU]
                  if TENSORRT in ort.get_available_providers() else None)
    assert "image-lite0" not in device_report()


@pytest.mark.parametrize("value", ["cpu", "CPU", " cpu "])
def test_cpu_forced_by_environment(models_dir, monkeypatch, value):
    monkeypatch.setenv(devices.DEVICE_ENV, value)
    assert choose_providers() == [CPU]
    assert runtime.planned_device() == "CPU — forced by TAGASSIST_DEVICE=cpu"
    model = OnnxModel(models_dir / "sog-photos")
    assert model.session.get_providers() == [CPU]
    assert model.device_reason == "forced by TAGASSIST_DEVICE=cpu"
    assert device_summary(device_report().values()) == "CPU — forced by TAGASSIST_DEVICE=cpu"


def test_forcing_the_cpu_overrides_providers_asked_for(models_dir, monkeypatch):
    monkeypatch.setenv(devices.DEVICE_ENV, "cpu")
    model = OnnxModel(models_dir / "doc-ranker", providers=[CUDA, CPU])
    assert model.session.get_providers() == [CPU]
    assert model.device_reason == "forced by TAGASSIST_DEVICE=cpu"
    assert runtime._cuda_failed is False  # CUDA was not tried, so it did not fail


def test_other_values_do_not_force_the_cpu(monkeypatch):
    monkeypatch.setenv(devices.DEVICE_ENV, "auto")
    assert not devices.cpu_forced()
    assert choose_providers() == ([CUDA, CPU] if _cuda_offered() else [CPU])


def test_move_to_cpu_re_creates_the_session_and_says_why(models_dir):
    """What a run that ran out of GPU memory does (the trigger needs a GPU; the move does not)."""
    model = OnnxModel(models_dir / "doc-ranker", providers=[CPU])
    before = model.run(model._dummy_feeds())
    old = model.session
    reason = devices.run_failure_reason("CUDA failure 2: out of memory", "out of memory")
    model.move_to_cpu(reason)
    assert model.session is not old and model.session.get_providers() == [CPU]
    assert device_report()["doc-ranker"] == DeviceChoice("doc-ranker", "CPU", reason)
    after = model.run(model._dummy_feeds())
    for name in before:
        np.testing.assert_allclose(after[name], before[name], rtol=1e-5, atol=1e-6)


def test_gpu_run_failures_are_told_apart_from_input_errors(models_dir):
    # onnxruntime's wording for a GPU that ran out of memory (bfc_arena.cc, cuda_call.cc)
    assert devices.is_cuda_run_failure(
        "Non-zero status code returned while running Conv node. Status Message: "
        "bfc_arena.cc:376 AllocateRawInternal Failed to allocate memory for requested buffer")
    assert devices.is_cuda_run_failure("CUDA failure 2: out of memory ; GPU=0 ; expr=cudaMalloc")
    assert devices.is_cuda_run_failure("CUBLAS failure 13: CUBLAS_STATUS_EXECUTION_FAILED")
    assert devices.run_failure_reason("CUDA failure 2: out of memory", "x") == \
        "CUDA ran out of GPU memory; moved to the CPU"
    # a real input error from onnxruntime would fail on the CPU too: not retried there
    model = OnnxModel(models_dir / "image-lite0", providers=[CPU], warmup=False)
    with pytest.raises(ModelRunError) as caught:
        model.run({"pixels": np.ones((1, 3, 7, 7), np.float64)})
    assert not devices.is_cuda_run_failure(caught.value.__cause__)


def test_summary_names_the_models_on_the_cpu_and_why():
    assert device_summary([]) == ""
    assert device_summary([DeviceChoice("a", "CUDA"), DeviceChoice("b", "CUDA")]) == "CUDA"
    assert device_summary([DeviceChoice("a", "CPU")]) == "CPU"  # the caller chose the CPU
    oom = "CUDA ran out of GPU memory; moved to the CPU"
    assert device_summary([DeviceChoice("image", "CUDA"), DeviceChoice("sog", "CPU", oom)]) == \
        f"CUDA and CPU — sog on the CPU: {oom}"
    same = "CUDA unavailable: libcudnn.so.9 not found"
    assert device_summary([DeviceChoice("b", "CPU", same), DeviceChoice("a", "CPU", same)]) == \
        f"CPU — {same}"


def test_describe_gives_device_and_reason_in_one_line(models_dir, tmp_path, monkeypatch):
    engine = SuggestEngine(tmp_path / "lib.sqlite", models_dir)
    try:
        device, models = engine.describe()
        assert device.startswith("not loaded yet (") and models == {}
        with engine.lock:
            engine.suggester()
        device, models = engine.describe()
        image = engine.suggester().models.image
        assert "\n" not in device
        assert _device_part(device) == image.device  # CPU here: never "CUDA" while CPU runs
        if image.device == "CPU" and _cuda_offered():
            assert device == f"CPU — {image.model.device_reason}"
            assert image.model.device_reason.startswith("CUDA unavailable: ")
        assert models and all(v.startswith("version ") for v in models.values())
    finally:
        engine.close()
    forced = SuggestEngine(tmp_path / "lib2.sqlite", models_dir)
    monkeypatch.setenv(devices.DEVICE_ENV, "cpu")
    assert forced.describe()[0] == ("not loaded yet (CPU — forced by TAGASSIST_DEVICE=cpu); "
                                    "they load with the first suggestion")


def test_settings_dialog_shows_the_line(qtbot, models_dir, tmp_path):
    from PySide6.QtWidgets import QLabel

    from tagassist.ui.settings_dialog import SettingsDialog, SettingsState

    OnnxModel(models_dir / "image-lite0")
    line = device_summary(device_report().values())
    state = SettingsState(users=["ann"], user="ann", library=tmp_path, database=tmp_path / "db",
                          cache=tmp_path, models_dir=models_dir, device=line)
    dialog = SettingsDialog(state)
    qtbot.addWidget(dialog)
    label = dialog.findChild(QLabel, "device")
    assert label.text() == line
    assert "TAGASSIST_DEVICE=cpu" in label.toolTip()
