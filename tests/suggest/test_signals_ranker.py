"""The event signals and the learned blend on a real library file (no models needed)."""

from __future__ import annotations

import numpy as np
import pytest

from tagassist.library import Library
from tagassist.library.models import Features
from tagassist.suggest.item_facts import km_apart
from tagassist.suggest.ranker import (
    FEATURES,
    BlendWeights,
    candidates,
    default_weights,
    fit,
    probabilities,
    rank,
)
from tagassist.suggest.signals import LibraryIndex
from tagassist.suggest.suggesters import Suggestion

EMBED = ("image-test", "1")


@pytest.fixture
def lib(tmp_path):
    library = Library.open(tmp_path / "lib" / "tagassist.db")
    yield library
    library.close()


def add_photo(lib, name, when=None, lat=None, lon=None, vector=None, tags=(), user=1,
              title=None, place=None, folder="/photos/a"):
    item, _ = lib.items.upsert(name, "photo", f"{folder}/{name}.jpg", 1, 1.0, capture_time=when,
                               lat=lat, lon=lon, title=title, place=place)
    if vector is not None:
        lib.features.put([Features(item.id, EMBED[0], EMBED[1],
                                   np.asarray(vector, np.float32), ())])
    if tags:
        lib.assignments.assign(user, [item.id], list(tags))
    return item


def index_of(lib, user=1):
    return LibraryIndex.read(lib, user, {"photo": EMBED})


def values(sig, index, name):
    return {t: float(sig.values[name][j]) for j, t in enumerate(index.tags)}


def test_time_place_and_look_alike_follow_the_nearest_photos(lib):
    user = lib.users.add("ann").id
    add_photo(lib, "a", "2024-05-01T10:00:00", 52.37, 4.90, [1, 0], ["amsterdam", "canal"], user)
    add_photo(lib, "b", "2024-05-03T10:00:00", 48.85, 2.35, [0, 1], ["paris", "tower"], user)
    query = add_photo(lib, "q", "2024-05-01T11:00:00", 52.36, 4.91, [0.1, 1.0])
    index = index_of(lib, user)
    sig = index.signals(query, np.array([0.1, 1.0]), [])
    time = values(sig, index, "time")
    assert time["canal"] > 10 * time["tower"]  # 1 h vs 47 h apart
    assert abs(sum(time[t] for t in ("canal", "tower"))) == pytest.approx(1.0)
    assert values(sig, index, "place")["amsterdam"] > 0.9  # 1 km vs 430 km
    assert sig.nearest_hours[index.tag_ix["canal"]] == pytest.approx(1.0)
    look = values(sig, index, "look")
    assert look["tower"] > look["canal"]  # cosine 0.99 vs 0.10
    assert values(sig, index, "frequency")["paris"] == pytest.approx(0.5)
    assert values(sig, index, "recency")["paris"] > values(sig, index, "recency")["amsterdam"]


def test_visible_hides_later_photos_and_the_item_itself(lib):
    user = lib.users.add("ann").id
    first = add_photo(lib, "a", "2024-05-01T10:00:00", tags=["early"], user=user)
    add_photo(lib, "b", "2024-05-01T10:30:00", tags=["late"], user=user)
    index = index_of(lib, user)
    sig = index.signals(first, None, [], visible=2)
    assert values(sig, index, "time") == {"early": 0.0, "late": 1.0}  # not itself
    sig = index.signals(first, None, [], visible=0)
    assert values(sig, index, "frequency") == {"early": 0.0, "late": 0.0}


def test_cooccurrence_and_rejections_nearby(lib):
    user = lib.users.add("ann").id
    for n in range(3):
        add_photo(lib, f"p{n}", f"2024-05-0{n + 1}T10:00:00", tags=["beach", "sea"], user=user)
    add_photo(lib, "x", "2024-06-01T10:00:00", tags=["beach", "sand"], user=user)
    rejected = add_photo(lib, "r", "2024-07-01T10:00:00", tags=["night"], user=user)
    lib.assignments.record_decisions(user, rejected.id, [("sea", False, 1, 0.5, "t")])
    query = add_photo(lib, "q", "2024-07-01T11:00:00")
    index = index_of(lib, user)
    sig = index.signals(query, None, ["beach"])
    cooc = values(sig, index, "cooc")
    assert cooc["sea"] == pytest.approx(0.75) and cooc["sand"] == pytest.approx(0.25)
    assert sig.cooc_with[index.tag_ix["sea"]] == "beach"
    rej = values(sig, index, "rejected_near")
    assert rej["sea"] == pytest.approx(0.5) and rej["sand"] == 0.0


def test_haversine_distance():
    km = km_apart(52.37, 4.90, np.array([48.85, 52.37]), np.array([2.35, 4.90]))
    assert km[0] == pytest.approx(430, rel=0.02) and km[1] == pytest.approx(0.0, abs=1e-6)


def test_candidates_offer_place_and_title_words_and_drop_present_and_rejected(lib):
    user = lib.users.add("ann").id
    add_photo(lib, "a", "2024-05-01T10:00:00", tags=["gondola", "venice", "boat"], user=user)
    query = add_photo(lib, "q", "2024-05-01T12:00:00", title="Grand Canal at dusk",
                      place="Venice, Italy")
    lib.assignments.assign(user, [query.id], ["boat"])
    index = index_of(lib, user)
    sig = index.signals(query, None, ["boat"])
    parts = {"content": [Suggestion("gondola", 0.8, "image: looks like gondola")]}
    found = candidates(index, query, sig, parts, present=["boat"], excluded=["dusk"])
    col = {f: j for j, f in enumerate(FEATURES)}
    row = {t: found.x[k] for k, t in enumerate(found.tags)}
    assert "boat" not in row and "dusk" not in row  # present, rejected here
    assert row["venice"][col["place_word"]] == 1.0 and row["venice"][col["new_word"]] == 0.0
    assert row["Italy"][col["place_word"]] == 1.0 and row["Italy"][col["new_word"]] == 1.0
    assert row["grand"][col["new_word"]] == 1.0 and "at" not in row  # a function word
    assert row["gondola"][col["content"]] == 0.8
    shown = rank(default_weights(), found, 3)
    assert len(shown) == 3 and all(0 < s.score < 1 for s in shown)
    assert all(s.reason for s in shown)


def test_fit_learns_the_sign_of_a_signal_and_the_prior_pulls():
    rng = np.random.default_rng(0)
    x = np.zeros((400, len(FEATURES)))
    x[:, 0] = 1.0
    x[:, FEATURES.index("time")] = rng.random(400)
    y = (x[:, FEATURES.index("time")] + 0.1 * rng.standard_normal(400) > 0.5).astype(float)
    w = fit(x, y, np.zeros(len(FEATURES)), l2=1.0)
    assert w[FEATURES.index("time")] > 5
    pulled = fit(x, y, np.zeros(len(FEATURES)), l2=1e6)
    assert abs(pulled[FEATURES.index("time")]) < 0.1
    p = probabilities(BlendWeights.from_vector(w, "t"), x)
    assert np.mean((p > 0.5) == (y > 0.5)) > 0.9


def test_the_default_blend_file_is_complete_and_loads(tmp_path):
    weights = default_weights()
    assert set(weights.weights) == set(FEATURES)
    weights.save(tmp_path / "b.json")
    assert BlendWeights.load(tmp_path / "b.json").vector().tolist() == weights.vector().tolist()
    (tmp_path / "bad.json").write_text('{"weights": {"nonsense": 1}}')
    with pytest.raises(ValueError, match="nonsense"):
        BlendWeights.load(tmp_path / "bad.json")


def same_index(a, b):
    assert a.tags == b.tags and a.row_of == b.row_of and a.popularity == b.popularity
    for name in ("item_ids", "a_row", "a_tag", "a_day", "a_chosen", "r_row", "r_tag", "tagged",
                 "hours", "lat", "lon", "folder", "has_vec", "vec_rows", "embed"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    for index in (a, b):  # grouped by tag as a stable sort groups them
        assert np.array_equal(index._by_tag, np.argsort(index.a_tag, kind="stable"))


def test_a_refreshed_index_equals_a_fresh_read_and_removals_ask_for_one(lib):
    ann, bob = lib.users.add("ann").id, lib.users.add("bob").id
    add_photo(lib, "a", "2024-05-01T10:00:00", 52.3, 4.9, [1, 0], ["canal"], ann)
    add_photo(lib, "z", "2024-04-01T10:00:00", tags=["zoo", "ape", "canal"], user=ann)
    index = index_of(lib, ann)
    b = add_photo(lib, "b", "2024-05-01T11:00:00", 52.3, 4.9, [0, 1], ["canal", "bike"], ann)
    lib.assignments.assign(bob, [b.id], ["canal", "boat"])  # another person: popularity only
    c = add_photo(lib, "c", "2024-05-02T11:00:00", vector=[1, 1])
    lib.assignments.record_decisions(ann, c.id,
                                     [("bike", False, 1, 0.3, "t"), ("tram", True, 2, 0.2, "t")])
    assert index.refresh(lib)
    same_index(index, index_of(lib, ann))
    assert index.popularity == {"canal": 3, "bike": 1, "boat": 1, "tram": 1, "zoo": 1,
                                "ape": 1}
    assert index.key_rows["tram"] == index.tags.index("tram")  # new tags are findable
    lib.history.undo()  # the decisions go: only a new read is right
    assert not index.refresh(lib)
    index = index_of(lib, ann)
    lib.tags.rename("canal", "gracht")
    assert not index.refresh(lib)


def test_the_indexed_history_is_bll_plus_c(lib):
    from datetime import datetime, timezone

    from tagassist.suggest.suggesters import history_suggestions

    ann, bob = lib.users.add("ann").id, lib.users.add("bob").id
    add_photo(lib, "a", tags=["sea", "sun"], user=ann)
    add_photo(lib, "b", tags=["sea"], user=ann)
    c = add_photo(lib, "c", tags=["sea"], user=bob)
    lib.assignments.assign(bob, [c.id], ["rock"])
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    index = index_of(lib, ann)
    popularity = {t.path: t.count for t in lib.queries.tag_counts()}
    expected = history_suggestions(lib.queries.tag_history(ann), popularity, now)
    got = index.history(now)
    assert [(s.tag, s.reason) for s in got] == [(s.tag, s.reason) for s in expected]
    assert [s.score for s in got] == pytest.approx([s.score for s in expected])


def test_a_person_without_tags_gets_the_librarys_popular_tags(lib):
    ann, bob = lib.users.add("ann").id, lib.users.add("bob").id
    add_photo(lib, "a", tags=["sea", "sun"], user=ann)
    got = index_of(lib, bob).history()
    assert {s.tag for s in got} == {"sea", "sun"}
    assert all(s.reason == "on 1 item in this library" for s in got)


def test_a_files_keywords_are_that_photos_not_the_persons_habit(lib):
    ann = lib.users.add("ann").id
    cat = add_photo(lib, "cat", "2024-05-01T10:00:00", vector=[1, 0])
    lib.assignments.assign(ann, [cat.id], ["cat", "garden"], source="file", undoable=False)
    add_photo(lib, "dog", "2024-06-01T10:00:00", vector=[0, 1], tags=["dog"], user=ann)
    query = add_photo(lib, "q", "2024-05-01T10:30:00", vector=[1, 0.1])
    index = index_of(lib, ann)
    sig = index.signals(query, np.array([1, 0.1]), [])
    # what the keywords say about their photo still counts: it is near in time, and alike
    assert values(sig, index, "time")["cat"] > values(sig, index, "time")["dog"]
    assert values(sig, index, "look")["cat"] > values(sig, index, "look")["dog"]
    # … but a keyword one file came with is not something the person uses
    assert values(sig, index, "frequency") == {"cat": 0.0, "garden": 0.0, "dog": 0.5}
    assert values(sig, index, "recency")["cat"] == 0.0 < values(sig, index, "recency")["dog"]
    assert [s.tag for s in index.history()] == ["dog"]
    assert index.popularity == {"dog": 1}


def test_the_shown_percentages_are_rescaled_by_what_they_meant_to_the_person(lib):
    from tagassist.suggest.ranker import calibrate_on_log

    ann = lib.users.add("ann").id
    photo = add_photo(lib, "a")
    # shown at 80 %, kept 2 times in 5; at 10 %, kept 1 time in 10 (over-confident above)
    rows = ([(f"hi{n}", n % 5 < 2, 1, 0.8, "t") for n in range(50)]
            + [(f"lo{n}", n % 10 == 0, 5, 0.1, "t") for n in range(100)])
    lib.assignments.record_decisions(ann, photo.id, rows)
    lib.assignments.record_decisions(ann, photo.id, [("typed", True, None, None, None)])
    logged = lib.assignments.shown_scores(ann, 1000)
    assert len(logged) == 150 and logged[0] == (0.1, False)  # newest first, scored only
    assert lib.assignments.shown_scores(ann, 1000, since="2999-01-01") == []
    assert calibrate_on_log(logged[:99]) is None  # too few to say
    a, b = calibrate_on_log(logged, l2=0.01)

    def shown_as(p):
        return 1 / (1 + np.exp(-(a * np.log(p / (1 - p)) + b)))

    assert shown_as(0.8) == pytest.approx(0.4, abs=0.02)
    assert shown_as(0.1) == pytest.approx(0.1, abs=0.02)
