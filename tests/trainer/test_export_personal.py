"""Personal content rankers export to ONNX under the serving contract, parity-checked."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

from tagassist.suggest.runtime import OnnxModel, sha256_file
from tests.trainer.conftest import synthetic
from trainer.data import TagData
from trainer.export.core import ExportError
from trainer.export.personal import contract, export_personal
from trainer.models import Batch, TagModel
from trainer.models.cnn_permlp import CNNPerMLP
from trainer.models.dae_ptr import DAEPTR

N_FEATURES = 12


@pytest.fixture(scope="module")
def data() -> tuple[TagData, np.ndarray]:
    d = synthetic()
    feats = np.abs(np.random.default_rng(0).normal(size=(d.n_items, N_FEATURES)))
    return d, (feats * 2.0 + 0.5).astype(np.float32)


@pytest.fixture(scope="module")
def fitted(data) -> dict[str, TagModel]:
    d, feats = data
    return {"dae_ptr": DAEPTR(item_features=feats, k=8, epochs=2).fit(d, seed=0),
            "cnn_permlp": CNNPerMLP(item_features=feats, hidden=16, epochs=2,
                                    standardize=True).fit(d, seed=0)}


@pytest.fixture(scope="module")
def exported(fitted, data, tmp_path_factory) -> dict[str, Path]:
    d, _ = data
    out = {}
    for name, m in fitted.items():
        folder = tmp_path_factory.mktemp(name)
        path = export_personal(m, folder, tags=d.tags, users=d.users, extra={"version": 3})
        assert path == folder / "model.onnx"
        out[name] = folder
    return out


def _session(folder: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])


def _feeds(model: TagModel, users: np.ndarray, items: np.ndarray, lists: list[np.ndarray]
           ) -> dict[str, np.ndarray]:
    feeds = {"features": model.item_features[items], "user": users.astype(np.int64)}
    if model.name == "dae_ptr":
        hot = np.zeros((users.size, model.n_tags), np.float32)
        for r, t in enumerate(lists):
            hot[r, t] = 1.0
        feeds["tags_in"] = hot
    return feeds


@pytest.mark.parametrize("name", ["dae_ptr", "cnn_permlp"])
@pytest.mark.parametrize("n", [1, 7])
def test_onnx_matches_torch(fitted, exported, name, n):
    m = fitted[name]
    rng = np.random.default_rng(n)
    users = rng.integers(0, m.n_users, size=n)
    items = rng.integers(0, m.n_items, size=n)
    lists = [np.unique(rng.integers(0, m.n_tags, size=int(rng.integers(0, 4))))
             for _ in range(n)]
    (got,) = _session(exported[name]).run(["scores"], _feeds(m, users, items, lists))
    want = m.score(Batch(users, items, np.zeros(n), lists))
    assert got.dtype == np.float32 and got.shape == (n, m.n_tags)
    assert np.abs(got - want).max() <= 1e-4


@pytest.mark.parametrize("name", ["dae_ptr", "cnn_permlp"])
def test_unknown_user_means_no_user_embedding(fitted, exported, name):
    m = fitted[name]
    items = np.array([0, 3, 5])
    lists = [np.array([1]), np.empty(0, np.int64), np.array([0, 2])]
    session = _session(exported[name])
    (unknown,) = session.run(["scores"], _feeds(m, np.array([-1, -1, -1]), items, lists))
    (known,) = session.run(["scores"], _feeds(m, np.array([0, 1, 2]), items, lists))
    assert np.isfinite(unknown).all() and not np.allclose(unknown, known)
    # the same as a model whose user rows are all zero
    zeroed = {"dae_ptr": "p", "cnn_permlp": "v"}[name]
    with torch.no_grad():
        emb = getattr(m.net, zeroed).weight
        saved = emb.clone()
        emb.zero_()
        try:
            want = m.score(Batch(np.array([0, 1, 2]), items, np.zeros(3), lists))
        finally:
            emb.copy_(saved)
    assert np.abs(unknown - want).max() <= 1e-4


@pytest.mark.parametrize("name", ["dae_ptr", "cnn_permlp"])
def test_metadata(fitted, exported, data, name):
    d, _ = data
    folder = exported[name]
    meta = json.loads((folder / "metadata.json").read_text())
    inputs = ["features", "user", "tags_in"] if name == "dae_ptr" else ["features", "user"]
    assert meta["kind"] == "personal-content" and meta["model"] == name
    assert meta["format"] == 1 and meta["tags"] == d.tags and meta["users"] == d.users
    assert meta["n_features"] == N_FEATURES
    assert [i["name"] for i in meta["inputs"]] == inputs
    assert [o["name"] for o in meta["outputs"]] == ["scores"]
    assert meta["inputs"][0] == {"name": "features", "dtype": "float32",
                                 "shape": ["batch", N_FEATURES]}
    assert meta["inputs"][1] == {"name": "user", "dtype": "int64", "shape": ["batch"]}
    assert meta["outputs"][0] == {"name": "scores", "dtype": "float32",
                                  "shape": ["batch", len(d.tags)]}
    if name == "dae_ptr":
        assert meta["inputs"][2] == {"name": "tags_in", "dtype": "float32",
                                     "shape": ["batch", len(d.tags)]}
    assert [i.name for i in _session(folder).get_inputs()] == inputs
    assert meta["contract"] == contract(inputs, N_FEATURES, len(d.tags)).to_json()
    assert isinstance(meta["opset"], int) and meta["opset"] >= 18
    assert meta["sha256"] == sha256_file(folder / "model.onnx")
    assert meta["config"] == fitted[name].config
    assert meta["torch_version"] == torch.__version__
    assert meta["exported_at"].endswith("+00:00") and meta["version"] == 3
    assert meta["parity"]["max_abs_diff"] <= 1e-4
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "model.onnx"]


@pytest.mark.parametrize("name", ["dae_ptr", "cnn_permlp"])
def test_the_app_runtime_loads_and_runs_it(fitted, exported, name):
    """The serving side opens personal models with OnnxModel: checksum, signature, warm-up."""
    m = fitted[name]
    model = OnnxModel(exported[name], providers=["CPUExecutionProvider"])
    assert model.name == "personal-content" and model.input_names[:2] == ["features", "user"]
    users, items = np.array([0, -1]), np.array([1, 2])
    lists = [np.array([0]), np.empty(0, np.int64)]
    got = model.run(_feeds(m, users, items, lists))["scores"]
    (want,) = _session(exported[name]).run(["scores"], _feeds(m, users, items, lists))
    assert np.array_equal(got, want)


def test_export_is_quiet_and_atomic(fitted, exported, data, tmp_path, capfd, monkeypatch):
    import trainer.export.personal as ep

    d, _ = data
    for f in ("model.onnx", "metadata.json"):  # a previous export
        shutil.copyfile(exported["cnn_permlp"] / f, tmp_path / f)
    before = sha256_file(tmp_path / "model.onnx")

    def broken(*a, **k):
        raise ExportError("disagree beyond 0.0001")

    monkeypatch.setattr(ep, "_parity", broken)  # fails after the new file was written
    capfd.readouterr()
    with pytest.raises(ExportError):
        export_personal(fitted["cnn_permlp"], tmp_path, tags=d.tags, users=d.users, extra={})
    assert capfd.readouterr().out == ""  # stdout belongs to the caller's JSON lines
    assert sha256_file(tmp_path / "model.onnx") == before  # the old model is untouched
    assert sorted(os.listdir(tmp_path)) == ["metadata.json", "model.onnx"]  # no temp left


def test_refuses_what_it_cannot_serve(fitted, data, tmp_path):
    d, _ = data
    plain = DAEPTR(k=4, epochs=1).fit(d, seed=0)  # no content vector
    with pytest.raises(ExportError, match="item_features"):
        export_personal(plain, tmp_path, tags=d.tags, users=d.users, extra={})
    with pytest.raises(ValueError, match="tags"):
        export_personal(fitted["cnn_permlp"], tmp_path, tags=d.tags[:-1], users=d.users,
                        extra={})
    with pytest.raises(ValueError, match="redefine"):
        export_personal(fitted["cnn_permlp"], tmp_path, tags=d.tags, users=d.users,
                        extra={"sha256": "x"})
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["dae_ptr", "cnn_permlp"])
def test_an_update_refills_the_previous_graph_and_keeps_parity(fitted, exported, data,
                                                               tmp_path, name):
    """An update's rows (two new tags here) go into the previous version's graph; a graph
    traced for another user count is traced again."""
    import copy

    from trainer.models.base import remap_rows

    d, _ = data
    m = copy.deepcopy(fitted[name])
    remap_rows(m, np.r_[np.arange(m.n_tags), -1, -1], np.arange(m.n_users))
    tags = [*d.tags, "new one", "new two"]
    export_personal(m, tmp_path / "next", tags=tags, users=d.users, reuse=exported[name])
    meta = json.loads((tmp_path / "next" / "metadata.json").read_text())
    assert meta["graph"] == f"refilled from {exported[name].name}"
    assert meta["parity"]["max_abs_diff"] <= meta["parity"]["tolerance"]
    assert meta["inputs"][0]["shape"] == ["batch", N_FEATURES]
    assert meta["outputs"][0]["shape"] == ["batch", m.n_tags]
    served = OnnxModel(tmp_path / "next", providers=["CPUExecutionProvider"])
    users, items = np.array([0, -1, 1]), np.array([1, 2, 3])
    lists = [np.array([0, m.n_tags - 1]), np.empty(0, np.int64), np.array([2])]
    got = served.run(_feeds(m, users, items, lists))["scores"]
    want = m.score(Batch(np.where(users >= 0, users, 0), items, np.zeros(3), lists))
    assert np.abs(got[[0, 2]] - want[[0, 2]]).max() < 1e-4  # known users: the model itself

    remap_rows(m, np.arange(m.n_tags), np.r_[np.arange(m.n_users), -1])  # another person
    export_personal(m, tmp_path / "grown", tags=tags, users=[*d.users, "someone"],
                    reuse=exported[name])
    assert json.loads((tmp_path / "grown" / "metadata.json").read_text())["graph"] == "traced"
