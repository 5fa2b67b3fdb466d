"""The trainer's contracts: every model's ``partial_fit_users`` has :class:`Personalizable`'s
one signature, and the one training loop stops on cancel, on divergence and on request."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import trainer.models as models
from trainer.models.base import ModelFitError, Personalizable, TagModel
from trainer.models.torch_util import Optim, fit_rows, train_epochs


def _model_classes() -> list[type[TagModel]]:
    """Every TagModel subclass of trainer.models (registered or a shared base)."""
    found, todo = set(), [TagModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("trainer.models") and sub not in found:
                found.add(sub)
                todo.append(sub)
    assert set(models.REGISTRY.values()) <= found
    return sorted(found, key=lambda c: c.__name__)


PERSONALIZABLE = [c for c in _model_classes()
                  if c.partial_fit_users is not TagModel.partial_fit_users]


def test_the_models_the_personal_job_uses_are_personalizable():
    names = {c.name for c in PERSONALIZABLE}
    assert {"dae_ptr", "cnn_permlp", "pitf", "served", "mp_u", "bll_c", "sog_1toM"} <= names


@pytest.mark.parametrize("cls", PERSONALIZABLE, ids=lambda c: c.__name__)
def test_partial_fit_users_has_the_protocols_signature(cls):
    def shape(fn) -> list[tuple[str, object, object]]:
        return [(p.name, p.kind, p.default)
                for p in inspect.signature(fn).parameters.values()]

    assert shape(cls.partial_fit_users) == shape(Personalizable.partial_fit_users)
    model = cls.__new__(cls)
    model.config = dict(cls.defaults)
    assert isinstance(model, Personalizable)


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Linear(3, 2)


def _batches(net: torch.nn.Module, scale: float = 1.0):
    x = torch.ones(4, 3)

    def batches(ep: int):
        for _ in range(2):
            yield (net(x) * scale).pow(2).mean(), 4.0

    return batches


def test_the_loop_cancels_before_a_step_and_stops_on_request():
    net = _net()
    calls = {"check": 0}

    def check() -> None:
        calls["check"] += 1
        if calls["check"] == 4:  # before the second epoch's second step
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_epochs(net, net.parameters(), Optim("adam", 0.1), 5, _batches(net),
                     what="toy", check=check)
    assert not net.training  # left in eval mode whatever happened
    seen: list[int] = []
    totals = train_epochs(net, net.parameters(), Optim("adagrad", 0.1), 5, _batches(net),
                          what="toy", model="m",
                          callback=lambda ep, m: seen.append(ep) or (False if ep == 2 else None))
    assert seen == [1, 2] and len(totals) == 2 and totals[1] < totals[0]


def test_divergence_raises_and_fit_rows_puts_the_rows_back():
    net = _net()
    with pytest.raises(ModelFitError, match="toy epoch 1 loss is inf: training diverged"):
        train_epochs(net, net.parameters(), Optim("adam", 0.1), 3,
                     _batches(net, scale=float("inf")), what="toy")
    before = net.weight.detach().clone()

    def loss(step: int) -> torch.Tensor:
        value = net(torch.ones(1, 3)).pow(2).sum()
        return value * (np.nan if step == 2 else 1.0)

    with pytest.raises(ModelFitError, match="toy rows step 3 loss is nan"):
        fit_rows(net, [(net.weight, np.array([0]))], loss, steps=5, lr=0.1, what="toy rows")
    assert torch.equal(net.weight, before)  # the fit's first two steps undone
    assert all(p.requires_grad for p in net.parameters())
