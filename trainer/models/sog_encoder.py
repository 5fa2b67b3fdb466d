"""The pretrained pieces SOG, BR and AR build on: the MiniLM encoder (truncated), its WordPiece
tokenizer and the frozen text embedding of every tag (``E_text`` of :mod:`trainer.models.sog`)."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from tagassist.suggest.sog_context import tag_text


def _minilm_path() -> str:
    from trainer.torch_reference import minilm_dir

    return str(minilm_dir())


def load_encoder(layers: int, pretrained: bool = True) -> torch.nn.Module:
    """MiniLM's BertModel (offline), truncated to its first ``layers`` layers."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()  # "pooler.* UNEXPECTED": BR/SOG use no pooler
    path = _minilm_path()
    if pretrained:
        bert = AutoModel.from_pretrained(path, attn_implementation="eager",
                                         add_pooling_layer=False)
    else:
        cfg = AutoConfig.from_pretrained(path)
        cfg._attn_implementation = "eager"
        bert = AutoModel.from_config(cfg, add_pooling_layer=False)
    bert.encoder.layer = bert.encoder.layer[:layers]
    bert.config.num_hidden_layers = layers
    return bert


def load_tokenizer() -> Any:
    """The fast WordPiece tokenizer from the package's ``tokenizer.json`` (no transformers)."""
    from pathlib import Path

    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(_minilm_path()) / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


@torch.no_grad()
def tag_text_embeddings(tags: list[str], batch_size: int = 256) -> np.ndarray:
    """Frozen MiniLM (all 6 layers) sentence embedding of every tag's text: [T, 384], L2-normed."""
    from trainer.torch_reference import load_minilm, tokenize

    enc, tok = load_minilm()
    out = []
    for a in range(0, len(tags), batch_size):
        feeds = tokenize(tok, [tag_text(t) for t in tags[a:a + batch_size]])
        out.append(enc(**feeds)[1].numpy())
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 384), np.float32)
