"""Photos -> (ImageNet logits, 1280-d embeddings); texts -> 384-d sentence embeddings.

Thin, batched wrappers over ``OnnxModel`` for the two default models built by
``python -m trainer.export``.  Preprocessing parameters come from each model's
metadata.json, so a model folder always runs with the preprocessing it was exported and
parity-checked with.  Text is tokenized with the ``tokenizers`` package (Rust, no
transformers) from the ``tokenizer.json`` shipped beside the model.

``ImageEncoder(draft=True)`` decodes JPEGs at the model's size (DCT scaling, see
``tagassist.media.preprocess``); the app's featurizer does (``featurize.DRAFT_DECODE``,
measured in docs/decode.md), the default stays the exporter's reference, the full decode.
The decode is part of the stored features' identity: a draft encoder's version gains a
``+draft<N>`` suffix (``2+draft256``), so a library never mixes features decoded both ways
(``featurize`` recomputes the others).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tagassist.media.errors import MediaError
from tagassist.media.preprocess import Preprocessing
from tagassist.suggest.runtime import ModelLoadError, OnnxModel

PathLike = str | os.PathLike[str]


class ImageDecodeError(MediaError):
    """A photo in a batch could not be decoded; ``path`` names it, ``reason`` says why."""

    def __init__(self, path: PathLike, reason: str) -> None:
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass
class ImageBatch:
    """What ``ImageEncoder.encode_batch`` computed: rows for ``paths`` (the decodable ones)."""

    paths: list[Path]
    logits: np.ndarray
    embeddings: np.ndarray
    failures: dict[Path, str] = field(default_factory=dict)


class ImageEncoder:
    """EfficientNet-Lite: ``encode(paths)`` -> (logits [N,1000], embeddings [N,1280])."""

    def __init__(self, model_dir: PathLike, *, batch_size: int = 16,
                 providers: Sequence[str] | None = None, draft: bool = False) -> None:
        self.model = OnnxModel(model_dir, providers=providers)
        pre = self.model.metadata.get("preprocessing", {})
        try:
            self.size = int(pre["size"])
            self.resize = int(pre["resize_shorter"])
            self.mean = tuple(float(v) for v in pre["mean"])
            self.std = tuple(float(v) for v in pre["std"])
            self.preprocessing = Preprocessing(self.size, self.resize, self.mean, self.std,
                                               self.resize if draft else None)
        except (KeyError, TypeError, ValueError) as e:
            raise ModelLoadError(f"{self.model.dir / 'metadata.json'}: preprocessing entry "
                                 f"is incomplete ({e!r})") from None
        # Every reader of stored features (featurize, the suggester, the session replay) takes
        # their version from here: the decode is part of it (module doc).  "version" is outside
        # the metadata's seal (runtime.UNSEALED), and this changes only the loaded copy.
        self.model.metadata["version"] = feature_version(
            str(self.model.metadata.get("version", "")), self.preprocessing)
        self.batch_size = max(1, batch_size)
        self.num_classes = _width(self.model, "logits")
        self.embedding_dim = _width(self.model, "embedding")
        self.classes = _read_classes(self.model.file("classes.json"))

    @property
    def device(self) -> str:
        return self.model.device

    def preprocess(self, path: PathLike) -> np.ndarray:
        """float32 [3, size, size] for one photo; raises ImageDecodeError naming the file."""
        try:
            return self.preprocessing.array(path)
        except MediaError as e:
            raise ImageDecodeError(path, e.reason) from e

    def encode_batch(self, paths: Sequence[PathLike]) -> ImageBatch:
        """Encode what can be decoded; undecodable files are listed in ``failures``."""
        ok: list[Path] = []
        arrays: list[np.ndarray] = []
        failures: dict[Path, str] = {}
        for p in paths:
            try:
                arrays.append(self.preprocess(p))
                ok.append(Path(p))
            except ImageDecodeError as e:
                failures[e.path] = e.reason
        logits, embeddings = self.encode_arrays(arrays)
        return ImageBatch(ok, logits, embeddings, failures)

    def encode(self, paths: Sequence[PathLike]) -> tuple[np.ndarray, np.ndarray]:
        """(logits, embeddings) in the order of ``paths``; ImageDecodeError on the first bad
        file (its message names it)."""
        return self.encode_arrays([self.preprocess(p) for p in paths])

    def encode_arrays(self, arrays: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Run preprocessed [3, size, size] arrays through the model in batches."""
        if not arrays:
            return (np.zeros((0, self.num_classes), np.float32),
                    np.zeros((0, self.embedding_dim), np.float32))
        logits, embeddings = [], []
        for start in range(0, len(arrays), self.batch_size):
            pixels = np.stack(arrays[start:start + self.batch_size]).astype(np.float32)
            out = self.model.run({"pixels": pixels})
            logits.append(out["logits"])
            embeddings.append(out["embedding"])
        return np.concatenate(logits), np.concatenate(embeddings)

    def top_classes(self, logits: np.ndarray, k: int = 5) -> list[list[tuple[str, float]]]:
        """Per row, the ``k`` most probable ImageNet class names with softmax probabilities."""
        z = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        order = np.argsort(-probs, axis=1)[:, :k]
        return [[(self.classes[i]["name"], float(row[i])) for i in idx]
                for row, idx in zip(probs, order, strict=True)]


def feature_version(model_version: str, preprocessing: Preprocessing) -> str:
    """The version stored with a photo's features: the model's, ``+draft<N>`` when decoded
    with DCT scaling (a full decode keeps the model's own, so its features stay valid)."""
    if preprocessing.draft_to is None:
        return model_version
    return f"{model_version}+{preprocessing.decode}"


def same_network(version_a: str, version_b: str) -> bool:
    """Whether two stored-feature versions come from the same model, decoded either way: a
    personal model fitted on fully decoded features serves draft-decoded ones (embedding
    cosine 0.996 median, docs/decode.md) instead of going quiet until it is retrained."""
    return version_a.split("+", 1)[0] == version_b.split("+", 1)[0]


def _width(model: OnnxModel, output: str) -> int:
    """The fixed last dimension of an output, from metadata.json."""
    for o in model.metadata["outputs"]:
        if o["name"] == output:
            return int(o["shape"][-1])
    raise ModelLoadError(f"model {model.name} has no output '{output}'")


def _read_classes(path: Path) -> list[dict[str, str]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return [raw[str(i)] for i in range(len(raw))]
    except (OSError, ValueError, KeyError) as e:
        raise ModelLoadError(f"{path} is missing or unreadable ({e})") from None


class TextEncoder:
    """all-MiniLM-L6-v2: ``encode(texts)`` -> L2-normalized embeddings [N, 384]."""

    def __init__(self, model_dir: PathLike, *, batch_size: int = 32,
                 providers: Sequence[str] | None = None) -> None:
        from tokenizers import Tokenizer

        self.model = OnnxModel(model_dir, providers=providers)
        pre = self.model.metadata.get("preprocessing", {})
        self.max_length = int(pre.get("max_length", 128))
        path = self.model.file("tokenizer.json")
        try:
            self.tokenizer = Tokenizer.from_file(str(path))
        except Exception as e:  # noqa: BLE001 - the Rust side raises plain Exception
            raise ModelLoadError(f"{path} is missing or not a tokenizer ({e})") from None
        self.tokenizer.enable_truncation(max_length=self.max_length)
        # tokenizer.json pads to a fixed 128; pad to the batch's longest text instead.
        self.tokenizer.enable_padding(pad_id=int(pre.get("pad_id", 0)),
                                      pad_token=str(pre.get("pad_token", "[PAD]")))
        self.batch_size = max(1, batch_size)
        self.dim = _width(self.model, "sentence_embedding")
        # text -> embedding of every short text embedded so far (tag names, image words):
        # shared by every vocabulary, and warmed by the background analysis (featurize.py)
        self.cache: dict[str, np.ndarray] = {}

    @property
    def device(self) -> str:
        return self.model.device

    def tokenize(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """input_ids, attention_mask, token_type_ids: int64 [N, longest (<= max_length)]."""
        encs = self.tokenizer.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64),
        }

    def cached(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        """Map text -> embedding, encoding (in one batch run) only the texts not seen before."""
        texts = list(dict.fromkeys(texts))
        new = [t for t in texts if t not in self.cache]
        if new:
            for text, vec in zip(new, self.encode(new), strict=True):
                self.cache[text] = vec.astype(np.float32)
        return {t: self.cache[t] for t in texts}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence embeddings in the order of ``texts`` (batched by length: less padding)."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            feeds = self.tokenize([texts[i] for i in idx])
            out[idx] = self.model.run(feeds, ["sentence_embedding"])["sentence_embedding"]
        return out
