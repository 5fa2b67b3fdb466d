"""Cold-start suggestions end to end: the sample library, featurized with the real ONNX models,
in a real SQLite library; no mocks."""

from __future__ import annotations

import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tagassist.library import HistoryEntry, Library
from tagassist.library.names import normalize
from tagassist.media.importer import import_folder
from tagassist.paths import sample_library_dir
from tagassist.suggest.featurize import (
    IMAGE_MODEL,
    TEXT_MODEL,
    Models,
    featurize_library,
    key_words,
)
from tagassist.suggest.service import ColdStartSuggester, ensure_items, find_item
from tagassist.suggest.suggesters import (
    Suggestion,
    bll_scores,
    content_suggestions,
    history_suggestions,
)
from tests import sample
from tests.jobs import drive

CAT = "2019-spring-berkeley/chelsea-the-cat.jpg"
ESPRESSO = "2018-montreal/espresso.jpg"



@pytest.fixture(scope="module")
def models(models_dir) -> Models:
    return Models(models_dir, strict=True)


@pytest.fixture(scope="module")
def featurized_db(models, tmp_path_factory) -> tuple[Path, Path]:
    """(database, photos folder): the sample library imported, its file tags removed (a
    brand-new user with no tags), then featurized.  Tests work on copies of the database."""
    root = tmp_path_factory.mktemp("cold")
    photos = Path(shutil.copytree(sample_library_dir(), root / "photos"))
    db = root / "lib" / "tagassist.db"
    with Library.open(db) as lib:
        user = lib.users.get_or_create("ann")
        drive(import_folder(lib, photos, user_id=user.id, thumbnails_dir=root / "thumbs"))
        for item_id in lib.items.ids():
            tags = [t.path for t in lib.assignments.tags_of(item_id)]
            if tags:
                lib.assignments.unassign(user.id, [item_id], tags)
        report, ticks = drive(featurize_library(lib, models))
    assert report.failed == [] and report.featurized == sample.ITEMS
    assert (report.photos, report.documents) == (sample.PHOTOS, sample.DOCUMENTS)
    assert ticks[-1].done == ticks[-1].total == sample.ITEMS
    return db, photos


@pytest.fixture
def lib(featurized_db, tmp_path):
    db, _ = featurized_db
    copy = tmp_path / "lib" / "tagassist.db"
    copy.parent.mkdir()
    shutil.copy(db, copy)
    with Library.open(copy) as library:
        yield library


def tags_of(ranked: list[Suggestion]) -> list[str]:
    return [normalize(s.tag.rsplit("|", 1)[-1]) for s in ranked]


def test_featurize_stores_words_and_versions(lib, featurized_db, models):
    _, photos = featurized_db
    cat = find_item(lib, photos / CAT)
    feats = lib.features.get([cat.id], IMAGE_MODEL, models.versions[IMAGE_MODEL])[cat.id]
    assert feats.vector.shape == (1280,)
    assert "cat" in [w for w, _ in feats.words[:5]]
    doc = find_item(lib, photos / "notes/brewing-espresso.txt")
    text = lib.features.get([doc.id], TEXT_MODEL, models.versions[TEXT_MODEL])[doc.id]
    assert text.vector.shape == (384,) and text.words[0] == ("espresso", 1.0)
    # a second run has nothing left to do
    report, _ = drive(featurize_library(lib, models))
    assert report.featurized == 0 and report.failed == []


def test_cold_start_cat_and_espresso(lib, featurized_db, models):
    _, photos = featurized_db
    user = lib.users.get_or_create("ann")
    assert lib.queries.tag_counts() == []  # cold start: no tags anywhere
    service = ColdStartSuggester(lib, models)
    cat = service.suggest(find_item(lib, photos / CAT), user.id)
    assert "cat" in tags_of(cat[:5]) or "domestic cat" in tags_of(cat[:5]), cat
    assert all(0.0 <= s.score <= 1.0 and s.reason for s in cat)
    assert [s.score for s in cat] == sorted((s.score for s in cat), reverse=True)
    espresso = service.suggest(find_item(lib, photos / ESPRESSO), user.id)
    assert {"espresso", "coffee"} & set(tags_of(espresso[:5])), espresso
    assert espresso[0].reason.startswith("looks like “")


def test_user_tag_kitty_is_reached_through_the_vocabulary(lib, featurized_db, models):
    _, photos = featurized_db
    user = lib.users.get_or_create("ann")
    others = [find_item(lib, photos / p).id for p in ("nasa/launch.jpg", "street/cameraman.jpg")]
    lib.assignments.assign(user.id, others, ["kitty"])
    cat = find_item(lib, photos / CAT)
    ranked = ColdStartSuggester(lib, models).suggest(cat, user.id)
    kitty = next(s for s in ranked if s.tag == "kitty")
    assert kitty.reason
    # the content suggester alone maps the cat's image words onto "kitty"
    vocab_words = lib.features.get([cat.id], IMAGE_MODEL)[cat.id].words
    from tagassist.suggest.vocabulary import TagVocabulary

    content = content_suggestions(vocab_words, TagVocabulary(models.text, ["kitty"]))
    hit = next(s for s in content if s.tag == "kitty")
    assert hit.score > 0.2 and "cat" in hit.reason and "close to “kitty”" in hit.reason
    # the espresso photo does not get "kitty" from its content
    esp = find_item(lib, photos / ESPRESSO)
    esp_words = lib.features.get([esp.id], IMAGE_MODEL)[esp.id].words
    assert all(s.tag != "kitty" for s in
               content_suggestions(esp_words, TagVocabulary(models.text, ["kitty"])))


def test_tags_on_the_item_are_excluded(lib, featurized_db, models):
    _, photos = featurized_db
    ann, bob = lib.users.get_or_create("ann"), lib.users.get_or_create("bob")
    cat = find_item(lib, photos / CAT)
    lib.assignments.assign(ann.id, [cat.id], ["animals|cat"])
    service = ColdStartSuggester(lib, models)
    assert "cat" not in tags_of(service.suggest(cat, ann.id))
    assert "animals|cat" not in service.candidates(cat, ann.id).tags
    # another user's tag on the item is not excluded for bob: the vocabulary offers it (the
    # blend ranks it low for him, below his top 10, so look among everything it scores)
    assert "animals|cat" in service.candidates(cat, bob.id).tags


def test_undecodable_and_missing_photos_are_reported(models, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in (CAT, ESPRESSO, "2023-amsterdam/grass.jpg"):
        shutil.copy(sample_library_dir() / name, folder / Path(name).name)
    with Library.open(tmp_path / "lib" / "tagassist.db") as lib:
        user = lib.users.get_or_create("ann")
        drive(import_folder(lib, folder, user_id=user.id, thumbnails_dir=tmp_path / "t"))
        # after import the cat photo is damaged on disk and the grass photo deleted
        (folder / "chelsea-the-cat.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg any more")
        (folder / "grass.jpg").unlink()
        report, _ = drive(featurize_library(lib, models, batch_size=2))
        assert report.featurized == 1
        reasons = {Path(p.path).name: p.reason for p in report.failed}
        assert set(reasons) == {"chelsea-the-cat.jpg", "grass.jpg"}
        assert reasons["grass.jpg"] == "file is missing" and reasons["chelsea-the-cat.jpg"]
        esp = find_item(lib, folder / "espresso.jpg")
        assert lib.features.get([esp.id], IMAGE_MODEL)[esp.id].words


def test_cancel_stops_between_batches(models, featurized_db, tmp_path):
    _, photos = featurized_db
    with Library.open(tmp_path / "lib" / "tagassist.db") as lib:
        user = lib.users.get_or_create("ann")
        drive(import_folder(lib, photos, user_id=user.id, thumbnails_dir=tmp_path / "t"))
        cancel = threading.Event()
        job = featurize_library(lib, models, cancel, batch_size=2)
        next(job)
        cancel.set()
        report, _ = drive(job)
        assert report.cancelled and report.featurized == 2


# --- pure parts ----------------------------------------------------------------------------

def _at(day: float) -> str:
    return datetime.fromtimestamp(day * 86400, tz=timezone.utc).isoformat()


def test_bll_plus_c_hand_computed():
    """a used on day 0 and day 9, b on day 8; t_ref = day 9; popularity a 1, b 3, c 1.
    A(a) = (9-0+1)^-0.5 + (9-9+1)^-0.5 = 1.3162278, A(b) = (9-8+1)^-0.5 = 0.7071068."""
    history = [HistoryEntry("a", 1, _at(20000)), HistoryEntry("b", 2, _at(20008)),
               HistoryEntry("a", 3, _at(20009))]
    now = datetime.fromtimestamp(20009 * 86400, tz=timezone.utc)
    scores = bll_scores(history, {"a": 1, "b": 3, "c": 1}, now)
    assert scores["a"] == pytest.approx(0.5 * 1.0 + 0.5 * (1 / 3))  # 0.6666667
    assert scores["b"] == pytest.approx(0.5 * 0.7071068 / 1.3162278 + 0.5 * 1.0)  # 0.7686
    assert scores["c"] == pytest.approx(0.5 * (1 / 3))
    ranked = history_suggestions(history, {"a": 1, "b": 3, "c": 1}, now)
    assert [s.tag for s in ranked] == ["b", "a", "c"]
    a = next(s for s in ranked if s.tag == "a")
    assert _at(20009).startswith("2024-10-13")
    assert a.reason == "you used it twice, last on 13 Oct 2024"
    assert ranked[-1].reason == "on 1 item in this library"


def test_key_words_are_term_frequency_without_stop_words():
    words = key_words("Brewing espresso", "The espresso is brewed; the grind matters. Grind it.")
    assert words[0] == ("espresso", 1.0)
    assert dict(words)["grind"] == pytest.approx(2 / 4) and "the" not in dict(words)


def test_generated_set_for_a_photo_respects_present_and_rejected_tags(lib, featurized_db, models,
                                                                       tmp_path):
    """SOG's set (models/sog-photos) through the service: present tags are the given prefix,
    rejected ones are never generated, documents and unanalysed photos say why there is none."""
    from tagassist.suggest.generated_set import NO_IMAGE_WORDS, ONLY_PHOTOS, SET_HIDDEN, SET_SIZE

    _, photos = featurized_db
    user = lib.users.get_or_create("ann")
    service = ColdStartSuggester(lib, models)
    cat = find_item(lib, photos / CAT)
    assert service.generate_set(cat, user.id) == ([], SET_HIDDEN)  # a new library
    service.show_generated_set = True
    made, note = service.generate_set(cat, user.id)
    tags = [s.tag for s in made]
    assert note == "" and len(tags) == SET_SIZE == len(set(tags)), (tags, note)
    assert all(0.0 < s.score <= 1.0 for s in made)
    assert "sog-photos" in service.models_info(user.id)
    lib.assignments.assign(user.id, [cat.id], [tags[0]])
    again = [s.tag for s in service.generate_set(cat, user.id, exclude=[tags[1]])[0]]
    assert tags[0] not in again and tags[1] not in again and len(again) == SET_SIZE
    # a brand-new tag of the library joins the vocabulary by its text vector
    lib.assignments.assign(user.id, [find_item(lib, photos / ESPRESSO).id], ["shrek (my cat)"])
    table = service.base_set_table(service.set_generator())
    assert "shrek (my cat)" in table.names and not table.known[table.names.index("shrek (my cat)")]
    doc = find_item(lib, photos / "notes/brewing-espresso.txt")
    assert service.generate_set(doc, user.id) == ([], ONLY_PHOTOS)
    # a photo imported but not analysed yet has no image words: no set, and it says so
    fresh = tmp_path / "fresh.jpg"
    fresh.write_bytes((photos / CAT).read_bytes() + b"\0")  # another file, another hash
    [item] = ensure_items(lib, [fresh], user_id=user.id, thumbnails_dir=tmp_path / "thumbs")
    assert service.generate_set(item, user.id) == ([], NO_IMAGE_WORDS)
