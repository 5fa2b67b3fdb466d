"""``minilm_knn``: a MiniLM-feature baseline for the document rankers.

Each item's text → all-MiniLM-L6-v2 sentence embedding (mean-pooled, L2-normalised; the same
model the app ships).  A tag's score for an item is the summed cosine similarity of the ``k``
most similar *training* items that carry it (the item itself excluded): nearest neighbours in
a pretrained sentence space, no training of its own.  Embeddings are cached on disk by the hash
of the texts (``TAGASSIST_CACHE``, default ``~/.cache/tagassist``), so seeds after the first
do not re-encode the corpus.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from trainer.data import TagData
from trainer.models.base import Batch, EpochCallback, TagModel


def cache_dir() -> Path:
    return Path(os.environ.get("TAGASSIST_CACHE", Path.home() / ".cache" / "tagassist"))


def embed_texts(texts: list[str], batch: int = 64) -> np.ndarray:
    """MiniLM sentence embeddings [n, 384] (cached by content)."""
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:20]
    path = cache_dir() / f"minilm-{key}.npy"
    if path.is_file():
        return np.load(path)
    import torch

    from trainer.torch_reference import load_minilm, tokenize

    torch.set_num_threads(min(2, torch.get_num_threads()))
    model, tok = load_minilm()
    out = []
    with torch.no_grad():
        for a in range(0, len(texts), batch):
            out.append(model(**tokenize(tok, texts[a:a + batch]))[1].numpy())
    emb = np.concatenate(out) if out else np.zeros((0, 384), np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, emb)
    return emb


class MiniLMkNN(TagModel):
    name: ClassVar[str] = "minilm_knn"
    defaults: ClassVar[dict[str, Any]] = {"k": 50}

    def fit(self, train: TagData, *, seed: int = 0, epochs: int | None = None,
            callback: EpochCallback | None = None, show_progress: bool = False) -> TagModel:
        self._shape(train)
        texts = [train.item_text.get(name, "") for name in train.items]
        self.emb = embed_texts(texts).astype(np.float32)
        self.train_items = np.unique(train.item)
        row = {int(i): r for r, i in enumerate(self.train_items.tolist())}
        self.item_tags = np.zeros((self.train_items.size, self.n_tags), np.float32)
        self.item_tags[[row[int(i)] for i in train.item.tolist()], train.tag] = 1.0
        return self

    def score(self, batch: Batch) -> np.ndarray:
        k = min(self.config["k"], self.train_items.size)
        out = np.zeros((len(batch), self.n_tags), np.float32)
        items = np.asarray(batch.item, np.int64)
        for a in range(0, items.size, 64):  # [64, k, T] neighbour tags at a time
            its = items[a:a + 64]
            sim = self.emb[its] @ self.emb[self.train_items].T  # [b, n_train]
            sim[its[:, None] == self.train_items[None, :]] = -np.inf  # not itself
            nn = np.argpartition(-sim, k - 1, axis=1)[:, :k]
            w = np.clip(np.take_along_axis(sim, nn, axis=1), 0.0, None)
            out[a:a + its.size] = np.einsum("bk,bkt->bt", w, self.item_tags[nn])
        return out

    def state(self) -> dict[str, np.ndarray]:
        return {"emb": self.emb, "train_items": self.train_items, "item_tags": self.item_tags}

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.emb, self.train_items = arrays["emb"], arrays["train_items"]
        self.item_tags = arrays["item_tags"]
