"""Export the committed document ranker (``resources/doc-ranker``) to ``models/doc-ranker``.

The ONNX graph takes one document's bag of words — ``word_ids`` [1, L] (int64) and
``word_weights`` [1, L] (c_mw: counts, over the length unless the model is AWE) — and returns
``terms`` [1, L, T], each word's part c_mw · f(w, t) · u_w·v_t of every tag's score.  The app
sums over words for the score and names the words with the largest parts as the reason.
``words.json`` / ``tags.json`` ship beside it.  Parity: the app's own ranker
(``tagassist.suggest.documents``, CPU) against PyTorch on CiteULike titles and the sample
documents, max abs diff of the scores within 1e-4 and the same top 10, or nothing is written.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tagassist.suggest.runtime import sha256_file
from trainer.doc_ranker import RESOURCE
from trainer.export_models import (
    MODELS_DIR,
    TOLERANCE,
    ExportError,
    ExportResult,
    Log,
    _base_metadata,
    _check,
    _export_folder,
    _onnx_export,
    _print,
    _write_json,
)

DOC_RANKER = "doc-ranker"


def load_resource(resource: Path = RESOURCE) -> Any:
    """The ranker of ``resources/doc-ranker`` (float16 tables widened to float32)."""
    import torch

    from tagassist.media.words import word_index
    from trainer.models import REGISTRY

    cfg, weights = resource / "config.json", resource / "weights.npz"
    if not (cfg.is_file() and weights.is_file()):
        raise ExportError(f"{resource}: config.json / weights.npz missing "
                          "(python -m trainer.doc_ranker)")
    meta = json.loads(cfg.read_text(encoding="utf-8"))
    model = REGISTRY[meta["model"]](**meta["config"])
    model.words, model._index = list(meta["words"]), word_index(meta["words"])
    model.n_tags = len(meta["tags"])
    model.net = model.make_net()
    with np.load(weights) as z:
        state = {k: torch.from_numpy(z[k].astype(np.float32)) for k in z.files}
    try:
        model.net.load_state_dict(state)
    except RuntimeError as e:
        raise ExportError(f"{weights}: weights do not fit the network ({e})") from None
    model.net.eval()
    return model, meta


def _terms_module(net: Any, n_tags: int) -> Any:
    import torch

    class Terms(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net
            self.register_buffer("tags", torch.arange(n_tags))

        def forward(self, word_ids: Any, word_weights: Any) -> Any:
            return self.net.terms(word_ids, word_weights, self.tags)

    return Terms().eval()


def check_texts(meta: dict[str, Any]) -> list[str]:
    """CiteULike titles (the first 20 in the shared set, if present) and sample documents."""
    from tagassist.paths import sample_library_dir
    from trainer import datasets

    texts = []
    titles = datasets.data_dir() / "citeulike-a" / "titles_TopicModelsVB.txt"
    if titles.is_file():
        texts += titles.read_text(encoding="utf-8", errors="replace").splitlines()[:20]
    for p in sorted(sample_library_dir().rglob("*")):
        if p.suffix.lower() in (".md", ".txt"):
            texts.append(p.read_text(encoding="utf-8", errors="replace"))
    texts += ["markov chain monte carlo sampling", " ".join(meta["words"][:300]), "zzz"]
    return texts


def export_documents(out_dir: Path = MODELS_DIR, force: bool = False, log: Log = _print,
                     resource: Path = RESOURCE) -> ExportResult:
    for name in ("weights.npz", "config.json"):
        if not (resource / name).is_file():
            raise ExportError(f"{resource / name} is missing (python -m trainer.doc_ranker)")
    sources = {f"resources/doc-ranker/{n}": sha256_file(resource / n)
               for n in ("weights.npz", "config.json")}

    def build(staging: Path, log: Log) -> tuple[dict, dict]:
        import torch
        from torch.export import Dim

        from tagassist.suggest.documents import DocumentRanker

        model, meta = load_resource(resource)
        log(f"{DOC_RANKER}: exporting {meta['model']} to ONNX (dynamo)...")
        example = {"word_ids": torch.tensor([[2, 3, 4]]),
                   "word_weights": torch.tensor([[0.5, 0.25, 0.25]])}
        words = Dim("words", min=1, max=4096)
        _onnx_export(_terms_module(model.net, model.n_tags), (), example, staging / "model.onnx",
                     list(example), ["terms"], {k: {1: words} for k in example})
        _write_json(staging / "words.json", meta["words"])
        _write_json(staging / "tags.json", meta["tags"])
        extra = {"ranker": {"model": meta["model"], "normalize_by_length":
                            meta["normalize_by_length"], "max_words": meta["config"]["max_words"],
                            "calibration": meta["calibration"], "training": meta["training"],
                            "tags": len(meta["tags"]), "words": len(meta["words"])}}
        _write_json(staging / "metadata.json", _base_metadata(DOC_RANKER, sources, staging) | extra)
        ranker = DocumentRanker(staging, providers=["CPUExecutionProvider"])
        worst, same, texts = 0.0, 0, check_texts(meta)
        for text in texts:
            ids, w = ranker.bag(text)
            got = ranker.scores(text)
            with torch.no_grad():
                ref = model.net(torch.from_numpy(ids[None]), torch.from_numpy(w[None]),
                                torch.arange(model.n_tags))[0].numpy() if ids.size else \
                    np.zeros(model.n_tags, np.float32)
            worst = max(worst, float(np.abs(got - ref).max()))
            same += int(np.array_equal(np.argsort(-got, kind="stable")[:10],
                                       np.argsort(-ref, kind="stable")[:10]))
        del ranker
        (staging / "metadata.json").unlink()
        worst = _check(DOC_RANKER, {"scores": worst})
        if same != len(texts):
            raise ExportError(f"{DOC_RANKER}: top 10 differs on {len(texts) - same} of "
                              f"{len(texts)} texts")
        log(f"{DOC_RANKER}: parity {worst:.2e}; top 10 equal on {same}/{len(texts)}")
        return extra, {"max_abs_diff": worst, "tolerance": TOLERANCE,
                       "top10_equal": f"{same}/{len(texts)}", "provider": "CPUExecutionProvider",
                       "checked_on": f"{len(texts)} texts: CiteULike titles, the sample "
                                     "documents, a known phrase, a 300-word text, no known word"}

    return _export_folder(DOC_RANKER, sources, out_dir, force, log, build)
