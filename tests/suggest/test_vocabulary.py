"""TagVocabulary: image words reach a library's own tag names through MiniLM embeddings."""

from __future__ import annotations

import pytest

from tagassist.library.models import Tag
from tagassist.paths import sample_library_dir
from tagassist.suggest.image_words import ImageWords
from tagassist.suggest.vocabulary import TagVocabulary
from tests.suggest.conftest import needs_export

pytestmark = needs_export


class CountingEncoder:
    """A TextEncoder that records which texts it was asked to embed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.seen: list[str] = []

    def encode(self, texts):
        self.seen.extend(texts)
        return self.inner.encode(texts)


@pytest.fixture(scope="module")
def text_encoder(models_dir):
    from tagassist.suggest.encoders import TextEncoder

    return TextEncoder(models_dir / "text-minilm")


@pytest.fixture(scope="module")
def photo_words(models_dir):
    from tagassist.suggest.encoders import ImageEncoder

    iw = ImageWords()
    encoder = ImageEncoder(models_dir / "image-lite0")
    paths = {"cat": sample_library_dir() / "2019-spring-berkeley" / "chelsea-the-cat.jpg",
             "espresso": sample_library_dir() / "2018-montreal" / "espresso.jpg"}
    logits, _ = encoder.encode(list(paths.values()))
    return {k: iw.words(row) for k, row in zip(paths, logits, strict=True)}


def test_users_own_word_kitty_gets_the_cat_photo(text_encoder, photo_words):
    vocab = TagVocabulary(text_encoder, ["kitty", "car", "pizza"])
    matches = vocab.match(photo_words["cat"])
    assert matches, "no tag matched the cat photo"
    tag, score, reason = matches[0]
    assert tag == "kitty"
    assert 0.0 < score <= 1.0
    assert reason.startswith("image: looks like") and "kitty" in reason
    assert "car" not in {t for t, _, _ in matches}


def test_espresso_photo_reaches_coffee_not_kitty(text_encoder, photo_words):
    vocab = TagVocabulary(text_encoder, ["kitty", "car", "pizza", "coffee"])
    assert vocab.match(photo_words["espresso"])[0][0] == "coffee"


def test_empty_or_unrelated_vocabulary_gives_nothing(text_encoder, photo_words):
    assert TagVocabulary(text_encoder, []).match(photo_words["cat"]) == []
    unrelated = TagVocabulary(text_encoder, ["tax return", "quantum chromodynamics"])
    assert unrelated.match(photo_words["cat"]) == []
    assert TagVocabulary(text_encoder, ["kitty"]).match([]) == []


def test_exact_normalized_name_counts_as_full_similarity(text_encoder):
    vocab = TagVocabulary(text_encoder, ["Dining Table"])
    assert vocab.similarity("dining  table", "Dining Table") == 1.0
    assert vocab.match([("DINING TABLE", 0.5, "why")]) == [
        ("Dining Table", 0.5, "why")]  # the word's own reason: the tag is the word


def test_aliases_and_library_tag_records(text_encoder):
    tag = Tag(id=1, name="shrek", normalized="shrek", parent_id=None, path="pets|shrek",
              aliases=("cat",))
    vocab = TagVocabulary.from_tags(text_encoder, [tag])
    assert vocab.tags == ["pets|shrek"]
    assert vocab.match([("cat", 0.6)])[0][:2] == ("pets|shrek", 0.6)
    plain = TagVocabulary(text_encoder, ["shrek"], {"shrek": ["kitty"]})
    assert plain.match([("cat", 0.6)])[0][0] == "shrek"


def test_embeddings_are_cached_per_text(text_encoder):
    counting = CountingEncoder(text_encoder)
    vocab = TagVocabulary(counting, ["kitty", "car"])
    assert sorted(counting.seen) == ["car", "kitty"]
    words = [("cat", 0.5), ("animal", 0.3)]
    first = vocab.match(words)
    vocab.match(words)
    vocab.add("pizza")
    assert sorted(counting.seen) == ["animal", "car", "cat", "kitty", "pizza"]
    assert vocab.match(words) == first


def test_similarity_threshold_cuts_unrelated_words(text_encoder):
    vocab = TagVocabulary(text_encoder, ["kitty", "car"])
    assert vocab.similarity("cat", "kitty") > 0.4
    assert vocab.similarity("cat", "car") == 0.0
    loose = TagVocabulary(text_encoder, ["car"], threshold=0.0)
    assert loose.similarity("cat", "car") > 0.0
    with pytest.raises(ValueError):
        TagVocabulary(text_encoder, [], threshold=1.0)
