"""One interface for every tag ranker (after implicit/RecBole, see CONVENTIONS.md).

``fit(train, seed=..., epochs=..., callback=...)`` learns from a :class:`TagData`;
``partial_fit_users(posts, users, ...)`` updates only what belongs to those users — one
signature for every model, :class:`Personalizable`, which the personalization job relies on;
``score(batch)`` returns ``[n, n_tags]`` scores (higher = better; ``-inf`` = not returned).
Weights are stored as ``weights.npz`` (``allow_pickle=False``) + ``config.json``, never pickle.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from trainer.data import TagData


class ModelFitError(RuntimeError):
    """Training diverged (NaN/inf loss) or cannot run on the given data."""


@dataclass
class Batch:
    """What a ranker sees for each case: who, what, when, and the post's other tags."""

    user: np.ndarray
    item: np.ndarray
    time: np.ndarray
    inputs: list[np.ndarray]

    def __len__(self) -> int:
        return int(self.user.shape[0])


# callback(epoch, model) -> validation score or None; trainers may stop early on it
EpochCallback = Callable[[int, "TagModel"], float | None]


def no_check() -> None:
    """The default ``check``: never cancelled (one shared function, so every model's
    ``partial_fit_users`` has the same default)."""


@runtime_checkable
class Personalizable(Protocol):
    """What :func:`trainer.personalize.guarded_update` needs of a model: its config (the
    ``personal_steps`` it refits with), scores for new photos, and a refit of some users'
    rows with this one signature.

    ``epochs``: optimizer steps or passes (``None``: the model's own default);
    ``seed``: its random draws; ``rejected``: suggestions the users turned down (hard
    negatives); ``new_tags``: tag indices the shared model never learnt, whose rows may be
    fitted too; ``check()`` is called before every step and raises to cancel.  A model that
    has no use for an argument accepts it and says so in its docstring.
    """

    config: dict[str, Any]

    def score(self, batch: Batch) -> np.ndarray: ...

    def partial_fit_users(self, posts: TagData, users: np.ndarray, epochs: int | None = None,
                          *, seed: int = 0, rejected: TagData | None = None,
                          new_tags: np.ndarray | None = None,
                          check: Callable[[], None] = no_check) -> Personalizable: ...


class TagModel:
    """Base class: config handling, save/load and the no-op defaults."""

    name: ClassVar[str] = "base"
    defaults: ClassVar[dict[str, Any]] = {}
    # configurations tried on the validation split (model selection); [{}] = defaults only
    grid: ClassVar[list[dict[str, Any]]] = [{}]
    iterative: ClassVar[bool] = False  # has epochs (the evaluator selects their number)
    min_epochs: ClassVar[int] = 0  # never stop early before this many epochs
    # state() entries with one row per tag / per user (remap_rows grows and reorders them)
    tag_params: ClassVar[tuple[str, ...]] = ()
    user_params: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **config: Any) -> None:
        unknown = set(config) - set(self.defaults)
        if unknown:
            raise TypeError(f"{self.name}: unknown option(s) {sorted(unknown)}")
        self.config: dict[str, Any] = {**self.defaults, **config}
        self.n_users = self.n_items = self.n_tags = 0

    def _shape(self, train: TagData) -> None:
        self.n_users, self.n_items, self.n_tags = train.n_users, train.n_items, train.n_tags

    def fit(self, train: TagData, *, seed: int = 0, epochs: int | None = None,
            callback: EpochCallback | None = None, show_progress: bool = False) -> TagModel:
        raise NotImplementedError

    def fresh_bias(self) -> float:
        """A bias for a new tag's fresh rows (zero weights) that ranks it below every known
        tag for any input (see :func:`remap_rows`)."""
        raise NotImplementedError

    def partial_fit_users(self, posts: TagData, users: np.ndarray, epochs: int | None = None,
                          *, seed: int = 0, rejected: TagData | None = None,
                          new_tags: np.ndarray | None = None,
                          check: Callable[[], None] = no_check) -> TagModel:
        """Refresh only the given users from their posts (same index spaces as ``fit``);
        the arguments are :class:`Personalizable`'s."""
        raise NotImplementedError

    def score(self, batch: Batch) -> np.ndarray:
        raise NotImplementedError

    # -- artifacts ---------------------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def load_state(self, arrays: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def save(self, path: str | Path) -> None:
        """Write ``config.json`` and ``weights.npz`` (no pickle) into the folder ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta = {"model": self.name, "config": self.config,
                "shape": [self.n_users, self.n_items, self.n_tags]}
        (path / "config.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
        np.savez(path / "weights.npz", **self.state())

    @classmethod
    def load(cls, path: str | Path) -> TagModel:
        path = Path(path)
        meta = json.loads((path / "config.json").read_text())
        if meta["model"] != cls.name:
            raise ValueError(f"{path} holds {meta['model']!r}, not {cls.name!r}")
        m = cls(**meta["config"])
        m.n_users, m.n_items, m.n_tags = meta["shape"]
        with np.load(path / "weights.npz", allow_pickle=False) as z:
            m.load_state({k: z[k] for k in z.files})
        return m


def check_finite(value: float, what: str) -> None:
    """Raise :class:`ModelFitError` on NaN/inf (CONVENTIONS: NaN raises ModelFitError)."""
    if not np.isfinite(value):
        raise ModelFitError(f"{what} is {value}: training diverged")


class RowCounts:
    """Sparse (row, col) -> weight sums in CSR form, numpy only; dense rows on demand."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, weights: np.ndarray | None,
                 n_rows: int, n_cols: int) -> None:
        w = np.ones(rows.size, np.float64) if weights is None else weights.astype(np.float64)
        key = rows.astype(np.int64) * n_cols + cols
        uniq, inv = np.unique(key, return_inverse=True)
        self.val = np.bincount(inv, weights=w, minlength=uniq.size)
        self.col = (uniq % max(n_cols, 1)).astype(np.int64)
        r = (uniq // max(n_cols, 1)).astype(np.int64)
        self.indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=n_rows))])
        self.n_rows, self.n_cols = n_rows, n_cols

    def dense(self, rows: np.ndarray, normalize: bool = False) -> np.ndarray:
        out = np.zeros((rows.size, self.n_cols), np.float64)
        for k, r in enumerate(rows):
            if 0 <= r < self.n_rows:
                a, b = self.indptr[r], self.indptr[r + 1]
                out[k, self.col[a:b]] = self.val[a:b]
        if normalize:
            s = out.sum(axis=1, keepdims=True)
            np.divide(out, s, out=out, where=s > 0)
        return out

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}_val": self.val, f"{prefix}_col": self.col,
                f"{prefix}_indptr": self.indptr,
                f"{prefix}_shape": np.array([self.n_rows, self.n_cols])}

    @classmethod
    def from_state(cls, a: dict[str, np.ndarray], prefix: str) -> RowCounts:
        obj = cls.__new__(cls)
        obj.val, obj.col, obj.indptr = (a[f"{prefix}_val"], a[f"{prefix}_col"],
                                        a[f"{prefix}_indptr"])
        obj.n_rows, obj.n_cols = (int(x) for x in a[f"{prefix}_shape"])
        return obj


def remap_rows(model: TagModel, tag_index: np.ndarray, user_index: np.ndarray) -> None:
    """Reorder and grow a trained model's tag and user tables in place.

    ``tag_index[j]`` is the old row of the model's new tag j, or −1 for a tag the model never
    saw: its rows start *fresh* — zero weights and the bias :meth:`TagModel.fresh_bias`, which
    ranks it below every known tag — so that partial_fit_users learns it from its posts and
    it is never suggested before.  (A zero row with the lowest known bias was tried first: it
    outranked most known tags, whose weights pull their scores below their bias.)
    ``user_index`` likewise; a new user's rows are zero (no user term: the unknown user's
    suggestions).
    """
    low = model.fresh_bias()
    state = model.state()
    for names, index in ((model.tag_params, np.asarray(tag_index, np.int64)),
                         (model.user_params, np.asarray(user_index, np.int64))):
        for name in names:
            old = state[name]
            fill = low if old.ndim == 1 and names is model.tag_params else 0.0
            new = np.full((index.size, *old.shape[1:]), fill, old.dtype)
            known = index >= 0
            new[known] = old[index[known]]
            state[name] = new
    model.n_tags, model.n_users = int(np.asarray(tag_index).size), int(np.asarray(user_index).size)
    model.load_state(state)
