"""Every adapter keeps the protocol: load -> predict_proba -> fine_tune -> save -> load gives the same model."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import torch
import xgboost as xgb
from safetensors.torch import save_file
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from cohortbench.bundles import (
    BundleError,
    BundleModel,
    FineTuneUnsupportedError,
    LightGBMModel,
    Plan,
    load_model,
    validate_bundle,
)
from cohortbench.bundles.adapters.common import log_loss
from cohortbench.errors import ValidationError

from .conftest import CLASSES, bundle

Toy = tuple[pd.DataFrame, np.ndarray]
PLAN = Plan(epochs=4, learning_rate=0.05, batch_size=32, seed=1, class_weight="balanced")
TEMPLATES = Path(__file__).resolve().parents[2] / "examples" / "templates"

TORCH_NET = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, n_features=6, hidden=8):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, 3))

    def forward(self, x):
        return self.layers(x)
"""

TORCH_SUBCLASS = (
    TORCH_NET
    + """
from cohortbench.bundles import TorchModel

class Model(TorchModel):
    @classmethod
    def build_module(cls):
        return Net(n_features=2)

    def features(self, X):
        return X[["f0", "f1"]]
"""
)


def _torch_weights(n_features: int) -> Callable[[Path], None]:
    def save(w: Path) -> None:
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(n_features, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        save_file({f"layers.{k}": v for k, v in net.state_dict().items()}, str(w / "model.safetensors"))

    return save


def sklearn_refit(root: Path, toy: Toy) -> Path:
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=0.01))]).fit(*toy)
    return bundle(root, "sklearn", lambda w: sio.dump(pipe, w / "model.skops"))


def sklearn_partial_fit(root: Path, toy: Toy) -> Path:
    sgd = SGDClassifier(loss="log_loss", random_state=0, max_iter=3, tol=None).fit(*toy)
    return bundle(root, "sklearn", lambda w: sio.dump(sgd, w / "model.skops"))


def xgboost_json(root: Path, toy: Toy, suffix: str = ".json") -> Path:
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 2}, xgb.DMatrix(*toy), 3)
    return bundle(root, "xgboost", lambda w: booster.save_model(str(w / f"model{suffix}")))


def xgboost_ubj(root: Path, toy: Toy) -> Path:
    return xgboost_json(root, toy, ".ubj")


def lightgbm_text(root: Path, toy: Toy) -> Path:
    params = {"objective": "multiclass", "num_class": 3, "num_leaves": 4, "verbosity": -1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(toy[0], label=toy[1]), num_boost_round=3)
    return bundle(root, "lightgbm", lambda w: booster.save_model(str(w / "model.txt")))


def torch_module(root: Path, toy: Toy) -> Path:
    folder = bundle(root, "torch", _torch_weights(6), entry="model:Net", extra="[model_args]\nhidden = 8\n")
    (folder / "model.py").write_text(TORCH_NET)
    return folder


def torch_subclass(root: Path, toy: Toy) -> Path:
    folder = bundle(root, "torch", _torch_weights(2), entry="model:Model")
    (folder / "model.py").write_text(TORCH_SUBCLASS)
    return folder


def python_entry(root: Path, toy: Toy) -> Path:
    from cohortbench.bundles.loader import import_entry

    folder = root / "bundle-python"
    folder.mkdir()
    shutil.copyfile(TEMPLATES / "softmax.py", folder / "model.py")
    import_entry(folder, "model:Model").fresh(toy[0], 3).save(folder / "weights")
    (folder / "cohortbench.toml").write_text('name = "p"\nframework = "python"\nentry = "model:Model"\n')
    return folder


BUILDERS = [
    sklearn_refit,
    sklearn_partial_fit,
    xgboost_json,
    xgboost_ubj,
    lightgbm_text,
    torch_module,
    torch_subclass,
    python_entry,
]


def reload(folder: Path, model: BundleModel, tmp_path: Path) -> BundleModel:
    """Save the model's weights into a copy of the bundle and load that copy."""
    copy = tmp_path / "reloaded"
    shutil.copytree(folder, copy)
    shutil.rmtree(copy / "weights")
    model.save(copy / "weights")
    return load_model(copy, validate_bundle(copy))


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_round_trip(build: Callable[[Path, Toy], Path], tmp_path: Path, toy: Toy) -> None:
    X, y = toy
    folder = build(tmp_path, toy)
    model = load_model(folder, validate_bundle(folder))
    assert isinstance(model, BundleModel)
    before = model.predict_proba(X)
    assert before.shape == (len(X), 3)
    assert np.allclose(before.sum(axis=1), 1.0, atol=1e-5) and (before >= 0).all()

    shifted = (y + 1) % 3  # the workspace's labels differ from the pretraining site's
    losses = model.fine_tune(X, shifted, PLAN, classes=CLASSES)
    assert 1 <= len(losses) <= PLAN.epochs and all(np.isfinite(losses))
    after = model.predict_proba(X)
    assert not np.allclose(before, after, atol=1e-4), "fine-tuning changed nothing"

    again = reload(folder, model, tmp_path).predict_proba(X)
    assert np.allclose(after, again, atol=1e-5)


def test_onnx_predicts_but_refuses_fine_tuning(tmp_path: Path, toy: Toy) -> None:
    from skl2onnx import to_onnx

    X, y = toy
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(
        X.to_numpy(np.float32), y
    )
    onx = to_onnx(pipe, X.to_numpy(np.float32)[:1], options={"zipmap": False}, target_opset=17)
    folder = bundle(tmp_path, "onnx", lambda w: (w / "model.onnx").write_bytes(onx.SerializeToString()))
    model = load_model(folder, validate_bundle(folder))
    proba = model.predict_proba(X)
    assert np.allclose(proba, pipe.predict_proba(X.to_numpy(np.float32)), atol=1e-5)
    with pytest.raises(FineTuneUnsupportedError) as info:
        model.fine_tune(X, y, PLAN, classes=CLASSES)
    assert info.value.code == "fine_tune_unsupported"
    assert np.allclose(reload(folder, model, tmp_path).predict_proba(X), proba)


def test_torch_counts_flops(tmp_path: Path, toy: Toy) -> None:
    X, y = toy
    folder = torch_module(tmp_path, toy)
    model = load_model(folder, validate_bundle(folder))
    model.predict_proba(X)
    predicted = model.flop_count  # type: ignore[attr-defined]
    # one forward pass: two matmuls of (150 x 6 x 8) and (150 x 8 x 3), two FLOPs per multiply-add
    assert predicted == 2 * len(X) * (6 * 8 + 8 * 3)
    model.fine_tune(X, y, PLAN, classes=CLASSES)
    assert model.flop_count > 3 * predicted  # type: ignore[attr-defined]
    assert model.n_parameters == 6 * 8 + 8 + 8 * 3 + 3


def test_torch_subclass_reports_flops_through_entry(tmp_path: Path, toy: Toy) -> None:
    folder = torch_subclass(tmp_path, toy)
    model = load_model(folder, validate_bundle(folder))
    model.predict_proba(toy[0])
    assert model.flop_count == 2 * len(toy[0]) * (2 * 8 + 8 * 3)  # type: ignore[attr-defined]


def test_torch_early_stopping_stops_early(tmp_path: Path, toy: Toy) -> None:
    X, y = toy
    folder = torch_module(tmp_path, toy)
    model = load_model(folder, validate_bundle(folder))
    plan = Plan(
        epochs=200, learning_rate=0.5, optimizer="sgd", early_stopping_patience=2, validation_fraction=0.3
    )
    assert len(model.fine_tune(X, y, plan, classes=CLASSES)) < 200


def test_skops_untrusted_type_refused(tmp_path: Path, toy: Toy) -> None:
    import os

    pipe = Pipeline([("evil", FunctionTransformer(os.system)), ("clf", LogisticRegression())])
    pipe.steps[1][1].fit(*toy)
    folder = bundle(tmp_path, "sklearn", lambda w: sio.dump(pipe, w / "model.skops"))
    with pytest.raises(BundleError, match=r"outside the allow-list: .*system"):
        load_model(folder, validate_bundle(folder))


def test_sklearn_needs_index_classes(tmp_path: Path, toy: Toy) -> None:
    X, y = toy
    clf = LogisticRegression().fit(X, np.array(CLASSES)[y])
    folder = bundle(tmp_path, "sklearn", lambda w: sio.dump(clf, w / "model.skops"))
    with pytest.raises(BundleError, match="class indices"):
        load_model(folder, validate_bundle(folder))


@pytest.mark.parametrize("build", [xgboost_json, lightgbm_text, sklearn_refit], ids=lambda b: b.__name__)
def test_columns_matched_by_name(build: Callable[[Path, Toy], Path], tmp_path: Path, toy: Toy) -> None:
    X, _ = toy
    folder = build(tmp_path, toy)
    model = load_model(folder, validate_bundle(folder))
    assert np.allclose(model.predict_proba(X), model.predict_proba(X[X.columns[::-1]]))


@pytest.mark.parametrize(
    "build", [xgboost_json, lightgbm_text, sklearn_partial_fit], ids=lambda b: b.__name__
)
def test_feature_count_mismatch_is_clear(
    build: Callable[[Path, Toy], Path], tmp_path: Path, toy: Toy
) -> None:
    X, y = toy
    unnamed = (X.to_numpy(), y)  # trained without column names: matched by count
    folder = build(tmp_path, unnamed)  # type: ignore[arg-type]
    model = load_model(folder, validate_bundle(folder))
    with pytest.raises(ValidationError, match="expects 6 features but the workspace has 4"):
        model.predict_proba(pd.DataFrame(X.to_numpy()[:, :4]))


def test_entry_without_the_protocol_refused(tmp_path: Path) -> None:
    folder = bundle(tmp_path, "python", lambda w: None, entry="model:Model")
    (folder / "model.py").write_text("class Model:\n    pass\n")
    with pytest.raises(BundleError, match="must define load"):
        load_model(folder, validate_bundle(folder))


def test_entry_fine_tune_gets_only_the_arguments_it_accepts(tmp_path: Path, toy: Toy) -> None:
    """DESIGN.md's minimal entry signature fine_tune(X, y, plan) works; losses come back as floats."""
    folder = bundle(tmp_path, "python", lambda w: None, entry="model:Model")
    source = """
import numpy as np

class Model:
    @classmethod
    def load(cls, path):
        return cls()

    def predict_proba(self, X):
        return np.full((len(X), 3), 1 / 3)

    def fine_tune(self, X, y, plan):
        return [np.float32(0.5), 1]

    def save(self, path):
        (path / "note.json").write_text("{}")
"""
    (folder / "model.py").write_text(source)
    model = load_model(folder, validate_bundle(folder))
    assert model.fine_tune(toy[0], toy[1], PLAN, classes=CLASSES, device="cpu") == [0.5, 1.0]
    assert model.n_parameters is None and model.flop_count is None  # type: ignore[attr-defined]


def test_lightgbm_fine_tune_from_a_confident_model_descends(tmp_path: Path, toy: Toy) -> None:
    """Issue 14: continued boosting from a confident booster on a cohort it is partly wrong about falls
    smoothly, and does fall (a cap on the step, not a freeze). Without a cap on the leaf values, leaves of
    rows predicted at p ~ 0 for their class took Newton steps of order 1/p: 2.2 -> 22 in one round."""
    X, y = toy
    params = {"objective": "multiclass", "num_class": 3, "num_leaves": 4, "min_data_in_leaf": 5}
    params |= {"learning_rate": 0.3, "verbosity": -1, "num_threads": 1, "seed": 0}
    booster = lgb.train(params, lgb.Dataset(X, label=y), num_boost_round=100)
    folder = bundle(tmp_path, "lightgbm", lambda w: booster.save_model(str(w / "model.txt")))
    (folder / "cohortbench.toml").write_text(
        (folder / "cohortbench.toml").read_text() + "[model_args]\nnum_leaves = 4\nmin_data_in_leaf = 5\n"
    )
    model = load_model(folder, validate_bundle(folder))
    shifted = y.copy()
    flip = (
        np.random.default_rng(0).random(len(y)) < 0.15
    )  # the new cohort: labels the model is sure of, moved
    shifted[flip] = (y[flip] + 1) % 3
    before = log_loss(shifted, model.predict_proba(X))
    losses = model.fine_tune(X, shifted, Plan(epochs=10, learning_rate=0.1), classes=CLASSES)
    assert losses[0] <= before, f"the first round overshot: {before:.3f} before, then {losses}"
    assert all(b <= a + 1e-9 for a, b in pairwise(losses)), losses
    assert losses[-1] < 0.8 * before, (
        f"fine-tuning hardly moved the model: {before:.3f} before, then {losses}"
    )


def test_lightgbm_leaf_step_cap_yields_to_model_args() -> None:
    from cohortbench.bundles.adapters.lightgbm_model import MAX_LEAF_STEP

    X = np.random.default_rng(0).normal(size=(60, 3))
    params = {"objective": "multiclass", "num_class": 3, "verbosity": -1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(X, label=np.arange(60) % 3), num_boost_round=1)
    assert LightGBMModel(booster)._train_params(PLAN, "cpu")["max_delta_step"] == MAX_LEAF_STEP
    chosen = LightGBMModel(booster, {"max_leaf_output": 0.0})._train_params(PLAN, "cpu")
    assert "max_delta_step" not in chosen and chosen["max_leaf_output"] == 0.0


def test_torch_counting_each_shape_once_equals_counting_every_call(
    tmp_path: Path, toy: Toy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The per-shape count (fast) adds up to what counting every pass gives (8x slower)."""
    from cohortbench.bundles.adapters.torch_model import TorchModel

    X, y = toy
    folder = torch_module(tmp_path, toy)
    plan = Plan.from_dict({"epochs": 4, "batch_size": 32, "seed": 0, "early_stopping_patience": None})
    once = load_model(folder, validate_bundle(folder))
    once.fine_tune(X, y, plan, classes=CLASSES)
    once.predict_proba(X)
    monkeypatch.setattr(TorchModel, "_counted_once", lambda self, key, work: self._counted(work))
    every = load_model(folder, validate_bundle(folder))
    every.fine_tune(X, y, plan, classes=CLASSES)
    every.predict_proba(X)
    assert once.flop_count == every.flop_count > 0  # type: ignore[attr-defined]
    assert np.allclose(once.predict_proba(X), every.predict_proba(X))
