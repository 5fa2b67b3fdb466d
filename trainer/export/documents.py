"""``doc-ranker/``: the committed document ranker (``resources/doc-ranker``), parity-checked.

The ONNX graph takes one document's bag of words — ``word_ids`` [1, L] (int64) and
``word_weights`` [1, L] (c_mw: counts, over the length unless the model is AWE) — and returns
``terms`` [1, L, T], each word's part c_mw · f(w, t) · u_w·v_t of every tag's score.  The app
sums over words for the score and names the words with the largest parts as the reason.
``words.json`` / ``tags.json`` ship beside it.  Parity: the app's own ranker
(``tagassist.suggest.documents``, CPU) against PyTorch on CiteULike titles and the sample
documents, max abs diff of the scores within the contract's tolerance and the same top 10, or
nothing is written.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from tagassist.suggest.runtime import sha256_file
from trainer.doc_ranker import RESOURCE
from trainer.export.contract import OnnxContract, Tensor
from trainer.export.core import (
    MODELS_DIR,
    ExportError,
    ExportResult,
    Log,
    check_parity,
    export_folder,
    export_onnx,
    print_log,
    write_json,
    write_metadata,
)

DOC_RANKER = "doc-ranker"
MAX_WORDS = 4096  # upper bound of a bag at export time


def contract(n_tags: int) -> OnnxContract:
    return OnnxContract(
        inputs=(Tensor("word_ids", "int64", (1, "words")),
                Tensor("word_weights", "float32", (1, "words"))),
        outputs=(Tensor("terms", "float32", (1, "words", n_tags)),),
        axes={"words": (1, MAX_WORDS)})


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


def export_documents(out_dir: Path = MODELS_DIR, force: bool = False, log: Log = print_log,
                     resource: Path = RESOURCE) -> ExportResult:
    for name in ("weights.npz", "config.json"):
        if not (resource / name).is_file():
            raise ExportError(f"{resource / name} is missing (python -m trainer.doc_ranker)")
    sources = {f"resources/doc-ranker/{n}": sha256_file(resource / n)
               for n in ("weights.npz", "config.json")}
    n_tags = len(json.loads((resource / "config.json").read_text(encoding="utf-8"))["tags"])
    spec = contract(n_tags)

    def build(staging: Path, log: Log) -> dict[str, Any]:
        import torch

        from tagassist.suggest.documents import DocumentRanker

        model, meta = load_resource(resource)
        log(f"{DOC_RANKER}: exporting {meta['model']} to ONNX (dynamo)...")
        example = {"word_ids": torch.tensor([[2, 3, 4]]),
                   "word_weights": torch.tensor([[0.5, 0.25, 0.25]])}
        export_onnx(_terms_module(model.net, model.n_tags), example, staging / "model.onnx",
                    spec)
        write_json(staging / "words.json", meta["words"])
        write_json(staging / "tags.json", meta["tags"])
        write_metadata(staging, DOC_RANKER, sources, spec, {"ranker": {
            "model": meta["model"], "normalize_by_length": meta["normalize_by_length"],
            "max_words": meta["config"]["max_words"], "calibration": meta["calibration"],
            "training": meta["training"], "tags": len(meta["tags"]),
            "words": len(meta["words"])}})
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
        worst = check_parity(DOC_RANKER, {"scores": worst}, spec.tolerance)
        if same != len(texts):
            raise ExportError(f"{DOC_RANKER}: top 10 differs on {len(texts) - same} of "
                              f"{len(texts)} texts")
        log(f"{DOC_RANKER}: parity {worst:.2e}; top 10 equal on {same}/{len(texts)}")
        return {"max_abs_diff": worst, "tolerance": spec.tolerance,
                "top10_equal": f"{same}/{len(texts)}", "provider": "CPUExecutionProvider",
                "checked_on": f"{len(texts)} texts: CiteULike titles, the sample documents, a "
                              "known phrase, a 300-word text, no known word"}

    return export_folder(DOC_RANKER, sources, spec, out_dir, force, log, build)
