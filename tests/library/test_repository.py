"""Items, tags, users, queries and the model registry."""

from __future__ import annotations

import pytest

from tagassist.library import Library, LibraryError, NotFoundError

from .conftest import add_items


def test_moved_file_keeps_tags(lib: Library) -> None:
    user = lib.add_user("ann")
    item, created = lib.upsert_item("abc", "photo", "/old/a.jpg", 10, 1.0, title="A")
    assert created
    lib.assign(user.id, [item.id], ["beach"])
    moved, created = lib.upsert_item("abc", "photo", "/new/b.jpg", 10, 2.0, camera="X100")
    assert not created and moved.id == item.id
    assert moved.paths == ("/old/a.jpg", "/new/b.jpg")
    assert moved.title == "A" and moved.camera == "X100"  # None leaves metadata alone
    lib.remove_path("/old/a.jpg")
    assert lib.item_by_path("/old/a.jpg") is None
    again = lib.item_by_path("/new/b.jpg")
    assert again is not None and again.paths == ("/new/b.jpg",)
    assert [t.name for t in lib.item_tags(item.id)] == ["beach"]
    assert lib.path_state("/new/b.jpg") == (10, 2.0, item.id)
    assert lib.path_state("/nope") is None


def test_path_reused_by_new_content(lib: Library) -> None:
    a, _ = lib.upsert_item("h1", "document", "/doc.pdf", 1, 1.0)
    b, _ = lib.upsert_item("h2", "document", "/doc.pdf", 2, 2.0)
    assert lib.item_by_path("/doc.pdf") == b
    assert lib.item(a.id).paths == ()


def test_items_queries(lib: Library) -> None:
    lib.upsert_item("h1", "photo", "/1.jpg", 1, 1.0, capture_time="2021-05-01T10:00:00")
    lib.upsert_item("h2", "photo", "/2.jpg", 1, 1.0)
    lib.upsert_item(
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
    assert lib.item_ids() == [3, 1, 2]
    assert lib.item_ids(order="added") == [1, 2, 3]
    assert lib.item_ids(offset=1, limit=1) == [1]
    items = lib.items([3, 99, 1])
    assert [i.id for i in items] == [3, 1]
    assert items[0].context_words == ("holiday", "paris") and items[0].place == "Paris"
    assert lib.item_count() == 3
    assert lib.item_by_hash("h2") is not None and lib.item_by_hash("zz") is None
    with pytest.raises(NotFoundError):
        lib.item(99)
    with pytest.raises(LibraryError):
        lib.upsert_item("h4", "video", "/4.mp4", 1, 1.0)
    with pytest.raises(LibraryError):
        lib.item_ids(order="name")


def test_users(lib: Library) -> None:
    ann = lib.add_user("ann")
    assert lib.get_or_create_user("ann") == ann
    bob = lib.get_or_create_user("bob")
    assert lib.users() == [ann, bob]
    with pytest.raises(LibraryError):
        lib.add_user("ann")


def test_tags_normalization_hierarchy_aliases(lib: Library) -> None:
    paris = lib.get_or_create_tag("places|Europe|Paris")
    assert paris.path == "places|Europe|Paris" and paris.normalized == "paris"
    assert lib.get_or_create_tag("  PLACES | europe |paris ") == paris
    assert lib.get_or_create_tag("paris") == paris  # a plain name reuses the existing tag
    assert lib.find_tag("Ｐａｒｉｓ") == paris  # NFKC full-width
    assert lib.find_tag("europe|paris") == paris
    assert lib.find_tag("new  york") is None
    ny = lib.get_or_create_tag("New   York")
    assert ny.name == "New York" and lib.find_tag("new york") == ny
    lib.add_alias("New York", "NYC")
    assert lib.find_tag("nyc") == lib.find_tag("New York")
    assert lib.find_tag("nyc").aliases == ("NYC",)
    with pytest.raises(LibraryError):
        lib.add_alias("paris", "nyc")
    assert {t.path for t in lib.tags()} == {
        "places",
        "places|Europe",
        "places|Europe|Paris",
        "New York",
    }


def test_set_parent_and_rename(lib: Library) -> None:
    user = lib.add_user("ann")
    (a,) = add_items(lib, 1)
    lib.assign(user.id, [a], ["Paris"])
    moved = lib.set_parent("Paris", "places|France")
    assert moved.path == "places|France|Paris"
    assert lib.search("france") == [a]
    with pytest.raises(LibraryError, match="ancestor"):
        lib.set_parent("places", "places|France|Paris")
    with pytest.raises(LibraryError, match="ancestor"):
        lib.set_parent("places", "places")
    renamed = lib.rename_tag("France", "Frankreich")
    assert renamed.path == "places|Frankreich"
    assert lib.item_tags(a)[0].path == "places|Frankreich|Paris"
    lib.get_or_create_tag("places|Italy")
    with pytest.raises(LibraryError, match="already exists"):
        lib.rename_tag("Italy", "frankreich")
    assert lib.set_parent("Paris", None).path == "Paris"
    with pytest.raises(NotFoundError):
        lib.rename_tag("nope", "x")


def test_assign_validation(lib: Library) -> None:
    user = lib.add_user("ann")
    (a,) = add_items(lib, 1)
    with pytest.raises(NotFoundError):
        lib.assign(user.id, [a, 42], ["x"])
    with pytest.raises(NotFoundError):
        lib.assign(99, [a], ["x"])
    with pytest.raises(LibraryError):
        lib.assign(user.id, [a], ["x"], source="magic")
    assert lib.find_tag("x") is None  # the failed transactions rolled back


def test_counts_history_cooccurrence_untagged(lib: Library) -> None:
    ann = lib.add_user("ann")
    bob = lib.add_user("bob")
    a, b, c, d = add_items(lib, 4)
    lib.assign(ann.id, [a, b], ["beach", "sea"])
    lib.assign(ann.id, [c], ["beach", "places|Europe"])
    lib.assign(bob.id, [a], ["dog"])
    counts = {tc.path: tc.count for tc in lib.tag_counts()}
    assert counts == {"beach": 3, "sea": 2, "places|Europe": 1, "dog": 1}
    assert lib.tag_counts()[0].tag == "beach"
    assert {tc.path: tc.count for tc in lib.tag_counts(hierarchical=True)}["places"] == 1
    assert {tc.path for tc in lib.tag_counts(user_id=bob.id)} == {"dog"}
    history = lib.tag_history(ann.id)
    assert [(h.tag, h.item_id) for h in history][:2] == [("beach", a), ("sea", a)]
    assert len(history) == 6
    co = lib.cooccurrence("beach")
    assert (co[0].tag, co[0].count) == ("sea", 2)
    assert {x.tag for x in co} == {"sea", "places|Europe", "dog"}
    assert {x.tag for x in lib.cooccurrence("beach", user_id=ann.id)} == {"sea", "places|Europe"}
    assert lib.cooccurrence("nothing") == []
    assert lib.untagged_items() == [d]
    assert lib.untagged_items(user_id=bob.id) == [b, c, d]


def test_model_registry(lib: Library) -> None:
    m1 = lib.register_model("tagger", "1", "/m/1.onnx", "onnx", {"f1": 0.5})
    lib.register_model("tagger", "2", "/m/2.onnx", "onnx", {"f1": 0.6})
    assert lib.active_model("tagger") is None and not m1.active
    assert lib.activate_model("tagger", "1").active
    lib.activate_model("tagger", "2")
    active = lib.active_model("tagger")
    assert active is not None and active.version == "2" and active.metrics == {"f1": 0.6}
    assert [m.active for m in lib.models("tagger")] == [False, True]
    assert lib.models("other") == []
    with pytest.raises(NotFoundError):
        lib.activate_model("tagger", "9")


def test_paths_under(lib: Library) -> None:
    for p in ["/a/x.jpg", "/a/b/y.jpg", "/ab/z.jpg", "/a_%/w.jpg"]:
        lib.upsert_item(p, "photo", p, 1, 1.0)
    assert lib.paths_under("/a") == ["/a/b/y.jpg", "/a/x.jpg"]
    assert lib.paths_under("/a/") == ["/a/b/y.jpg", "/a/x.jpg"]
    assert lib.paths_under("/a_%") == ["/a_%/w.jpg"]
