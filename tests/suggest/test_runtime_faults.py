"""Damaged model folders and undecodable photos fail with one clear, human error.

Model faults work on a private copy of the exported model; photo faults use real files cut
short or emptied.  No onnxruntime traceback, no error spam on stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tagassist.media.errors import MediaError
from tagassist.media.preprocess import image_to_array
from tagassist.paths import sample_library_dir
from tagassist.suggest import runtime
from tagassist.suggest.encoders import ImageDecodeError, ImageEncoder, TextEncoder
from tagassist.suggest.runtime import ModelLoadError, OnnxModel, sha256_file

ROOT = Path(__file__).resolve().parents[2]
CAT = sample_library_dir() / "2019-spring-berkeley" / "chelsea-the-cat.jpg"
ESPRESSO = sample_library_dir() / "2018-montreal" / "espresso.jpg"


def _meta(folder: Path) -> dict:
    return json.loads((folder / "metadata.json").read_text())


def _write_meta(folder: Path, meta: dict) -> None:
    (folder / "metadata.json").write_text(json.dumps(meta))


def _one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text and "Traceback" not in text and "[ONNXRuntimeError]" not in text
    return text


# -- model folder faults -----------------------------------------------------------------------

def test_missing_folder(tmp_path):
    with pytest.raises(ModelLoadError) as err:
        OnnxModel(tmp_path / "nope")
    assert "model folder not found" in _one_line(err)


def test_missing_or_garbage_metadata(image_model_copy):
    (image_model_copy / "metadata.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="unreadable"):
        OnnxModel(image_model_copy)
    (image_model_copy / "metadata.json").unlink()
    with pytest.raises(ModelLoadError, match="metadata.json is missing"):
        OnnxModel(image_model_copy)


def test_random_bytes_model_fails_the_checksum(image_model_copy):
    (image_model_copy / "model.onnx").write_bytes(os.urandom(4096))
    with pytest.raises(ModelLoadError) as err:
        OnnxModel(image_model_copy)
    msg = _one_line(err)
    assert "does not match its metadata.json" in msg and "model.onnx" in msg


def test_random_bytes_model_with_matching_checksum_is_not_loadable(image_model_copy):
    """Even if metadata vouches for it, garbage is reported as such, not as a traceback."""
    (image_model_copy / "model.onnx").write_bytes(os.urandom(4096))
    meta = _meta(image_model_copy)
    meta["sha256"] = sha256_file(image_model_copy / "model.onnx")
    _write_meta(image_model_copy, meta)
    with pytest.raises(ModelLoadError) as err:
        OnnxModel(image_model_copy)
    msg = _one_line(err)
    assert "is not a model onnxruntime can load (" in msg and "Protobuf parsing failed" in msg


def test_truncated_model_file(image_model_copy):
    data = (image_model_copy / "model.onnx").read_bytes()
    (image_model_copy / "model.onnx").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="corrupt or was replaced"):
        OnnxModel(image_model_copy)


def test_checksum_mismatch_in_metadata(image_model_copy):
    meta = _meta(image_model_copy)
    meta["sha256"] = "0" * 64
    _write_meta(image_model_copy, meta)
    with pytest.raises(ModelLoadError, match="expected 000000000000"):
        OnnxModel(image_model_copy)


def test_changed_side_file_is_caught(image_model_copy):
    path = image_model_copy / "classes.json"
    path.write_text(path.read_text().replace('"tabby"', '"tabbycat"'))
    with pytest.raises(ModelLoadError, match="classes.json does not match"):
        ImageEncoder(image_model_copy)


def test_input_shape_mismatch(image_model_copy):
    meta = _meta(image_model_copy)
    meta["inputs"][0]["shape"] = ["batch", 3, 260, 260]
    _write_meta(image_model_copy, meta)
    with pytest.raises(ModelLoadError) as err:
        OnnxModel(image_model_copy)
    msg = _one_line(err)
    assert "'pixels'" in msg and "[batch, 3, 224, 224]" in msg and "260" in msg


def test_input_name_mismatch(image_model_copy):
    meta = _meta(image_model_copy)
    meta["inputs"][0]["name"] = "images"
    _write_meta(image_model_copy, meta)
    with pytest.raises(ModelLoadError, match="declares"):
        OnnxModel(image_model_copy)


# -- the export's contract (trainer.export.contract), checked at load ----------------------------

@pytest.mark.parametrize("breach", ["input dtype", "fixed dim", "dynamic dim", "outputs", "opset"])
def test_a_contract_the_model_breaks_is_refused_naming_the_folder(image_model_copy, breach):
    """A metadata.json contract that disagrees with the real model.onnx: the folder is named."""
    meta = _meta(image_model_copy)
    contract = meta["contract"]
    pixels = contract["inputs"][0]
    if breach == "input dtype":
        pixels["dtype"], says = "float16", "input 'pixels' is float32"
    elif breach == "fixed dim":
        pixels["shape"][2:], says = [260, 260], "the contract says float32 ['batch', 3, 260, 260]"
    elif breach == "dynamic dim":  # the file's batch is dynamic, the contract says fixed
        pixels["shape"][0], says = 1, "the contract says float32 [1, 3, 224, 224]"
    elif breach == "outputs":
        contract["outputs"].reverse()
        says = "outputs are ['logits', 'embedding'], the contract says ['embedding', 'logits']"
    else:
        contract["opset"] += 1
        says = f"opset is {meta['opset']}, the contract says {meta['opset'] + 1}"
    _write_meta(image_model_copy, meta)
    with pytest.raises(ModelLoadError) as err:
        OnnxModel(image_model_copy, warmup=False)
    msg = _one_line(err)
    assert msg.startswith(f"model folder {image_model_copy}: model.onnx breaks the contract")
    assert says in msg and "python -m trainer.export --force" in msg


def test_a_parity_beyond_the_contracts_tolerance_is_refused(image_model_copy):
    meta = _meta(image_model_copy)
    meta["parity"]["max_abs_diff"] = meta["contract"]["tolerance"] * 10
    _write_meta(image_model_copy, meta)
    with pytest.raises(ModelLoadError, match="recorded parity exceeds the contract's tolerance"):
        OnnxModel(image_model_copy, warmup=False)


def test_a_malformed_contract_is_refused(image_model_copy):
    meta = _meta(image_model_copy)
    meta["contract"] = {"opset": meta["opset"], "inputs": "pixels"}
    _write_meta(image_model_copy, meta)
    with pytest.raises(ModelLoadError) as err:
        OnnxModel(image_model_copy, warmup=False)
    assert f"model folder {image_model_copy}: the contract in metadata.json is malformed" in \
        _one_line(err)


def test_a_folder_without_a_contract_still_loads(text_model_copy):
    """Folders built before contracts existed keep working until setup rebuilds them."""
    meta = _meta(text_model_copy)
    del meta["contract"]
    _write_meta(text_model_copy, meta)
    emb = TextEncoder(text_model_copy, providers=["CPUExecutionProvider"]).encode(["a cat"])
    assert emb.shape == (1, 384)


def test_the_opset_is_read_without_the_onnx_package(models_dir):
    onnx = pytest.importorskip("onnx")
    from tagassist.suggest.onnx_opset import opsets

    for name in ("image-lite0", "text-minilm", "doc-ranker", "sog-photos"):
        path = models_dir / name / "model.onnx"
        written = onnx.load(str(path), load_external_data=False).opset_import
        assert opsets(path) == {o.domain: o.version for o in written}
        assert opsets(path)[""] == _meta(models_dir / name)["contract"]["opset"]


def test_missing_tokenizer(text_model_copy):
    (text_model_copy / "tokenizer.json").unlink()
    with pytest.raises(ModelLoadError, match="tokenizer.json is missing"):
        TextEncoder(text_model_copy)


def test_default_providers_write_nothing_to_stderr(models_dir, capfd, monkeypatch):
    """onnxruntime-gpu on a machine without CUDA libraries must fall back silently."""
    monkeypatch.setattr(runtime, "_cuda_failed", False)  # really try CUDA when it is listed
    model = OnnxModel(models_dir / "image-lite0")
    out, err = capfd.readouterr()
    assert err == "" and out == ""
    assert model.device in ("CUDA", "CPU")
    assert model.session.get_providers()[0] == ("CUDAExecutionProvider" if model.device == "CUDA"
                                                else "CPUExecutionProvider")
    assert model.session.get_session_options().intra_op_num_threads == min(4, os.cpu_count())


def test_runtime_imports_no_torch():
    code = ("import sys, tagassist.suggest.encoders, tagassist.suggest.runtime,"
            " tagassist.media.preprocess;"
            "bad = [m for m in ('torch', 'transformers', 'trainer', 'PySide6')"
            " if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- photo faults ------------------------------------------------------------------------------

@pytest.fixture
def bad_photos(tmp_path) -> dict[str, Path]:
    data = ESPRESSO.read_bytes()
    files = {"truncated": tmp_path / "truncated.jpg", "empty": tmp_path / "empty.jpg",
             "text": tmp_path / "notes.jpg"}
    files["truncated"].write_bytes(data[: len(data) // 2])
    files["empty"].write_bytes(b"")
    files["text"].write_text("not a photo at all\n")
    return files


def test_preprocess_rejects_undecodable_files(bad_photos):
    with pytest.raises(MediaError, match="truncated JPEG"):
        image_to_array(bad_photos["truncated"])
    with pytest.raises(MediaError):
        image_to_array(bad_photos["empty"])
    with pytest.raises(MediaError, match="not an image"):
        image_to_array(bad_photos["text"])
    with pytest.raises(MediaError):
        image_to_array(bad_photos["truncated"].parent / "missing.jpg")


def test_encoder_names_the_file_that_failed(models_dir, bad_photos):
    encoder = ImageEncoder(models_dir / "image-lite0", providers=["CPUExecutionProvider"])
    with pytest.raises(ImageDecodeError) as err:
        encoder.encode([CAT, bad_photos["truncated"], ESPRESSO])
    assert err.value.path == bad_photos["truncated"]
    assert "truncated.jpg" in str(err.value) and "truncated JPEG" in str(err.value)
    batch = encoder.encode_batch([CAT, bad_photos["empty"], ESPRESSO, bad_photos["truncated"]])
    assert batch.paths == [CAT, ESPRESSO]
    assert batch.logits.shape == (2, 1000) and batch.embeddings.shape == (2, 1280)
    assert set(batch.failures) == {bad_photos["empty"], bad_photos["truncated"]}
    whole, _ = encoder.encode([CAT, ESPRESSO])
    assert np.array_equal(batch.logits, whole)


# -- preprocessing of odd but valid photos -----------------------------------------------------

@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "RGBA", "I;16"])
def test_any_mode_becomes_rgb_input(tmp_path, mode):
    rgb = Image.open(CAT).convert("RGB")
    if mode == "I;16":  # 16-bit grey, as scanners and some PNG exporters write
        img = Image.fromarray(np.asarray(rgb.convert("L"), np.uint16) * 257)
    else:
        img = rgb.convert(mode)
    path = tmp_path / ("photo.tif" if mode in ("CMYK", "I;16") else "photo.png")
    img.save(path)
    x = image_to_array(path)
    assert x.shape == (3, 224, 224) and x.dtype == np.float32
    assert np.isfinite(x).all() and -1.0 <= x.min() and x.max() <= 1.0
    assert x.std() > 0.1  # a real picture, not a flat (clipped) one


def test_exif_orientation_is_applied(tmp_path):
    upright = Image.open(ESPRESSO).convert("RGB")  # 600 x 400
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a camera held sideways stores
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    path = tmp_path / "sideways.jpg"
    stored.save(path, quality=95, exif=exif)
    plain = tmp_path / "upright.jpg"
    stored.transpose(Image.Transpose.ROTATE_270).save(plain, quality=95)
    a, b = image_to_array(path), image_to_array(plain)
    assert np.abs(a - b).mean() < 0.01  # same picture (JPEG re-encoding aside)
    assert np.abs(a - image_to_array(stored)).mean() > 0.05  # and not the stored orientation


def test_pil_image_input_equals_path_input():
    assert np.array_equal(image_to_array(Image.open(CAT)), image_to_array(CAT))


def test_jpeg_draft_is_optional_and_close(tmp_path):
    """draft=True (off by default) decodes a big JPEG at reduced scale: close, not equal."""
    big = tmp_path / "big.jpg"
    Image.open(CAT).convert("RGB").resize((2706, 1800), Image.Resampling.BICUBIC).save(
        big, quality=92)
    exact, fast = image_to_array(big), image_to_array(big, draft=True)
    assert fast.shape == exact.shape == (3, 224, 224)
    assert 0 < np.abs(fast - exact).mean() < 0.02
