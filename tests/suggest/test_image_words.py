"""Image words: the committed WordNet table, the spreading of class probabilities to words,
and real photos of the sample library (the cat says "cat", the espresso "coffee")."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tagassist.paths import sample_library_dir
from tagassist.suggest.image_words import DEFAULT_TABLE, ImageWords
from tests.suggest.conftest import needs_export

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_hypernyms.py"
WORDNET = Path("/usr/share/wordnet/data.noun")
CAT_BREEDS = (281, 282, 283, 284, 285)  # tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(scope="module")
def table() -> dict:
    return json.loads(DEFAULT_TABLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def iw() -> ImageWords:
    return ImageWords()


def _names(table: dict, index: int) -> tuple[list[str], dict[str, int]]:
    cls = table["classes"][index]
    return cls["names"], {n: d for n, d in cls["hypernyms"]}


def test_table_covers_all_1000_classes_in_logit_order(table):
    classes = table["classes"]
    assert [c["index"] for c in classes] == list(range(1000))
    assert all(re.fullmatch(r"n\d{8}", c["wnid"]) and c["names"] for c in classes)
    model_classes = ROOT / "models" / "image-lite0" / "classes.json"
    if model_classes.is_file():
        raw = json.loads(model_classes.read_text(encoding="utf-8"))
        assert [c["wnid"] for c in classes] == [raw[str(i)]["wnid"] for i in range(1000)]
    assert table["wordnet_version"] == "3.0"
    assert DEFAULT_TABLE.stat().st_size < 1_000_000


def test_table_has_readable_hypernyms_without_stop_words(table):
    names, hyp = _names(table, 281)
    assert names == ["tabby", "tabby cat"]
    for word in ("domestic cat", "cat", "feline", "carnivore", "mammal", "animal"):
        assert word in hyp
    assert hyp["domestic cat"] < hyp["cat"] < hyp["feline"] < hyp["carnivore"] < hyp["mammal"]
    names, hyp = _names(table, 967)
    assert names == ["espresso"]
    assert {"coffee", "beverage", "drink", "food"} <= set(hyp)
    stop = {s["name"].replace("_", " ") for s in table["stoplist"]}
    skip = {s["name"].replace("_", " ") for s in table["skiplist"]}
    assert {"entity", "object", "whole", "artifact", "organism", "living thing"} <= stop
    used = {n for c in table["classes"] for n, _ in c["hypernyms"]}
    assert not used & (stop | skip)
    # Latin binomials are dropped: the tench is not also called "Tinca tinca".
    assert table["classes"][0]["names"] == ["tench"]


@pytest.mark.skipif(not WORDNET.is_file(), reason="needs Debian's wordnet-base")
def test_build_script_reproduces_the_committed_table(tmp_path):
    out = tmp_path / "words.json"
    run = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)],
                         capture_output=True, text=True, check=True)
    assert "1000 classes" in run.stdout and str(out) in run.stdout
    assert out.read_bytes() == DEFAULT_TABLE.read_bytes()


def _logits(probs: dict[int, float]) -> np.ndarray:
    """Logits whose softmax puts ``probs`` on the given classes and spreads the rest."""
    rest = (1.0 - sum(probs.values())) / (1000 - len(probs))
    p = np.full(1000, rest)
    for i, v in probs.items():
        p[i] = v
    return np.log(p).astype(np.float32)


def test_shared_hypernym_beats_every_single_breed(iw):
    words = iw.words(_logits(dict.fromkeys(CAT_BREEDS, 0.19)), top_k=5)
    scores = {w: s for w, s, _ in words}
    assert scores["cat"] > max(scores[b] for b in ("tabby", "tiger cat", "Persian cat",
                                                   "Siamese cat", "Egyptian cat"))
    assert scores["cat"] == pytest.approx(5 * 0.19 * 0.8 ** 2, rel=1e-3)
    assert all(0.0 < s <= 1.0 for _, s, _ in words)
    reason = words[0][2]
    assert reason.startswith("image: looks like ") and reason.count("(") == 2


def test_words_are_deterministic_and_respect_min_prob(iw):
    logits = _logits({967: 0.5, 968: 0.3, 504: 0.005})
    words = iw.words(logits, min_prob=0.01)
    assert words == iw.words(logits.copy(), min_prob=0.01)
    assert [s for _, s, _ in words] == sorted((s for _, s, _ in words), reverse=True)
    ties = [w for w, s, _ in words if s == words[0][1]]
    assert ties == sorted(ties, key=str.casefold)
    assert "coffee mug" not in {w for w, _, _ in words}  # 504 is under the floor
    assert iw.words(logits, min_prob=0.9) == []
    assert iw.words(logits, limit=2) == words[:2]


def test_bad_inputs_are_reported(iw, tmp_path):
    with pytest.raises(ValueError, match="logits"):
        iw.words(np.zeros(10, np.float32))
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="build_hypernyms"):
        ImageWords(bad)


@pytest.fixture(scope="module")
def photo_words(models_dir, iw) -> dict[str, list[tuple[str, float, str]]]:
    from tagassist.suggest.encoders import ImageEncoder

    encoder = ImageEncoder(models_dir / "image-lite0")
    paths = [sample_library_dir() / "2019-spring-berkeley" / "chelsea-the-cat.jpg",
             sample_library_dir() / "2018-montreal" / "espresso.jpg"]
    logits, _ = encoder.encode(paths)
    return {p.stem: iw.words(row) for p, row in zip(paths, logits, strict=True)}


@needs_export
def test_cat_photo_says_cat(photo_words):
    top5 = [w for w, _, _ in photo_words["chelsea-the-cat"][:5]]
    assert "cat" in top5, top5


@needs_export
def test_espresso_photo_says_coffee(photo_words):
    top5 = [w for w, _, _ in photo_words["espresso"][:5]]
    assert {"coffee", "espresso"} & set(top5), top5

