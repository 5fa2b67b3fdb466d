"""The document rankers (WSABIE, AWE, #TagSpace, CSRW-d/-s/-t) on a small synthetic corpus, the
per-tag protocol pieces they are measured with, and ``trainer.repeat`` end to end."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tagassist.media.words import FIRST_WORD, doc_words, word_bag, word_index
from trainer import repeat
from trainer.data import TagData, from_records, min_tag_items
from trainer.metrics import aggregate
from trainer.models import Batch, create
from trainer.models.text_rankers import TEXT_RANKERS
from trainer.protocols import sample_test, split

NAMES = [m.name for m in TEXT_RANKERS] + ["tagspace"]
FAST = {"dim": 16, "epochs": 15, "lr": 0.1, "batch_size": 32}


def topic_corpus(n_docs: int = 240, seed: int = 0) -> TagData:
    """Each document mixes 3 words of its topic with 4 filler words shared by all topics; its
    tags are its topic's tag plus one of two rarer sub-tags named by a sub-topic word."""
    rng = np.random.default_rng(seed)
    topics = {t: [f"w{t}{k}" for k in range(4)] for t in range(6)}
    filler = [f"f{k}" for k in range(20)]
    recs, text = [], {}
    for d in range(n_docs):
        t, sub = d % 6, int(rng.integers(2))
        words = list(rng.choice(topics[t], 3)) + [f"s{t}{sub}"] + list(rng.choice(filler, 4))
        rng.shuffle(words)
        text[f"d{d}"] = " ".join(words)
        for tag in (f"topic{t}", f"sub{t}{sub}"):
            recs.append(("u", f"d{d}", tag, float(d)))
    return from_records(recs, text, name="topics")


def test_words_bag_counts_known_words_most_frequent_first():
    index = word_index(["apple", "pie"])
    ids, counts = word_bag("Pie, apple PIE; cherry-pie", index, max_words=8)
    assert doc_words("Apple_pie 3.14 p53 2011 Ünï") == ["apple", "pie", "p53", "ünï"]
    assert ids.tolist() == [FIRST_WORD + 1, FIRST_WORD] and counts.tolist() == [3.0, 1.0]
    assert word_bag("nothing known", index, 8)[0].size == 0


@pytest.mark.parametrize("name", NAMES)
def test_each_ranker_learns_topics_from_words(name):
    d = topic_corpus()
    train_mask = np.isin(d.item, np.arange(0, 200))
    m = create(name, **FAST, **({"init_epochs": 5} if name == "tagspace" else {}))
    m.fit(d.subset(train_mask), seed=0)
    test = np.arange(200, 240)
    s = m.score(Batch(np.zeros(40, np.int64), test, np.zeros(40), [np.empty(0)] * 40))
    assert s.shape == (40, d.n_tags) and np.isfinite(s).all()
    topic_of = {i: d.tag[(d.item == i)] for i in test}
    hits = [len(set(np.argsort(-s[r])[:2]) & set(topic_of[i].tolist())) / 2
            for r, i in enumerate(test)]
    assert np.mean(hits) > 0.6, np.mean(hits)  # random: 2/18 ≈ 0.11


@pytest.mark.parametrize("name", ["csrw_t", "tagspace"])
def test_save_and_load_give_the_same_scores(name, tmp_path):
    d = topic_corpus(60)
    m = create(name, **{**FAST, "epochs": 2},
               **({"init_epochs": 1} if name == "tagspace" else {})).fit(d, seed=0)
    m.save(tmp_path / name)
    back = type(m).load(tmp_path / name)
    back.set_item_text({i: d.item_text[n] for i, n in enumerate(d.items)})
    b = Batch(np.zeros(5, np.int64), np.arange(5), np.zeros(5), [np.empty(0)] * 5)
    np.testing.assert_allclose(back.score(b), m.score(b), rtol=1e-5, atol=1e-6)


def test_awe_differs_from_csrw_d_only_by_length_normalization():
    awe, csrw = create("awe"), create("csrw_d")
    counts = np.array([3.0, 1.0], np.float32)
    assert awe.weights(counts).tolist() == [3.0, 1.0]
    assert csrw.weights(counts).tolist() == [0.75, 0.25]


def test_csrw_t_slice_scores_are_the_tensor_slice():
    d = topic_corpus(60)
    m = create("csrw_t", **{**FAST, "epochs": 1}).fit(d, seed=0)
    net, w = m.net, FIRST_WORD + 3
    direct = torch.stack([net.U.weight[w] @ net.P[1] @ net.Q[1] @ net.V.weight[t]
                          for t in range(d.n_tags)])
    torch.testing.assert_close(net.slice_scores(w, 1), direct, rtol=1e-4, atol=1e-5)


def test_tagspace_warp_search_skips_the_documents_own_tags():
    d = topic_corpus(60)
    m = create("tagspace", **{**FAST, "epochs": 1, "init_epochs": 1, "margin": 1e9})
    m.fit(d, seed=0)
    known = torch.from_numpy(np.unique(d.item.astype(np.int64) * d.n_tags + d.tag))
    e = torch.randn(8, FAST["dim"])
    found, neg = m._warp_search(e, torch.zeros(8), np.arange(8), known, torch.Generator())
    assert found.all()  # with a huge margin every random tag violates...
    for i in range(8):  # ...except the document's own tags, which are never taken
        assert int(neg[i]) not in set(d.tag[d.item == i].tolist())


def test_per_tag_protocol_keeps_p_items_per_tag_and_excludes_known_tags():
    d = topic_corpus(120)
    s = split(d, "per-tag", seed=0, per_tag_p=2)
    per_tag = np.bincount(s.train.tag, minlength=d.n_tags)
    assert (per_tag <= 2).all() and per_tag.sum() > 0
    for item, inputs, truth in zip(s.item, s.inputs, s.truth, strict=True):
        trained = set(s.train.tag[s.train.item == item].tolist())
        assert set(inputs.tolist()) == trained and not trained & set(truth.tolist())
    few = sample_test(s, 10, seed=0)
    assert len(few) == 10 and len(few.train) == len(s.train)  # the rest dropped, not trained on


def test_min_tag_items_drops_rare_tags():
    d = from_records([("u", "a", "x", 0), ("u", "b", "x", 0), ("u", "a", "y", 0)])
    kept = min_tag_items(d, 2)
    assert kept.tags == ["x"] and len(kept) == 2


def test_full_map_is_the_mean_precision_at_each_true_tag():
    # truth of 3 tags at ranks 1, 4 and never: (1/1 + 2/4 + 0) / 3
    out = aggregate([np.array([1.0, 4.0, np.inf])], [3], ks=(5,))
    assert out["map"] == pytest.approx((1 + 0.5) / 3)


def test_repeat_summarises_seeds_with_mean_and_std(tmp_path):
    d = topic_corpus(120)
    posts = tmp_path / "posts.tsv"
    posts.write_text("".join(f"{d.users[u]}\t{d.items[i]}\t{d.tags[t]}\t{int(x)}\n" for u, i, t, x
                             in zip(d.user, d.item, d.tag, d.time, strict=True)))
    text = tmp_path / "text.tsv"
    text.write_text("".join(f"{k}\t{v}\n" for k, v in d.item_text.items()))
    out, report = tmp_path / "r.json", tmp_path / "r.md"
    cfg = json.dumps({"wsabie": {**FAST, "epochs": 3}})
    assert repeat.main(["--seeds", "0,1", "--json", str(out), "--report", str(report), "--",
                        "--data", str(posts), "--item-text", str(text), "--protocol", "per-tag",
                        "--per-tag-p", "3", "--models", "mp,wsabie", "--config", cfg,
                        "--no-progress"]) == 0
    res = json.loads(out.read_text())
    assert res["seeds"] == [0, 1] and len(res["runs"]) == 2
    mean, std = res["summary"]["wsabie"]["r@50"]
    runs = [r["results"]["wsabie"]["r@50"] for r in res["runs"]]
    assert mean == pytest.approx(np.mean(runs), abs=1e-4) and std == pytest.approx(
        np.std(runs), abs=1e-4)
    assert res["summary"]["wsabie"]["map"][0] > res["summary"]["mp"]["map"][0]
    assert "± " in report.read_text() and (tmp_path / "r-recall.png").stat().st_size > 1000


def test_minilm_knn_ranks_the_tags_of_similar_texts(tmp_path, monkeypatch):
    monkeypatch.setenv("TAGASSIST_CACHE", str(tmp_path))
    recs = [("u", f"a{k}", "astronomy", 0) for k in range(3)] + \
        [("u", f"c{k}", "cooking", 0) for k in range(3)] + \
        [("u", "q1", "x", 0), ("u", "q2", "x", 0)]
    text = {"a0": "telescope images of distant galaxies", "a1": "stars and planets at night",
            "a2": "a new comet seen through the telescope", "c0": "a recipe for bread dough",
            "c1": "how to bake a chocolate cake", "c2": "slow cooked tomato sauce with basil",
            "q1": "photographing galaxies and nebulae", "q2": "kneading dough for pizza"}
    d = from_records(recs, text)
    m = create("minilm_knn", k=3).fit(d.subset(d.tag != d.tags.index("x")))
    q = np.array([d.items.index("q1"), d.items.index("q2")])
    s = m.score(Batch(np.zeros(2, np.int64), q, np.zeros(2), [np.empty(0)] * 2))
    astro, cook = d.tags.index("astronomy"), d.tags.index("cooking")
    assert s[0, astro] > s[0, cook] and s[1, cook] > s[1, astro]
    assert list(tmp_path.glob("minilm-*.npy"))  # cached for the next seed
