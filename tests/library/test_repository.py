"""Items, tags, users, queries and the model registry."""

from __future__ import annotations

import pytest

from tagassist.library import Library, LibraryError, NotFoundError

from .conftest import add_items


def test_moved_file_keeps_tags(lib: Library) -> None:
    user = lib.users.add("ann")
    item, created = lib.items.upsert("abc", "photo", "/old/a.jpg", 10, 1.0, title="A")
    assert created
    lib.assignments.assign(user.id, [item.id], ["beach"])
    moved, created = lib.items.upsert("abc", "photo", "/new/b.jpg", 10, 2.0, camera="X100")
    assert not created and moved.id == item.id
    assert moved.paths == ("/old/a.jpg", "/new/b.jpg")
    assert moved.title == "A" and moved.camera == "X100"  # None leaves metadata alone
    lib.items.remove_path("/old/a.jpg")
    assert lib.items.by_path("/old/a.jpg") is None
    again = lib.items.by_path("/new/b.jpg")
    assert again is not None and again.paths == ("/new/b.jpg",)
    assert [t.name for t in lib.assignments.tags_of(item.id)] == ["beach"]
    assert lib.items.path_state("/new/b.jpg") == (10, 2.0, item.id)
    assert lib.items.path_state("/nope") is None


def test_path_reused_by_new_content(lib: Library) -> None:
    a, _ = lib.items.upsert("h1", "document", "/doc.pdf", 1, 1.0)
    b, _ = lib.items.upsert("h2", "document", "/doc.pdf", 2, 2.0)
    assert lib.items.by_path("/doc.pdf") == b
    assert lib.items.get(a.id).paths == ()


def test_items_queries(lib: Library) -> None:
    lib.items.upsert("h1", "photo", "/1.jpg", 1, 1.0, capture_time="2021-05-01T10:00:00")
    lib.items.upsert("h2", "photo", "/2.jpg", 1, 1.0)
    lib.items.upsert(
        "h3",
        "photo",
        "/3.jpg",
        1,
        1.0,
        capture_time="2020-01-01T00:00:00",
        lat=48.8,
        lon=2.3,
        place="Paris",
        width=4000,
        height=3000,
        context_words=["holiday", "paris"],
    )
    assert lib.items.ids() == [3, 1, 2]
    assert lib.items.ids(order="added") == [1, 2, 3]
    assert lib.items.ids(offset=1, limit=1) == [1]
    items = lib.items.get_many([3, 99, 1])
    assert [i.id for i in items] == [3, 1]
    assert items[0].context_words == ("holiday", "paris") and items[0].place == "Paris"
    assert lib.items.count() == 3
    assert lib.items.by_hash("h2") is not None and lib.items.by_hash("zz") is None
    with pytest.raises(NotFoundError):
        lib.items.get(99)
    with pytest.raises(LibraryError):
        lib.items.upsert("h4", "video", "/4.mp4", 1, 1.0)
    with pytest.raises(LibraryError):
        lib.items.ids(order="name")


def test_users(lib: Library) -> None:
    ann = lib.users.add("ann")
    assert lib.users.get_or_create("ann") == ann
    bob = lib.users.get_or_create("bob")
    assert lib.users.all() == [ann, bob]
    with pytest.raises(LibraryError):
        lib.users.add("ann")


def test_tags_normalization_hierarchy_aliases(lib: Library) -> None:
    paris = lib.tags.get_or_create("places|Europe|Paris")
    assert paris.path == "places|Europe|Paris" and paris.normalized == "paris"
    assert lib.tags.get_or_create("  PLACES | europe |paris ") == paris
    assert lib.tags.get_or_create("paris") == paris  # a plain name reuses the existing tag
    assert lib.tags.find("Ｐａｒｉｓ") == paris  # NFKC full-width
    assert lib.tags.find("europe|paris") == paris
    assert lib.tags.find("new  york") is None
    ny = lib.tags.get_or_create("New   York")
    assert ny.name == "New York" and lib.tags.find("new york") == ny
    lib.tags.add_alias("New York", "NYC")
    assert lib.tags.find("nyc") == lib.tags.find("New York")
    assert lib.tags.find("nyc").aliases == ("NYC",)
    with pytest.raises(LibraryError):
        lib.tags.add_alias("paris", "nyc")
    assert {t.path for t in lib.tags.all()} == {
        "places",
        "places|Europe",
        "places|Europe|Paris",
        "New York",
    }


def test_set_parent_and_rename(lib: Library) -> None:
    user = lib.users.add("ann")
    (a,) = add_items(lib, 1)
    lib.assignments.assign(user.id, [a], ["Paris"])
    moved = lib.tags.set_parent("Paris", "places|France")
    assert moved.path == "places|France|Paris"
    assert lib.queries.search("france") == [a]
    with pytest.raises(LibraryError, match="ancestor"):
        lib.tags.set_parent("places", "places|France|Paris")
    with pytest.raises(LibraryError, match="ancestor"):
        lib.tags.set_parent("places", "places")
    renamed = lib.tags.rename("France", "Frankreich")
    assert renamed.path == "places|Frankreich"
    assert lib.assignments.tags_of(a)[0].path == "places|Frankreich|Paris"
    lib.tags.get_or_create("places|Italy")
    with pytest.raises(LibraryError, match="already exists"):
        lib.tags.rename("Italy", "frankreich")
    assert lib.tags.set_parent("Paris", None).path == "Paris"
    with pytest.raises(NotFoundError):
        lib.tags.rename("nope", "x")


def test_assign_validation(lib: Library) -> None:
    user = lib.users.add("ann")
    (a,) = add_items(lib, 1)
    with pytest.raises(NotFoundError):
        lib.assignments.assign(user.id, [a, 42], ["x"])
    with pytest.raises(NotFoundError):
        lib.assignments.assign(99, [a], ["x"])
    with pytest.raises(LibraryError):
        lib.assignments.assign(user.id, [a], ["x"], source="magic")
    assert lib.tags.find("x") is None  # the failed transactions rolled back


def test_counts_history_cooccurrence_untagged(lib: Library) -> None:
    ann = lib.users.add("ann")
    bob = lib.users.add("bob")
    a, b, c, d = add_items(lib, 4)
    lib.assignments.assign(ann.id, [a, b], ["beach", "sea"])
    lib.assignments.assign(ann.id, [c], ["beach", "places|Europe"])
    lib.assignments.assign(bob.id, [a], ["dog"])
    counts = {tc.path: tc.count for tc in lib.queries.tag_counts()}
    assert counts == {"beach": 3, "sea": 2, "places|Europe": 1, "dog": 1}
    assert lib.queries.tag_counts()[0].tag == "beach"
    assert {tc.path: tc.count for tc in lib.queries.tag_counts(hierarchical=True)}["places"] == 1
    assert {tc.path for tc in lib.queries.tag_counts(user_id=bob.id)} == {"dog"}
    history = lib.queries.tag_history(ann.id)
    assert [(h.tag, h.item_id) for h in history][:2] == [("beach", a), ("sea", a)]
    assert len(history) == 6
    co = lib.queries.cooccurrence("beach")
    assert (co[0].tag, co[0].count) == ("sea", 2)
    assert {x.tag for x in co} == {"sea", "places|Europe", "dog"}
    mine = lib.queries.cooccurrence("beach", user_id=ann.id)
    assert {x.tag for x in mine} == {"sea", "places|Europe"}
    assert lib.queries.cooccurrence("nothing") == []
    assert lib.queries.untagged() == [d]
    assert lib.queries.untagged(user_id=bob.id) == [b, c, d]


def test_model_registry(lib: Library) -> None:
    m1 = lib.models.register("tagger", "1", "/m/1.onnx", "onnx", {"f1": 0.5})
    lib.models.register("tagger", "2", "/m/2.onnx", "onnx", {"f1": 0.6})
    assert lib.models.active("tagger") is None and not m1.active
    assert lib.models.activate("tagger", "1").active
    lib.models.activate("tagger", "2")
    active = lib.models.active("tagger")
    assert active is not None and active.version == "2" and active.metrics == {"f1": 0.6}
    assert [m.active for m in lib.models.all("tagger")] == [False, True]
    assert lib.models.all("other") == []
    with pytest.raises(NotFoundError):
        lib.models.activate("tagger", "9")


def test_paths_under(lib: Library) -> None:
    for p in ["/a/x.jpg", "/a/b/y.jpg", "/ab/z.jpg", "/a_%/w.jpg"]:
        lib.items.upsert(p, "photo", p, 1, 1.0)
    assert lib.items.paths_under("/a") == ["/a/b/y.jpg", "/a/x.jpg"]
    assert lib.items.paths_under("/a/") == ["/a/b/y.jpg", "/a/x.jpg"]
    assert lib.items.paths_under("/a_%") == ["/a_%/w.jpg"]
