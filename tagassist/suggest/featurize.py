"""Featurize the library (DESIGN.md "Data flow" step 2): content features for suggestions.

- photo    -> ``ImageEncoder`` (batched) -> ``Features(item, "image-lite0", version, 1280-d
  embedding, image words from ImageWords)``; photos are decoded by ``PhotoDecoder``, in worker
  processes ahead of the encoder when the job is big enough (``decode_pool``), and the version
  says how they were decoded (``encoders``: ``2+draft256``)
- document -> ``TextEncoder`` on title + text excerpt -> ``Features(item, "text-minilm",
  version, 384-d embedding, key words)``

Like the importer, :func:`featurize_library` is a generator: every ``yield`` is a progress
tick and a cancellation point, its return value (``StopIteration.value``) the report.  Items
already featurized by the model's current version are skipped (``library.features.missing``),
so a re-run only does new items and items of an older model version.  One bad item (a photo
that no longer decodes, a file that vanished) is reported with its reason; the rest go on.

Key words of a document (:func:`key_words`): a plain term-frequency pick, no corpus
statistics (a cold-start library has too few documents for a useful IDF).  Tokens are
lowercased letter runs of 3+ characters, English stop-words removed; a title word counts
``TITLE_WEIGHT`` times; score = count / count of the most frequent word, so the best word
scores 1.  Ties go to the word seen first.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tagassist.library import Library
from tagassist.library.models import Features, Item
from tagassist.suggest.decode_pool import MIN_POOLED, Decoded, PhotoDecoder
from tagassist.suggest.encoders import ImageEncoder, TextEncoder
from tagassist.suggest.image_words import ImageWords
from tagassist.suggest.runtime import ModelLoadError

IMAGE_MODEL = "image-lite0"
TEXT_MODEL = "text-minilm"
IMAGE_WORDS_KEPT = 20  # image words stored per photo (best first)
KEY_WORDS_KEPT = 12  # key words stored per document
TITLE_WEIGHT = 3
DRAFT_DECODE = True  # photos decoded at the model's size (JPEG DCT scaling): docs/decode.md

STOP_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves one two get got make made use used
using via per etc may might must shall into onto upon within without about like just than then
http https www com org html
""".split())
_TOKEN = re.compile(r"[^\W\d_]{3,}")


@dataclass(frozen=True)
class FeaturizeProgress:
    done: int
    total: int
    path: str


@dataclass(frozen=True)
class FeaturizeProblem:
    item_id: int
    path: str | None
    reason: str


@dataclass
class FeaturizeReport:
    featurized: int = 0
    photos: int = 0
    documents: int = 0
    failed: list[FeaturizeProblem] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0


class Models:
    """The content models of one models folder; a model that cannot load is ``None`` and its
    reason is in ``unavailable`` (``strict=True`` raises ``ModelLoadError`` instead).  Photos
    are decoded at the model's size unless ``draft=False`` (``DRAFT_DECODE``)."""

    def __init__(self, models_dir: str | os.PathLike[str], *, strict: bool = False,
                 batch_size: int = 16, draft: bool = DRAFT_DECODE) -> None:
        self.dir = Path(models_dir)
        self.image: ImageEncoder | None = None
        self.text: TextEncoder | None = None
        self.image_words: ImageWords | None = None
        self.unavailable: dict[str, str] = {}
        try:
            self.image = ImageEncoder(self.dir / IMAGE_MODEL, batch_size=batch_size,
                                      draft=draft)
            self.image_words = ImageWords()
        except (ModelLoadError, ValueError) as e:
            self._fail(IMAGE_MODEL, e, strict)
            self.image = None
        try:
            self.text = TextEncoder(self.dir / TEXT_MODEL)
        except ModelLoadError as e:
            self._fail(TEXT_MODEL, e, strict)

    def _fail(self, name: str, error: Exception, strict: bool) -> None:
        if strict:
            raise ModelLoadError(str(error)) from None
        self.unavailable[name] = str(error)

    @property
    def versions(self) -> dict[str, str | None]:
        """Model name -> version, ``None`` for a model that is unavailable."""
        return {IMAGE_MODEL: _version(self.image), TEXT_MODEL: _version(self.text)}


def _version(encoder: ImageEncoder | TextEncoder | None) -> str | None:
    return str(encoder.model.metadata["version"]) if encoder is not None else None


def key_words(title: str | None, text: str | None, limit: int = KEY_WORDS_KEPT
              ) -> list[tuple[str, float]]:
    """A document's salient words, (word, score in (0, 1]) best first (see module doc)."""
    counts: Counter[str] = Counter()
    for word in _TOKEN.findall((title or "").casefold()):
        if word not in STOP_WORDS:
            counts[word] += TITLE_WEIGHT
    for word in _TOKEN.findall((text or "").casefold()):
        if word not in STOP_WORDS:
            counts[word] += 1
    if not counts:
        return []
    top = max(counts.values())
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])[:limit]  # stable: first seen wins
    return [(w, round(n / top, 6)) for w, n in ranked]


def document_text(item: Item) -> str:
    """What the text model reads for a document: its title, then its excerpt."""
    return "\n".join(p for p in (item.title, item.text_excerpt) if p and p.strip())


def existing_path(item: Item) -> str | None:
    """The item's first path that is still a file (items keep old paths until re-import)."""
    return next((p for p in item.paths if os.path.isfile(p)), None)


def featurize_library(library: Library, models_dir: str | os.PathLike[str] | Models,
                      cancel: threading.Event | None = None, batch_size: int = 16, *,
                      item_ids: Sequence[int] | None = None, pooled_from: int = MIN_POOLED,
                      decode_workers: int | None = None
                      ) -> Generator[FeaturizeProgress, None, FeaturizeReport]:
    """Featurize every item lacking current features (only ``item_ids`` if given).

    ``models_dir`` is a models folder (both models must load: ``ModelLoadError`` otherwise)
    or an already loaded :class:`Models` (kinds whose model is unavailable are left alone).
    Photos are decoded by ``decode_workers`` processes (default: one per CPU) when there are
    at least ``pooled_from`` of them, else in this process (``decode_pool``).
    """
    started = time.perf_counter()
    cancel = cancel or threading.Event()
    models = (models_dir if isinstance(models_dir, Models)
              else Models(models_dir, strict=True, batch_size=batch_size))
    report = FeaturizeReport()
    wanted = set(item_ids) if item_ids is not None else None

    def todo(featurizer: str, encoder: ImageEncoder | TextEncoder | None, kind: str
             ) -> list[Item]:
        if encoder is None:
            return []
        ids = library.features.missing(featurizer, _version(encoder) or "", kind)
        return library.items.get_many([i for i in ids if wanted is None or i in wanted])

    photos = todo(IMAGE_MODEL, models.image, "photo")
    docs = todo(TEXT_MODEL, models.text, "document")
    total, done = len(photos) + len(docs), 0
    yield FeaturizeProgress(0, total, "")

    step = max(1, batch_size)
    batches = [photos[start:start + step] for start in range(0, len(photos), step)]
    if batches:
        assert models.image is not None
        with PhotoDecoder[Item](models.image.preprocessing, len(photos),
                                workers=decode_workers, min_pooled=pooled_from) as decoder:
            decoded = decoder.decode([(item, existing_path(item)) for item in batch]
                                     for batch in batches)
            for batch, pairs in zip(batches, decoded, strict=True):
                _featurize_photos(library, models, pairs, report)
                done += len(batch)
                yield FeaturizeProgress(done, total, (batch[-1].paths or ("",))[0])
                if cancel.is_set():
                    report.cancelled = True
                    break
    if not report.cancelled:
        for start in range(0, len(docs), 32):
            batch = docs[start:start + 32]
            _featurize_documents(library, models, batch, report)
            done += len(batch)
            yield FeaturizeProgress(done, total, (batch[-1].paths or ("",))[0])
            if cancel.is_set():
                report.cancelled = True
                break
    report.seconds = time.perf_counter() - started
    return report


def _located(items: list[Item], report: FeaturizeReport) -> list[tuple[Item, str]]:
    """(item, path) for items whose file is still there; the others are reported."""
    found = []
    for item in items:
        path = existing_path(item)
        if path is None:
            shown = item.paths[0] if item.paths else None
            report.failed.append(FeaturizeProblem(item.id, shown, "file is missing"))
        else:
            found.append((item, path))
    return found


def _featurize_photos(library: Library, models: Models,
                      decoded: list[tuple[Item, str | None, Decoded]],
                      report: FeaturizeReport) -> None:
    """Encode one decoded batch and store its features; each failure is reported by file."""
    assert models.image is not None and models.image_words is not None
    good: list[tuple[Item, str, Decoded]] = []
    for item, path, crop in decoded:
        if isinstance(crop, str):
            shown = path or (item.paths[0] if item.paths else None)
            report.failed.append(FeaturizeProblem(item.id, shown, crop))
        else:
            good.append((item, str(path), crop))
    if not good:
        return
    try:
        logits, embeddings = models.image.encode_arrays(
            [models.image.preprocessing.finish(crop) for _, _, crop in good])
    except Exception as e:  # noqa: BLE001 - a failed run must not stop the other batches
        for item, path, _ in good:
            report.failed.append(FeaturizeProblem(item.id, path, f"image model failed: {e}"))
        return
    version = _version(models.image) or ""
    rows = []
    for i, (item, _, _) in enumerate(good):
        words = models.image_words.words(logits[i], limit=IMAGE_WORDS_KEPT)
        rows.append(Features(item.id, IMAGE_MODEL, version, embeddings[i],
                             tuple((w, s) for w, s, _ in words)))
    library.features.put(rows)
    report.featurized += len(rows)
    report.photos += len(rows)
    if models.text is not None:  # embed the new image and context words now, in the
        # background, so a suggestion only matches them (TagVocabulary uses this cache)
        models.text.cached([w for row in rows for w, _ in row.words]
                           + [w for item, _, _ in good for w in item.context_words])


def _featurize_documents(library: Library, models: Models, items: list[Item],
                         report: FeaturizeReport) -> None:
    assert models.text is not None
    located = [(it, p) for it, p in _located(items, report)]
    texts = [document_text(it) for it, _ in located]
    try:
        vectors = models.text.encode(texts)
    except Exception as e:  # noqa: BLE001
        for item, path in located:
            report.failed.append(FeaturizeProblem(item.id, path, f"text model failed: {e}"))
        return
    version = _version(models.text) or ""
    rows = [Features(it.id, TEXT_MODEL, version, vec, tuple(key_words(it.title,
                                                                      it.text_excerpt)))
            for (it, _), vec in zip(located, vectors, strict=True)]
    library.features.put(rows)
    report.featurized += len(rows)
    report.documents += len(rows)
