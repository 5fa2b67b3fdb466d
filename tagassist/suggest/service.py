"""Suggest tags for files end to end: import if new, featurize if needed, run the suggesters.

What ``tagassist suggest PATH...`` and the window use: :func:`ensure_items` brings files into
the library through the importer's own reader (no folder walk: only these files);
:class:`ColdStartSuggester` featurizes on demand, reads the person's library once per revision
(:class:`LibraryView`, the event signals' :class:`LibraryIndex`), gathers the suggesters'
scores and ranks every candidate by the learned blend (:mod:`tagassist.suggest.ranker`).  A
model that cannot load is reported in ``models`` and its part is skipped; history, time and
place still work without any model.  The generated set and its gate are
:mod:`tagassist.suggest.generated_set`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tagassist.library import Library
from tagassist.library.models import Item, Tag
from tagassist.media.errors import MediaError
from tagassist.media.importer import import_file
from tagassist.media.lookup import find_item
from tagassist.suggest.documents import DOC_RANKER, DocumentRanker, document_query
from tagassist.suggest.encoders import same_network
from tagassist.suggest.featurize import (
    IMAGE_MODEL,
    TEXT_MODEL,
    FeaturizeProgress,
    FeaturizeReport,
    Models,
    featurize_library,
)
from tagassist.suggest.generated_set import GeneratedSetMixin
from tagassist.suggest.model_store import (
    BLEND_FILE,
    PERSONAL_BLEND,
    PERSONAL_CONTENT,
    PERSONAL_SET,
    active_version,
)
from tagassist.suggest.personal import PersonalRanker
from tagassist.suggest.ranker import (
    DEFAULT_TOP,
    MIN_SCORE,
    MIN_SCORE_DOCUMENTS,
    BlendWeights,
    Candidates,
    candidates,
    default_weights,
    rank,
)
from tagassist.suggest.runtime import ModelLoadError, ModelRunError
from tagassist.suggest.signals import LibraryIndex
from tagassist.suggest.sog import SOG_PHOTOS
from tagassist.suggest.suggesters import (
    Suggestion,
    content_suggestions,
    context_suggestions,
)
from tagassist.suggest.vocabulary import TagVocabulary


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


@dataclass(frozen=True)
class LibraryView:
    """One user's view of the library at one revision (see ``ColdStartSuggester.view``)."""

    revision: tuple[int, int]
    all_tags: list[Tag]  # tags in use by anyone: the vocabulary image words map onto
    user_tags: list[Tag]
    index: LibraryIndex
    history_now: list[Suggestion]  # BLL+C at the time the view was read


class ColdStartSuggester(GeneratedSetMixin):
    """Ranked tags for items: the person's own event signals, content, context, history and —
    once trained (``tagassist train``) — their content model and their own blend."""

    def __init__(self, library: Library, models: Models) -> None:
        self.library = library
        self.models = models
        # 'all' / 'user' tags, grown in place, and the tag list they were last synced to
        self._vocab: dict[str, tuple[TagVocabulary, list[Tag]]] = {}
        self._views: dict[int, LibraryView] = {}
        self._vectors: dict[int, Any] = {}  # stored embeddings read so far (they never change)
        self._personal: dict[int, tuple[str, PersonalRanker | None]] = {}
        self.default_blend = default_weights()
        self._blend: dict[int, tuple[str, BlendWeights]] = {}
        self.blend_unavailable: dict[int, str] = {}
        self.personal_unavailable: dict[int, str] = {}
        super().__init__()  # the generated set's state (generated_set.py)
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
        found = self.library.features.get([item.id], ranker.featurizer, ranker.feature_version)
        now = dict(self._featurizers().values()).get(ranker.featurizer, "")
        if item.id not in found and now and same_network(now, ranker.feature_version):
            found = self.library.features.get([item.id], ranker.featurizer, now)
        if item.id not in found:
            return []
        try:
            return ranker.suggest(found[item.id].vector, user_id, present)
        except ModelRunError as e:
            self.personal_unavailable[user_id] = str(e)
            return []

    def featurize(self, items: Sequence[Item], cancel: threading.Event | None = None
                  ) -> Generator[FeaturizeProgress, None, FeaturizeReport]:
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
            if self.blend_weights(user_id).source == "personal":
                info[PERSONAL_BLEND] = active_version(self.library, PERSONAL_BLEND,
                                                      user_id).version
            if user_id in self.blend_unavailable:
                unavailable[PERSONAL_BLEND] = self.blend_unavailable[user_id]
            record = active_version(self.library, PERSONAL_SET, user_id)
            if record is not None and user_id not in self.set_unavailable:
                info[PERSONAL_SET] = record.version
            if user_id in self.set_unavailable:
                unavailable[PERSONAL_SET] = self.set_unavailable[user_id]
        if unavailable:
            info["unavailable"] = unavailable
        return info

    def _vocabulary(self, role: str, tags: Sequence[Tag]) -> TagVocabulary | None:
        """The vocabulary of these tags (one per role, grown and shrunk in place), or None
        without tags or a text model."""
        if not tags or self.models.text is None:
            return None
        vocab, synced = self._vocab.get(role, (None, None))
        if vocab is None:
            vocab = TagVocabulary(self.models.text)
        if synced is not tags:  # a view's tag list is read once per library revision
            vocab.sync(tags)
            self._vocab[role] = (vocab, tags)
        return vocab

    def _featurizers(self) -> dict[str, tuple[str, str]]:
        """Item kind -> (featurizer, version) of the stored embedding the look-alikes use."""
        out = {}
        for kind, name, enc in (("photo", IMAGE_MODEL, self.models.image),
                                ("document", TEXT_MODEL, self.models.text)):
            if enc is not None:
                out[kind] = (name, str(enc.model.metadata["version"]))
        return out

    def _stored(self, item: Item) -> tuple[list[tuple[str, float]], str, Any]:
        """(stored words, 'image'/'text', stored embedding or None) of one item."""
        name, version = self._featurizers().get(item.kind, ("", ""))
        if not name:
            return [], "", None
        found = self.library.features.get([item.id], name, version).get(item.id)
        if found is None:
            return [], "", None
        return list(found.words), ("image" if item.kind == "photo" else "text"), found.vector

    def view(self, user_id: int) -> LibraryView:
        """What every suggestion reads of the library, brought up to date once per library
        revision: appended to after a write (the index's ``refresh``), re-read otherwise."""
        revision = self.library.revision()
        cached = self._views.get(user_id)
        if cached is not None and cached.revision == revision:
            return cached
        index = cached.index if cached is not None else None
        if index is None or not index.refresh(self.library):
            index = LibraryIndex.read(self.library, user_id, self._featurizers(), self._vectors)
        in_use = {p for p, n in index.popularity.items() if n > 0}
        all_tags = [t for t in index.tag_records if t.path in in_use]
        mine = set(index.tags)
        view = LibraryView(revision, all_tags, [t for t in all_tags if t.path in mine],
                           index, index.history())
        self._views[user_id] = view
        return view

    def blend_weights(self, user_id: int) -> BlendWeights:
        """The person's own blend once the personal job fitted one, else the default."""
        record = active_version(self.library, PERSONAL_BLEND, user_id)
        key = f"{record.version}@{record.path}" if record else ""
        cached = self._blend.get(user_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        weights = self.default_blend
        self.blend_unavailable.pop(user_id, None)
        if record is not None:
            try:
                weights = BlendWeights.load(Path(record.path) / BLEND_FILE)
            except (OSError, ValueError, KeyError) as e:
                self.blend_unavailable[user_id] = (
                    f"{record.path}: unreadable ({e}); the default blend is used")
        self._blend[user_id] = (key, weights)
        return weights

    def candidates(self, item: Item, user_id: int, exclude: Sequence[str] = (),
                   now: datetime | None = None, visible: int | None = None) -> Candidates:
        """Every tag the blend scores for this item, with its features (ranker.py).

        ``visible``: the item as it was before it was tagged, when only the user's first
        ``visible`` items (in tagging order) were — how the blend's fit replays a library
        (no present tags, history cut there, no personal model: it has seen the item)."""
        view = self.view(user_id)
        words, source, vector = self._stored(item)
        if visible is None:
            present = [t.path for t in self.library.assignments.tags_of(item.id, user_id)]
            personal = self._personal_suggestions(item, user_id, present)
            history = view.history_now if now is None else view.index.history(now)
        else:
            present, personal = [], []
            history = view.index.history(now, visible)
        parts = {
            "content": content_suggestions(words, self._vocabulary("all", view.all_tags),
                                           source or "image"),
            "context": context_suggestions(item, view.user_tags,
                                           self._vocabulary("user", view.user_tags)),
            "history": history,
            "personal": personal,
            "document": self._document_suggestions(item, present),
        }
        signals = (view.index.signals(item, vector, present, visible) if view.index.tags
                   else None)
        return candidates(view.index, item, signals, parts, present, exclude)

    def suggest(self, item: Item, user_id: int, top: int = DEFAULT_TOP,
                now: datetime | None = None, exclude: Sequence[str] = ()) -> list[Suggestion]:
        """The top ``top`` tags for one item and user by the learned blend (ranker.py);
        ``exclude``: tags the person rejected on this item."""
        found = self.candidates(item, user_id, exclude, now)
        floor = MIN_SCORE if item.kind == "photo" else MIN_SCORE_DOCUMENTS
        return [s for s in rank(self.blend_weights(user_id), found, top) if s.score >= floor]

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
