"""Suggest tags for files end to end: import if new, featurize if needed, run the suggesters.

What ``tagassist suggest PATH...`` uses (and the window will): :func:`ensure_items` brings
files into the library through the importer's own reader (no folder walk: only these files),
:class:`ColdStartSuggester` featurizes on demand and blends content, context and history
suggestions.  A model that cannot load is reported in ``models`` and its suggester is
skipped; history and context still work without any model (exact tag-name matches only).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from tagassist.library.models import Item, Tag
from tagassist.library.repository import Library
from tagassist.media.errors import MediaError
from tagassist.media.hashing import content_hash
from tagassist.media.importer import import_file
from tagassist.suggest.blend import CALIBRATION, DEFAULT_TOP, PERSONAL, blend, default_weights
from tagassist.suggest.documents import DOC_RANKER, DocumentRanker, document_query
from tagassist.suggest.featurize import (
    IMAGE_MODEL,
    TEXT_MODEL,
    Models,
    featurize_library,
)
from tagassist.suggest.model_store import PERSONAL_CONTENT, active_version
from tagassist.suggest.personal import PersonalRanker
from tagassist.suggest.runtime import ModelLoadError, ModelRunError
from tagassist.suggest.sog import SOG_PHOTOS, SetGenerator, TagTable
from tagassist.suggest.sog_context import photo_context
from tagassist.suggest.suggesters import (
    Suggestion,
    content_suggestions,
    context_suggestions,
    history_suggestions,
)
from tagassist.suggest.vocabulary import TagVocabulary

GENERATED_SET_NOTE = "SOG model not built yet"
SET_SIZE = 5  # tags in a generated set (the paper's k)
ONLY_PHOTOS = "the generated set is made for photos"
NO_IMAGE_WORDS = "no image words yet (the photo is being analysed)"
# The document ranker's blend weight: like the personal ranker's, a trained ranker whose scores
# are calibrated probabilities.  At 1 (the content suggester's) its on-topic tags (p ≈ 0.3) sat
# under every key word and the history's cat and coffee on the sample's tagging PDF.
DOCUMENT_WEIGHT = PERSONAL


def find_item(library: Library, path: str | os.PathLike[str]) -> Item | None:
    """The item at ``path``, or the item with its content (the file moved), or None."""
    resolved = Path(path).resolve()
    item = library.item_by_path(str(resolved))
    if item is None and resolved.is_file():
        item = library.item_by_hash(content_hash(resolved))
    return item


def ensure_items(library: Library, paths: Sequence[str | os.PathLike[str]], *, user_id: int,
                 thumbnails_dir: str | os.PathLike[str]) -> list[Item]:
    """The items of ``paths``, importing the files that are not in the library yet.

    Raises ``MediaError`` (reason names the file) for a file that is missing, of a kind
    TagAssist does not handle, or unreadable.
    """
    items = []
    for raw in paths:
        path = Path(raw).resolve()
        if not path.is_file():
            raise MediaError(f"{raw}: no such file")
        try:
            item = find_item(library, path) or import_file(
                library, path, user_id=user_id, thumbnails_dir=thumbnails_dir)
        except MediaError as e:  # "damaged PDF: ..." alone does not say which file
            raise MediaError(f"{raw}: {e}") from None
        items.append(item)
    return items


class ColdStartSuggester:
    """Ranked tags for items from content, context, the user's history and — once the user has
    trained one (``tagassist train``) — the personal content ranker."""

    def __init__(self, library: Library, models: Models) -> None:
        self.library = library
        self.models = models
        self._vocab: dict[tuple[str, ...], TagVocabulary] = {}
        self._personal: dict[int, tuple[str, PersonalRanker | None]] = {}
        self.personal_weight = PERSONAL  # blend weight of the personal ranker (see blend.py)
        self.calibration = dict(CALIBRATION)  # raw blend -> P(kept), per regime (blend.py)
        self.personal_unavailable: dict[int, str] = {}
        self._sog: SetGenerator | None = None
        self.sog_unavailable = ""  # why the generated set cannot be made ("" = not tried/ok)
        self._sog_table_at: tuple[tuple[int, int], TagTable] | None = None  # (revision, table)
        self._doc: DocumentRanker | None = None
        self.doc_unavailable = ""  # why documents get no ranker suggestions ("" = ok/not tried)

    def personal(self, user_id: int) -> PersonalRanker | None:
        """The user's active personal model (reloaded when a new version is activated); a
        broken one is reported in ``models_info`` and skipped, never raised."""
        record = active_version(self.library, PERSONAL_CONTENT, user_id)
        key = f"{record.version}@{record.path}" if record else ""
        cached = self._personal.get(user_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        ranker = None
        self.personal_unavailable.pop(user_id, None)
        if record is not None:
            try:
                ranker = PersonalRanker.for_user(self.library, user_id)
            except ModelLoadError as e:
                self.personal_unavailable[user_id] = e.message
        self._personal[user_id] = (key, ranker)
        return ranker

    def _personal_suggestions(self, item: Item, user_id: int, present: list[str]
                              ) -> list[Suggestion]:
        ranker = self.personal(user_id)
        if ranker is None or item.kind != "photo":
            return []
        found = self.library.features([item.id], ranker.featurizer, ranker.feature_version)
        if item.id not in found:
            return []
        try:
            return ranker.suggest(found[item.id].vector, user_id, present)
        except ModelRunError as e:
            self.personal_unavailable[user_id] = str(e)
            return []

    def featurize(self, items: Sequence[Item], cancel: threading.Event | None = None):
        """The featurize generator for just these items (those lacking current features)."""
        return featurize_library(self.library, self.models, cancel,
                                 item_ids=[it.id for it in items])

    # -- the document ranker (CSRW) ----------------------------------------------------------
    def document_ranker(self) -> DocumentRanker | None:
        """The document ranker of the models folder, loaded once; None (reason in
        ``doc_unavailable``) when it is missing or broken."""
        if self._doc is None and not self.doc_unavailable:
            try:
                self._doc = DocumentRanker(self.models.dir / DOC_RANKER)
            except ModelLoadError as e:
                self.doc_unavailable = e.message
        return self._doc

    def _document_suggestions(self, item: Item, present: list[str]) -> list[Suggestion]:
        ranker = self.document_ranker() if item.kind == "document" else None
        if ranker is None:
            return []
        try:
            return ranker.suggest(document_query(item.title, item.text_excerpt),
                                  top=DEFAULT_TOP * 2, exclude=present)
        except ModelRunError as e:
            self.doc_unavailable = str(e)
            self._doc = None
            return []

    # -- the generated set (SOG) -------------------------------------------------------------
    def set_generator(self) -> SetGenerator | None:
        """The SOG model of the models folder, loaded once; None (reason in
        ``sog_unavailable``) when it is missing or broken."""
        if self._sog is None and not self.sog_unavailable:
            try:
                self._sog = SetGenerator(self.models.dir / SOG_PHOTOS)
            except ModelLoadError as e:
                self.sog_unavailable = e.message
        return self._sog

    def _sog_table(self, gen: SetGenerator) -> TagTable:
        """The training tags plus the library's tags in use, rebuilt after the library changes
        (new tags' text vectors are cached by the generator, so a rebuild is cheap)."""
        revision = self.library.revision()
        if self._sog_table_at is None or self._sog_table_at[0] != revision:
            in_use = sorted({c.path for c in self.library.tag_counts()})
            self._sog_table_at = (revision, gen.table(in_use, self.models.text))
        return self._sog_table_at[1]

    def photo_context(self, item: Item) -> str | None:
        """SOG's early-fusion context of a photo; None until its image words are stored."""
        words, _ = self._stored_words(item)
        if not words:
            return None
        return photo_context([w for w, _s in words], item.capture_time, item.place,
                             item.title or "")

    def generate_set(self, item: Item, user_id: int, exclude: Sequence[str] = (),
                     k: int = SET_SIZE) -> tuple[list[Suggestion], str]:
        """SOG's greedy set for a photo: (tags with the probability of their step, note).

        The item's present tags are the given prefix; ``exclude`` (rejected tags) are never
        generated.  The note says why the set is empty (no model, not a photo, …)."""
        if item.kind != "photo":
            return [], ONLY_PHOTOS
        gen = self.set_generator()
        if gen is None:
            return [], f"SOG model unavailable: {self.sog_unavailable}"
        context = self.photo_context(item)
        if context is None:
            return [], NO_IMAGE_WORDS
        present = [t.path for t in self.library.item_tags(item.id, user_id)]
        try:
            out = gen.generate(context, self._sog_table(gen), given=present, k=k,
                               exclude=exclude)
        except ModelRunError as e:
            return [], f"SOG failed: {e}"
        return [Suggestion(t, p, f"generated set, step {n}")
                for n, (t, p) in enumerate(out, 1)], ""

    def models_info(self, user_id: int | None = None) -> dict[str, Any]:
        info: dict[str, Any] = dict(self.models.versions)
        unavailable = dict(self.models.unavailable)
        if self._sog is not None:
            info[SOG_PHOTOS] = self._sog.version
        elif self.sog_unavailable:
            unavailable[SOG_PHOTOS] = self.sog_unavailable
        if self._doc is not None:
            info[DOC_RANKER] = self._doc.version
        elif self.doc_unavailable:
            unavailable[DOC_RANKER] = self.doc_unavailable
        if user_id is not None:
            ranker = self.personal(user_id)
            if ranker is not None:  # listed once trained (`tagassist train`)
                info[PERSONAL_CONTENT] = ranker.version
            if user_id in self.personal_unavailable:
                unavailable[PERSONAL_CONTENT] = self.personal_unavailable[user_id]
        if unavailable:
            info["unavailable"] = unavailable
        return info

    def _vocabulary(self, tags: Sequence[Tag]) -> TagVocabulary | None:
        """A (cached) vocabulary of these tags, or None without tags or a text model."""
        if not tags or self.models.text is None:
            return None
        key = tuple(sorted(t.path for t in tags))
        if key not in self._vocab:
            self._vocab[key] = TagVocabulary.from_tags(self.models.text, tags)
        return self._vocab[key]

    def _stored_words(self, item: Item) -> tuple[list[tuple[str, float]], str]:
        model = self.models.image if item.kind == "photo" else self.models.text
        name = IMAGE_MODEL if item.kind == "photo" else TEXT_MODEL
        if model is None:
            return [], ""
        version = str(model.model.metadata["version"])
        found = self.library.features([item.id], name, version).get(item.id)
        words = list(found.words) if found else []
        return words, ("image" if item.kind == "photo" else "text")

    def suggest(self, item: Item, user_id: int, top: int = DEFAULT_TOP,
                now: datetime | None = None) -> list[Suggestion]:
        """The blended top ``top`` suggestions for one item and user."""
        counts = self.library.tag_counts()  # every user's: the library's vocabulary
        in_use = {c.path for c in counts}
        all_tags = [t for t in self.library.tags() if t.path in in_use]
        user_paths = {c.path for c in self.library.tag_counts(user_id)}
        user_tags = [t for t in all_tags if t.path in user_paths]

        history = self.library.tag_history(user_id)  # read once: history and the weights
        words, source = self._stored_words(item)
        parts = {
            "content": content_suggestions(words, self._vocabulary(all_tags), source or "image"),
            "context": context_suggestions(item, user_tags, self._vocabulary(user_tags)),
            "history": history_suggestions(history,
                                           {c.path: c.count for c in counts}, now),
        }
        tagged = len({h.item_id for h in history})
        present = [t.path for t in self.library.item_tags(item.id, user_id)]
        parts["personal"] = self._personal_suggestions(item, user_id, present)
        parts["document"] = self._document_suggestions(item, present)
        weights = default_weights(tagged)
        weights["document"] = DOCUMENT_WEIGHT
        regime = "base"
        if parts["personal"]:
            weights["personal"] = self.personal_weight
            regime = "personal"
        return blend(parts, weights, exclude=present, top=top,
                     calibration=self.calibration[regime])

    def suggest_json(self, path: str, item: Item, user_id: int, top: int = DEFAULT_TOP
                     ) -> dict[str, Any]:
        """One path's entry in ``tagassist suggest --json``."""
        ranked = self.suggest(item, user_id, top)
        generated, note = self.generate_set(item, user_id)
        return {
            "path": path,
            "item": item.id,
            "ranked": [{"tag": s.tag, "score": s.score, "reason": s.reason} for s in ranked],
            "generated_set": [{"tag": s.tag, "probability": s.score} for s in generated],
            "generated_set_note": note,
            "models": self.models_info(user_id),
        }
