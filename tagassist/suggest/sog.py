"""The generated tag set (SOG, paper 3.3): greedy decoding in numpy over the exported encoder.

A model folder (``python -m trainer.export.sog``) holds

- ``model.onnx``: input embeddings, attention mask, position and token-type ids and the index
  of ``[MASK]`` -> ``query`` [B, 384], the normalised head output times the learned scale;
- ``tables.npz``: the word table, the marker and user vectors, the tag input map ``tag_in``,
  and per training tag its text embedding, learned residual and bias;
- ``tags.json`` (training tags, users) and ``tokenizer.json``.

Each step builds ``[CLS] context [SEP] t_1 … t_k [MASK]`` as embeddings (tags are one shared
position, as in training), runs the encoder once and scores every tag of the table:
``z = query · (E_text + R)ᵀ + b``.  Given and generated tags are excluded; the top tag is
taken until ``k`` tags (or the top probability falls below ``stop_p``).

Open vocabulary: :meth:`SetGenerator.table` adds the library's own tags.  A tag whose words
equal a training tag's takes that tag's row; any other tag gets its MiniLM text embedding
(the app's text model), no residual, and the median training bias — a sensible score without
retraining.
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from tagassist.suggest.encoders import TextEncoder
from tagassist.suggest.runtime import ModelLoadError, OnnxModel
from tagassist.suggest.sog_context import MARKER_IDS, MARKERS, USER, context_ids, tag_text

SOG_PHOTOS = "sog-photos"
TABLES = "tables.npz"
TAGS = "tags.json"


@dataclass(frozen=True)
class TagTable:
    """The tags one generation scores: names, output rows W = E + R, biases, input vectors."""

    names: list[str]
    out: np.ndarray  # [T, d]
    bias: np.ndarray  # [T]
    inp: np.ndarray  # [T, d]: tag_in(W) — what a given/generated tag looks like as input
    known: np.ndarray  # [T] bool: a training tag (False: text embedding only)

    @cached_property
    def rows(self) -> dict[str, int]:
        """Row of each tag name (built once: a table serves many generations)."""
        return {n: i for i, n in enumerate(self.names)}


class SetGenerator:
    """Greedy SOG decoding for one context at a time (numpy + onnxruntime, no torch)."""

    def __init__(self, model_dir: str | os.PathLike[str], *,
                 providers: Sequence[str] | None = None) -> None:
        self.model = OnnxModel(model_dir, providers=providers)
        meta = self.model.metadata
        self.name = self.model.name
        self.version = str(meta.get("model_version", meta.get("version", "")))
        cfg = dict(meta.get("sog", {}))
        self.positions = str(cfg.get("positions", "context"))
        self.max_context = int(cfg.get("max_context", 64))
        self.max_tags = int(cfg.get("max_tags", 5))
        self.user_token = bool(cfg.get("user_token", False))
        try:
            with np.load(self.model.file(TABLES)) as z:
                t = {k: z[k] for k in z.files}
            names = json.loads(self.model.file(TAGS).read_text(encoding="utf-8"))
            from tokenizers import Tokenizer

            self.tokenizer = Tokenizer.from_file(str(self.model.file("tokenizer.json")))
        except Exception as e:  # noqa: BLE001 - numpy, json and tokenizers raise many types
            raise ModelLoadError(f"{self.model.dir}: SOG tables unreadable ({e})") from None
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.word = t["word_emb"]
        self.markers, self.user_resid = t["markers"], t["user_resid"]
        self.tag_in_w, self.tag_in_b = t["tag_in_w"], t["tag_in_b"]
        self.tags: list[str] = list(names["tags"])
        self.users: list[str] = list(names.get("users", []))
        e, r, b = t["tag_text"], t["tag_resid"], t["bias"]
        if not (len(self.tags) == e.shape[0] == r.shape[0] == b.shape[0]):
            raise ModelLoadError(f"{self.model.dir}: tags.json and {TABLES} disagree")
        self._train = TagTable(self.tags, e + r, b, self._tag_input(e + r),
                               np.ones(len(self.tags), bool))
        self.default_bias = float(np.median(b)) if b.size else 0.0
        self._text_vectors: dict[str, np.ndarray] = {}  # new tags' MiniLM vectors, by tag
        self._cls, self._sep, self._mask = (self.tokenizer.token_to_id(s)
                                            for s in ("[CLS]", "[SEP]", "[MASK]"))

    @property
    def device(self) -> str:
        return self.model.device

    def _tag_input(self, w: np.ndarray) -> np.ndarray:
        return (w @ self.tag_in_w.T + self.tag_in_b).astype(np.float32)

    # -- vocabulary ----------------------------------------------------------------------------
    def table(self, library_tags: Sequence[str] = (), encoder: TextEncoder | None = None,
              include_training: bool = True) -> TagTable:
        """Training tags plus ``library_tags`` (module doc); a library tag named like a training
        tag replaces it.  Without ``encoder`` only library tags matching training tags join."""
        by_text = {tag_text(t).lower(): i for i, t in enumerate(self.tags)}
        names, out, bias, known = [], [], [], []
        taken: set[int] = set()
        new: list[str] = []
        for tag in dict.fromkeys(library_tags):
            i = by_text.get(tag_text(tag).lower())
            if i is None:
                new.append(tag)
                continue
            taken.add(i)
            names.append(tag)
            out.append(self._train.out[i])
            bias.append(self._train.bias[i])
            known.append(True)
        if include_training:
            for i, tag in enumerate(self.tags):
                if i not in taken:
                    names.append(tag)
                    out.append(self._train.out[i])
                    bias.append(self._train.bias[i])
                    known.append(True)
        if new and encoder is not None:
            todo = [t for t in new if t not in self._text_vectors]
            if todo:  # each new tag is encoded once per session
                self._text_vectors.update(zip(todo, encoder.encode([tag_text(t) for t in todo]),
                                              strict=True))
            names += new
            out += [self._text_vectors[t] for t in new]
            bias += [self.default_bias] * len(new)
            known += [False] * len(new)
        d = self.word.shape[1]
        w = np.asarray(out, np.float32).reshape(-1, d)
        return TagTable(names, w, np.asarray(bias, np.float32), self._tag_input(w),
                        np.asarray(known, bool))

    def training_table(self) -> TagTable:
        return self._train

    def adjusted(self, table: TagTable, names: Sequence[str], resid: np.ndarray,
                 bias: np.ndarray) -> TagTable:
        """``table`` with a person's fitted rows added: for each of ``names`` in it, output row
        + ``resid`` and bias + ``bias`` (:mod:`tagassist.suggest.personal_set`)."""
        rows = table.rows
        out, b = table.out.copy(), table.bias.copy()
        for name, r, db in zip(names, resid, bias, strict=True):
            i = rows.get(name)
            if i is not None:
                out[i] += r
                b[i] += db
        return TagTable(table.names, out, b, self._tag_input(out), table.known)

    # -- decoding ------------------------------------------------------------------------------
    def user_row(self, user: str | None) -> int:
        """The row of a training user (0: anyone else)."""
        return self.users.index(user) + 1 if user in self.users else 0

    def context_ids(self, context: str) -> list[int]:
        return context_ids(self.tokenizer, context, self.max_context, self._cls, self._sep,
                           user=self.user_token)

    def _feeds(self, ctx: list[int], given: list[int], table: TagTable, user_row: int
               ) -> dict[str, np.ndarray]:
        n_ctx, n = len(ctx), len(ctx) + len(given) + 1
        ids = np.asarray(ctx + [0] * len(given) + [self._mask], np.int64)
        emb = self.word[ids].copy()
        for j, tok in enumerate(ctx):
            if 1 <= tok <= len(MARKERS):
                emb[j] = self.markers[tok - 1]
                if tok == MARKER_IDS[USER] and 0 <= user_row < len(self.user_resid):
                    emb[j] += self.user_resid[user_row]
        if given:
            emb[n_ctx:n_ctx + len(given)] = table.inp[given]
        ar = np.arange(n)
        if self.positions == "all":
            pos = ar
        elif self.positions == "none":
            pos = np.zeros(n, np.int64)
        else:
            pos = np.minimum(ar, n_ctx)
        return {"inputs_embeds": emb[None].astype(np.float32),
                "attention_mask": np.ones((1, n), np.int64),
                "position_ids": pos[None].astype(np.int64),
                "token_type_ids": (ar >= n_ctx)[None].astype(np.int64),
                "mask_pos": np.array([n - 1], np.int64)}

    def query(self, ctx: list[int], given: list[int], table: TagTable, user_row: int = 0
              ) -> np.ndarray:
        """The ``[MASK]`` query [d] of ``[CLS] context [SEP] given… [MASK]`` (rows of table)."""
        return self.model.run(self._feeds(ctx, given, table, user_row), ["query"])["query"][0]

    def generate(self, context: str, table: TagTable | None = None, given: Sequence[str] = (),
                 k: int | None = None, stop_p: float = 0.0, user_row: int = 0,
                 exclude: Sequence[str] = ()) -> list[tuple[str, float]]:
        """Greedy set for one context: [(tag, probability at its step)], best first.

        ``given`` tags are the prefix (the item's tags); ``exclude`` tags (rejected) are
        never generated but are not part of the input."""
        table = self._train if table is None else table
        index = table.rows
        ctx = self.context_ids(context)
        chosen = [index[g] for g in dict.fromkeys(given) if g in index]
        banned = [index[x] for x in exclude if x in index]
        out: list[tuple[str, float]] = []
        for _ in range(self.max_tags if k is None else k):
            q = self.query(ctx, chosen, table, user_row)
            z = table.out @ q + table.bias
            z[chosen + banned] = -np.inf
            if not np.isfinite(z).any():
                break
            p = np.exp(z - z.max())
            p /= p.sum()
            top = int(np.argmax(p))
            if p[top] < stop_p:
                break
            chosen.append(top)
            out.append((table.names[top], float(p[top])))
        return out


def load_generator(models_dir: str | os.PathLike[str], name: str = SOG_PHOTOS
                   ) -> SetGenerator:
    """The SOG model folder under ``models_dir`` (ModelLoadError names what is wrong)."""
    return SetGenerator(Path(models_dir) / name)
