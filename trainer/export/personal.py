"""Export a personal content ranker (DAE-PTR with content, or CNN-PerMLP) to ONNX, checked.

``export_personal(model, out_dir, tags=..., users=..., extra=...)`` writes ``out_dir/model.onnx``
and ``out_dir/metadata.json`` for the suggestion service (DESIGN.md "Data flow" step 3).  The
ONNX contract (:func:`contract`, stored in metadata.json and checked by the app when it loads
the model; change ``FORMAT`` if it ever changes):

- inputs, in this order:
  ``features`` float32 [batch, F]: the stored image embedding, raw (any standardization of the
  trainer is inside the graph);
  ``user`` int64 [batch]: row index into metadata ``users``; -1 (or any index outside the list)
  = unknown user, scored without a user embedding;
  ``tags_in`` float32 [batch, n_tags], DAE-PTR only: multi-hot of the item's current tags
  (ỹ, uncorrupted).  CNN-PerMLP has no ``tags_in``.
- output ``scores`` float32 [batch, n_tags]: logits, higher = better.
- ``batch`` is a dynamic dimension (1 … 1024).
- metadata.json: ``kind`` "personal-content", ``model``, ``format``, ``tags``, ``users``,
  ``n_features``, ``contract``, ``inputs``/``outputs`` as ``{"name", "dtype", "shape"}`` in
  graph order (``[i["name"] for i in meta["inputs"]]`` gives the names; this is the form
  :class:`tagassist.suggest.runtime.OnnxModel` requires), ``opset``, ``sha256``, ``config``,
  ``torch_version``, ``exported_at``, ``parity``, ``name`` (default "personal-content"), then
  the caller's ``extra``.

DAE-PTR: z = σ(W·ỹ + p_u + C·x + b), scores = W'·z + b' — the model's own ``score`` with the
sparse W·ỹ written as a dense product (the same numbers up to float rounding).  The model must
have been built with ``item_features`` (the content vector C·x takes the place of q_i).

Validated before anything is installed: the graph keeps the contract, and onnxruntime (CPU
provider) and PyTorch agree within its tolerance (max abs diff) on batches of 1, 7 and 32,
including unknown users; the file is written in a temporary folder in ``out_dir`` and moved in
with ``os.replace``, metadata.json last.
The exporter's output is captured: nothing reaches stdout (the caller prints JSON lines there).
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tagassist.suggest.runtime import MODEL
from trainer.export.contract import MAX_DIM, OnnxContract, Tensor
from trainer.export.core import (
    ExportError,
    base_metadata,
    check_parity,
    export_onnx,
    seal,
    write_json,
)
from trainer.models.base import Batch, TagModel
from trainer.models.cnn_permlp import CNNPerMLP
from trainer.models.dae_ptr import DAEPTR

FORMAT = 1
KIND = "personal-content"
RESERVED = ("kind", "model", "format", "tags", "users", "n_features", "inputs", "outputs",
            "opset", "contract", "sha256", "config", "torch_version", "exported_at", "parity")
PARITY_BATCHES = (1, 7, 32)


def contract(names: list[str], n_features: int, n_tags: int) -> OnnxContract:
    """The inputs of ``names`` (``_graph``'s order) and one ``scores`` [batch, n_tags]."""
    specs = {"features": Tensor("features", "float32", ("batch", n_features)),
             "user": Tensor("user", "int64", ("batch",)),
             "tags_in": Tensor("tags_in", "float32", ("batch", n_tags))}
    return OnnxContract(inputs=tuple(specs[n] for n in names),
                        outputs=(Tensor("scores", "float32", ("batch", n_tags)),),
                        axes={"batch": (1, MAX_DIM)})


class _DAEGraph(torch.nn.Module):
    """DAE-PTR with content as a dense graph: (features, user, tags_in) -> scores."""

    def __init__(self, model: DAEPTR) -> None:
        super().__init__()
        self.net = model.net
        self.n_users = model.n_users

    def forward(self, features: torch.Tensor, user: torch.Tensor,
                tags_in: torch.Tensor) -> torch.Tensor:
        net = self.net
        known = ((user >= 0) & (user < self.n_users)).unsqueeze(1).to(features.dtype)
        p = net.p(user.clamp(0, self.n_users - 1)) * known
        wy = tags_in @ net.enc.weight  # Σ_t ỹ_t W[:, t]: EmbeddingBag's sum, densely
        z = torch.sigmoid(wy + net.enc_bias + p + net.content(features))
        return net.dec(z)


class _PerMLPGraph(torch.nn.Module):
    """CNN-PerMLP: (features, user) -> scores; unknown users are handled by the net itself."""

    def __init__(self, model: CNNPerMLP) -> None:
        super().__init__()
        self.net = model.net

    def forward(self, features: torch.Tensor, user: torch.Tensor) -> torch.Tensor:
        return self.net(features, user)


def _graph(model: TagModel) -> tuple[torch.nn.Module, list[str]]:
    if isinstance(model, CNNPerMLP):
        return _PerMLPGraph(model), ["features", "user"]
    if isinstance(model, DAEPTR):
        if model.item_features is None or not hasattr(model.net, "content"):
            raise ExportError("dae_ptr: only a model built with item_features (content vector "
                              "in place of q_i) can be exported as a personal content ranker")
        return _DAEGraph(model), ["features", "user", "tags_in"]
    raise ExportError(f"{type(model).__name__}: not a personal content ranker "
                      "(dae_ptr with item_features, or cnn_permlp)")


def _item_features(model: TagModel) -> np.ndarray:
    feats = getattr(model, "item_features", None)
    if feats is None:
        raise ExportError(f"{model.name}: the model has no item_features")
    return np.asarray(feats, np.float32)


def _example(model: TagModel, names: list[str], n: int, seed: int
             ) -> tuple[dict[str, np.ndarray], list[np.ndarray], np.ndarray]:
    """Feeds for ``n`` cases from the model's own items and users (a few unknown users), the
    tag lists behind ``tags_in``, and the items used."""
    rng = np.random.default_rng(seed)
    feats = _item_features(model)
    items = rng.integers(0, feats.shape[0], size=n)
    users = rng.integers(0, max(model.n_users, 1), size=n).astype(np.int64)
    if n > 2:
        users[rng.choice(n, size=max(1, n // 4), replace=False)] = -1
    lists = [np.sort(rng.choice(model.n_tags, size=int(rng.integers(0, min(4, model.n_tags) + 1)),
                                replace=False)).astype(np.int64) for _ in range(n)]
    feeds: dict[str, np.ndarray] = {"features": feats[items].astype(np.float32),
                                    "user": users}
    if "tags_in" in names:
        hot = np.zeros((n, model.n_tags), np.float32)
        for r, t in enumerate(lists):
            hot[r, t] = 1.0
        feeds["tags_in"] = hot
    return feeds, lists, items


@torch.no_grad()
def _reference(model: TagModel, graph: torch.nn.Module, feeds: dict[str, np.ndarray],
               lists: list[np.ndarray], items: np.ndarray) -> np.ndarray:
    """What the trained model says: ``model.score``; for DAE-PTR's unknown users the torch
    graph (its ``score`` clamps an unknown user to row 0 instead)."""
    users = feeds["user"]
    if isinstance(model, CNNPerMLP):  # its score treats -1 as the graph does
        return model.score(Batch(users, items, np.zeros(users.size), lists))
    batch = Batch(np.where(users >= 0, users, 0), items, np.zeros(users.size), lists)
    ref = model.score(batch)
    unknown = users < 0
    if unknown.any():
        ref = ref.copy()
        out = graph(*(torch.from_numpy(v) for v in feeds.values())).numpy()
        ref[unknown] = out[unknown]
    return ref


def _parity(model: TagModel, graph: torch.nn.Module, names: list[str], path: Path,
            tolerance: float) -> dict[str, Any]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    diffs = {}  # the inputs' names and order were checked against the contract already
    for k, n in enumerate(PARITY_BATCHES):
        feeds, lists, items = _example(model, names, n, seed=k)
        (out,) = session.run(["scores"], feeds)
        ref = _reference(model, graph, feeds, lists, items)
        if out.shape != ref.shape or out.dtype != np.float32:
            raise ExportError(f"{model.name}: ONNX scores {out.dtype}{list(out.shape)}, "
                              f"expected float32{list(ref.shape)}")
        diffs[f"batch {n}"] = float(np.abs(out - ref).max())
    worst = check_parity(model.name, diffs, tolerance)
    return {"max_abs_diff": worst, "per_batch": diffs, "tolerance": tolerance,
            "provider": "CPUExecutionProvider",
            "checked_on": "the model's own items, random users (a quarter unknown, -1) and "
                          "random tag sets"}


def refill_graph(previous: Path, graph: torch.nn.Module, n_tags: int, target: Path) -> bool:
    """Write ``target``: the ``previous`` version's graph with ``graph``'s weights.

    An update fits only rows of the tables (the person's, new tags'); the graph is the same,
    and tracing it again costs most of an update (the dynamo exporter: 6.5 s of a 9.6 s
    update on the 1,000-photo bench, measured).  The weights are the graph's initializers
    by name; the tag count is a dimension of ``tags_in`` and ``scores``.  False when the
    file does not fit (unreadable, another set of weights or ranks); the caller exports
    afresh then.  Numbers the trace baked in (the user count) are the caller's to compare;
    the parity check that follows catches anything else that went stale.
    """
    import onnx
    from onnx import numpy_helper

    try:
        onnx_model = onnx.load(str(previous))
    except Exception:  # noqa: BLE001 - a damaged or missing file: export afresh
        return False
    weights = {k: v.detach().cpu().numpy() for k, v in graph.state_dict().items()}
    inits = {i.name: i for i in onnx_model.graph.initializer}
    named = set(inits) & set(weights)
    if not named or any(len(inits[k].dims) != weights[k].ndim for k in named):
        return False
    for k in named:
        inits[k].CopyFrom(numpy_helper.from_array(weights[k].astype(np.float32), k))
    for value in (*onnx_model.graph.input, *onnx_model.graph.output):
        if value.name in ("tags_in", "scores"):
            value.type.tensor_type.shape.dim[1].dim_value = n_tags
    del onnx_model.graph.value_info[:]  # intermediate shapes of the old tag count
    onnx.save(onnx_model, str(target))
    return True


def _same_graph(folder: Path, model: TagModel, n_features: int) -> bool:
    """Whether ``folder``'s graph was traced for this model, user count and feature size
    (the trace bakes the user count in as constants)."""
    try:
        meta = json.loads((folder / "metadata.json").read_text())
        return (meta.get("format") == FORMAT and meta.get("model") == model.name
                and len(meta.get("users", ())) == model.n_users
                and meta.get("n_features") == n_features)
    except (OSError, ValueError, TypeError):
        return False


def export_personal(model: TagModel, out_dir: str | os.PathLike[str], *, tags: list[str],
                    users: list[str], extra: dict[str, Any] | None = None,
                    reuse: Path | None = None) -> Path:
    """Write ``model.onnx`` + ``metadata.json`` for a fitted personal content ranker.

    ``tags``/``users`` name the model's tag and user indices (``TagData.tags``/``.users``);
    ``extra`` is merged into the metadata (it may not redefine the contract's own keys; it may
    set ``name``, which defaults to ``"personal-content"``).
    ``reuse``: the folder of the version this one updates; its graph is refilled with the new
    weights (:func:`refill_graph`) when it was made for the same model, user count and feature
    size, and exported afresh otherwise or if the refilled graph fails its checks.
    Returns the path of ``model.onnx``; raises :class:`ExportError` if the export or its parity
    check fails, leaving any previous model in ``out_dir`` as it was.
    """
    if not hasattr(model, "net"):
        raise ExportError(f"{model.name}: the model is not fitted")
    graph, names = _graph(model)
    clash = sorted(set(extra or {}) & set(RESERVED))
    if clash:
        raise ValueError(f"extra metadata may not redefine {clash}")
    if len(tags) != model.n_tags or len(users) != model.n_users:
        raise ValueError(f"{model.name}: {len(tags)} tags / {len(users)} users given for a "
                         f"model of {model.n_tags} tags / {model.n_users} users")
    n_features = int(_item_features(model).shape[1])
    spec = contract(names, n_features, model.n_tags)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    graph.eval()

    # A private folder inside out_dir: the graph is checked there (contract, parity), then
    # only model.onnx moves in, so a failure leaves any previous model as it was.
    work = Path(tempfile.mkdtemp(prefix=".model-", dir=out))
    try:
        checked, traced = None, False
        if reuse is not None and _same_graph(reuse, model, n_features) and refill_graph(
                reuse / MODEL, graph, model.n_tags, work / MODEL):
            try:
                checked = (base_metadata(KIND, {}, work, spec),
                           _parity(model, graph, names, work / MODEL, spec.tolerance))
            except ExportError:
                checked = None  # something the trace baked in went stale: trace it again
        if checked is None:
            feeds, _, _ = _example(model, names, 2, seed=0)
            chatter = io.StringIO()
            with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
                export_onnx(graph, {n: torch.from_numpy(feeds[n]) for n in names},
                            work / MODEL, spec)
            traced = True
            checked = (base_metadata(KIND, {}, work, spec),
                       _parity(model, graph, names, work / MODEL, spec.tolerance))
        base, parity = checked
        # inputs/outputs as {name, dtype, shape} in graph order: the form the app's runtime
        # (tagassist.suggest.runtime.OnnxModel) reads and checks against the session
        meta: dict[str, Any] = {
            "name": KIND, "kind": KIND, "model": model.name, "format": FORMAT,
            "tags": list(tags), "users": list(users), "n_features": n_features,
            "inputs": base["inputs"], "outputs": base["outputs"], "opset": base["opset"],
            "contract": base["contract"], "sha256": base["sha256"], "config": model.config,
            "torch_version": torch.__version__,
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "parity": parity,
            # the graph traced now, or the previous version's refilled with these weights
            "graph": "traced" if traced else f"refilled from {reuse.name}",
        }
        meta.update(extra or {})
        seal(meta)  # contract_sha256, which the app checks: last
        (out / "metadata.json").unlink(missing_ok=True)  # out first, in last
        os.replace(work / MODEL, out / MODEL)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_json(out / "metadata.json", meta)
    return out / MODEL
