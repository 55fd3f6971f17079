"""PyTorch bundles: a module class from model.py, weights in safetensors, the plan's epochs on CPU or GPU.

FLOPs are counted (torch.utils.flop_counter) over every forward and backward pass, so the sandbox
can hold the model to its compute budget with the work it does rather than an estimate. Counting
runs each operation through Python dispatch (8x the time of a small MLP's fine-tune), so each kind
of call (a training step, a validation loss, a prediction) is counted the first time it meets an
input shape and that count is reused for the same shape: exact for any module whose work follows
its input's shape, which is what `flop_count` promises (the host charges measured CPU time anyway).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd

from cohortbench.bundles.adapters.common import (
    EarlyStopping,
    as_matrix,
    check_labels,
    class_weight_vector,
    single_file,
    split_indices,
)
from cohortbench.bundles.manifest import BundleError
from cohortbench.bundles.plan import Plan
from cohortbench.errors import ValidationError

WEIGHTS_NAME = "model.safetensors"


def load_state(module: Any, path: Path) -> None:
    """Load safetensors weights into `module`, strictly: every key present, no extra ones."""
    from safetensors.torch import load_file

    file = single_file(path, frozenset({".safetensors"}), "torch weights")
    try:
        module.load_state_dict(load_file(str(file)), strict=True)
    except RuntimeError as exc:
        raise BundleError(f"weights/{file.name} does not fit the module: {str(exc)[:300]}") from None


class TorchModel:
    """Wraps an nn.Module whose forward maps a float tensor (n, n_features) to logits (n, n_classes).

    Subclass it in model.py: override `build_module` (the architecture) and, if needed, `features`
    (feature engineering on the named workspace columns).
    """

    def __init__(self, module: Any) -> None:
        self.module = module
        self.device = "cpu"
        self.flop_count: int | None = 0
        self.n_parameters: int | None = sum(int(p.numel()) for p in module.parameters())

    @classmethod
    def build_module(cls) -> Any:
        """The untrained architecture; a subclass returns its nn.Module here."""
        raise BundleError(f"{cls.__name__} must override build_module() to return its torch module")

    @classmethod
    def load(cls, path: Path) -> Self:
        module = cls.build_module()
        load_state(module, path)
        return cls(module)

    def features(self, X: pd.DataFrame) -> pd.DataFrame | np.ndarray:
        """The model's input table from the workspace's columns (identity unless overridden)."""
        return X

    def _tensor(self, X: pd.DataFrame) -> Any:
        import torch

        return torch.tensor(as_matrix(self.features(X), np.float32), device=self.device)

    def _counted(self, work: Callable[[], Any]) -> Any:
        from torch.utils.flop_counter import FlopCounterMode

        counter = FlopCounterMode(display=False)
        with counter:
            result = work()
        self.flop_count = (self.flop_count or 0) + int(counter.get_total_flops())
        return result

    def _counted_once(self, key: tuple[Any, ...], work: Callable[[], Any]) -> Any:
        """`work`, counted only the first time for `key` (its kind and input shape; see the module
        docstring); later calls add the first count."""
        # kept on the instance, made on first use: a contributor's subclass may skip our __init__
        known: dict[tuple[Any, ...], int] = self.__dict__.setdefault("_flops_by_shape", {})
        if key not in known:
            before = self.flop_count or 0
            result = self._counted(work)
            known[key] = (self.flop_count or 0) - before
            return result
        result = work()
        self.flop_count = (self.flop_count or 0) + known[key]
        return result

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        import torch

        inputs = self._tensor(X)
        self.module.eval()
        with torch.no_grad():
            logits = self._counted_once(("predict", *inputs.shape), lambda: self.module(inputs))
        return np.asarray(torch.softmax(logits.double(), dim=1).cpu().numpy())

    def fine_tune(
        self, X: pd.DataFrame, y: np.ndarray, plan: Plan, *, classes: Sequence[str], device: str = "cpu"
    ) -> list[float]:
        """plan.epochs epochs of minibatch training; returns the mean training loss of each epoch."""
        import torch

        self._to(device)
        labels = check_labels(y, classes)
        torch.manual_seed(plan.seed)
        inputs, targets = self._tensor(X), torch.from_numpy(labels).to(self.device)
        weight = class_weight_vector(labels, len(classes), plan)
        loss_fn = torch.nn.CrossEntropyLoss(
            weight=None if weight is None else torch.tensor(weight, dtype=torch.float32, device=self.device)
        )
        train, val = split_indices(labels, plan)
        return self._train(inputs, targets, train, val, loss_fn, plan)

    def _to(self, device: str) -> None:
        import torch

        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ValidationError(
                f"device {device!r} was asked for but this runtime has no CUDA", code="crashed"
            )
        self.device = device
        self.module.to(device)

    def _train(
        self, inputs: Any, targets: Any, train: np.ndarray, val: np.ndarray, loss_fn: Any, plan: Plan
    ) -> list[float]:
        import torch

        optimizer = make_optimizer(self.module.parameters(), plan)
        generator = torch.Generator().manual_seed(plan.seed)
        watched = torch.from_numpy(val if len(val) else train).to(self.device)
        train_rows = torch.from_numpy(train)
        stopper = EarlyStopping(plan.early_stopping_patience)
        losses: list[float] = []
        for _ in range(plan.epochs):
            self.module.train()
            order = train_rows[torch.randperm(len(train_rows), generator=generator)].to(self.device)
            total = 0.0
            for start in range(0, len(order), plan.batch_size):
                batch = order[start : start + plan.batch_size]

                def step(batch: Any = batch) -> Any:
                    optimizer.zero_grad()
                    loss = loss_fn(self.module(inputs[batch]), targets[batch])
                    loss.backward()
                    optimizer.step()
                    return loss

                loss = self._counted_once(("step", len(batch), *inputs.shape[1:]), step)
                total += float(loss.detach()) * len(batch)
            losses.append(total / max(len(train), 1))
            if stopper.should_stop(self._loss(inputs[watched], targets[watched], loss_fn), self._snapshot):
                break
        if stopper.best is not None:
            self.module.load_state_dict(stopper.best)
        return losses

    def _loss(self, inputs: Any, targets: Any, loss_fn: Any) -> float:
        import torch

        self.module.eval()
        with torch.no_grad():
            return float(
                self._counted_once(("loss", *inputs.shape), lambda: loss_fn(self.module(inputs), targets))
            )

    def _snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(self.module.state_dict())

    def save(self, path: Path) -> None:
        from safetensors.torch import save_file

        path.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().clone().contiguous() for k, v in self.module.state_dict().items()}
        save_file(state, str(path / WEIGHTS_NAME))


def make_optimizer(params: Any, plan: Plan) -> Any:
    """The plan's optimizer: Adam, AdamW, or SGD with momentum 0.9."""
    import torch

    if plan.optimizer == "sgd":
        return torch.optim.SGD(params, lr=plan.learning_rate, momentum=0.9, weight_decay=plan.weight_decay)
    factory = torch.optim.AdamW if plan.optimizer == "adamw" else torch.optim.Adam
    return factory(params, lr=plan.learning_rate, weight_decay=plan.weight_decay)


def module_model(module_class: type, args: dict[str, Any], weights: Path) -> TorchModel:
    """A TorchModel for a bare nn.Module entry class, built with the manifest's model_args."""
    module = module_class(**args)
    load_state(module, weights)
    return TorchModel(module)
