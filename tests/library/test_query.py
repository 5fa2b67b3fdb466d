"""The tag-expression language: parsing, precedence, hierarchy, aliases, errors."""

from __future__ import annotations

import pytest

from tagassist.library import Library, QuerySyntaxError
from tagassist.library.query import And, Not, Or, Term, parse

from .conftest import add_items

# item index -> tags; items are 1-based ids in insertion order
TAGGING = {
    1: ["beach", "sunset"],
    2: ["beach", "night"],
    3: ["cat"],
    4: ["dog", "New York"],
    5: ["cat", "New York", "night"],
    6: ["places|Europe|Paris"],
    7: ["places|Europe|Rome", "beach"],
    8: ["places|Asia"],
    9: [],
}


@pytest.fixture
def tagged(lib: Library) -> Library:
    user = lib.users.add("ann")
    ids = add_items(lib, len(TAGGING))
    assert ids == list(TAGGING)
    for item, tags in TAGGING.items():
        if tags:
            lib.assignments.assign(user.id, [item], tags)
    lib.tags.add_alias("cat", "kitty")
    return lib


def expected(pred) -> list[int]:
    norm = {i: {t.lower() for t in tags} for i, tags in TAGGING.items()}
    return [i for i, tags in norm.items() if pred(tags)]


def test_parse_precedence() -> None:
    assert parse("a OR b AND NOT c") == Or((Term("a", 0), And((Term("b", 5), Not(Term("c", 15))))))
    assert parse("NOT a b") == And((Not(Term("a", 4)), Term("b", 6)))
    assert parse("(a OR b) c") == And((Or((Term("a", 1), Term("b", 6))), Term("c", 9)))
    assert parse('"New  York" and not NOT x') == And((Term("new york", 0), Term("x", 24)))
    assert parse("Places|EUROPE") == Term("places|europe", 0)


@pytest.mark.parametrize(
    ("expr", "pred"),
    [
        ("beach", lambda t: "beach" in t),
        ("BEACH and not night", lambda t: "beach" in t and "night" not in t),
        ("beach AND NOT night", lambda t: "beach" in t and "night" not in t),
        ("beach night", lambda t: {"beach", "night"} <= t),  # implicit AND
        ("cat OR dog AND night", lambda t: "cat" in t or ("dog" in t and "night" in t)),
        ("(cat OR dog) AND night", lambda t: ("cat" in t or "dog" in t) and "night" in t),
        ('(cat OR dog) AND "new york"', lambda t: ("cat" in t or "dog" in t) and "new york" in t),
        ("'New York' NOT cat", lambda t: "new york" in t and "cat" not in t),
        ("NOT beach", lambda t: "beach" not in t),
        ("NOT (beach OR cat)", lambda t: not ({"beach", "cat"} & t)),
        ("NOT NOT beach", lambda t: "beach" in t),
        ("kitty", lambda t: "cat" in t),  # alias
        ("unknowntag", lambda t: False),
        ("unknowntag OR dog", lambda t: "dog" in t),
        ("beach OR NOT night", lambda t: "beach" in t or "night" not in t),
    ],
)
def test_search_matches_hand_built_expectations(tagged: Library, expr: str, pred) -> None:
    assert tagged.queries.search(expr) == expected(pred)


def test_hierarchy(tagged: Library) -> None:
    assert tagged.queries.search("places") == [6, 7, 8]
    assert tagged.queries.search("places|Europe") == [6, 7]
    assert tagged.queries.search("europe") == [6, 7]  # a name at any level
    assert tagged.queries.search("Europe|Paris") == [6]  # a path suffix
    assert tagged.queries.search("paris") == [6]
    assert tagged.queries.search("places AND NOT europe") == [8]
    assert tagged.queries.search("places beach") == [7]
    tagged.tags.add_alias("places|Europe", "EU")
    assert tagged.queries.search("eu") == [6, 7]  # alias of an ancestor covers descendants


def test_user_filter(tagged: Library) -> None:
    bob = tagged.users.add("bob")
    tagged.assignments.assign(bob.id, [3], ["beach"])
    ann = tagged.users.get_or_create("ann")
    assert tagged.queries.search("beach", user_id=bob.id) == [3]
    assert tagged.queries.search("beach", user_id=ann.id) == [1, 2, 7]
    assert tagged.queries.search("beach") == [1, 2, 3, 7]
    assert tagged.queries.search("NOT beach", user_id=bob.id) == [1, 2, 4, 5, 6, 7, 8, 9]


@pytest.mark.parametrize(
    ("expr", "position", "fragment"),
    [
        ("", 0, "empty"),
        ("   ", 3, "empty"),
        ("beach AND", 9, "expected a tag name after 'AND'"),
        ("beach OR", 8, "expected a tag name"),
        ("NOT", 3, "expected a tag name"),
        ("(beach", 6, "missing ')' to close the '(' at position 0"),
        ("((a) OR b", 9, "missing ')'"),
        ("beach)", 5, "unexpected ')'"),
        ("a AND OR b", 6, "found 'OR'"),
        ("()", 1, "empty parentheses"),
        ('"new york', 0, "unterminated quote"),
        ("a||b", 0, "invalid tag name"),
        ('""', 0, "invalid tag name"),
    ],
)
def test_syntax_errors_have_positions(expr: str, position: int, fragment: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse(expr)
    assert info.value.position == position
    assert fragment in str(info.value)
    assert f"position {position}" in str(info.value)


def test_search_raises_syntax_error(tagged: Library) -> None:
    with pytest.raises(QuerySyntaxError):
        tagged.queries.search("beach AND")


def test_injection_is_just_a_tag_name(tagged: Library) -> None:
    assert tagged.queries.search('"x\'); DROP TABLE assignments; --"') == []
    assert tagged.queries.search("beach") == expected(lambda t: "beach" in t)
