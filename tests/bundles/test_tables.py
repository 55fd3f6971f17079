"""Tables with missing values and categories through every adapter: native where the framework has it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import xgboost as xgb
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from cohortbench.bundles import BundleModel, Plan, load_model, validate_bundle
from cohortbench.bundles.adapters.common import as_matrix
from cohortbench.bundles.adapters.sklearn_model import trusted_types
from cohortbench.bundles.manifest import BundleError
from cohortbench.errors import ValidationError
from cohortbench.sandbox.permuting import permuted

from .conftest import CLASSES, bundle

Table = tuple[pd.DataFrame, np.ndarray]
PLAN = Plan(epochs=3, learning_rate=0.1, batch_size=32, seed=1)
SITES = ["north", "south", "east"]

TORCH_ENCODER = """
import pandas as pd
import torch
from torch import nn

from cohortbench.bundles import TorchModel

LEVELS = {"site": ["north", "south", "east"]}
NUMERIC = ["f0", "f1", "f2"]


class Model(TorchModel):
    @classmethod
    def build_module(cls):
        return nn.Sequential(nn.Linear(2 * len(NUMERIC) + 3, 8), nn.ReLU(), nn.Linear(8, 3))

    def features(self, X):
        numbers = X[NUMERIC].astype("float32")
        parts = [numbers.fillna(0.0), numbers.isna().astype("float32").add_suffix("_missing")]
        for column, levels in LEVELS.items():
            fixed = pd.Categorical(X[column].astype(object).where(X[column].isin(levels)), categories=levels)
            parts.append(pd.get_dummies(fixed, dtype="float32").set_axis(X.index))
        return pd.concat(parts, axis=1).to_numpy()
"""


@pytest.fixture
def table() -> Table:
    """150 rows: 3 numeric columns with 10% NaN, a site category (with NaN) that carries signal."""
    rng = np.random.default_rng(3)
    n = 150
    site = rng.choice(SITES, size=n)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["f0", "f1", "f2"])
    score = X["f0"] + 1.5 * (site == "east") - 1.5 * (site == "north") + rng.normal(scale=0.3, size=n)
    y = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3])).astype(np.int64)
    X["site"] = pd.Categorical(site, categories=SITES)
    for column in ("f0", "f1", "f2"):
        X.loc[rng.random(n) < 0.1, column] = np.nan
    X.loc[rng.random(n) < 0.05, "site"] = np.nan
    return X, y


def xgboost_native(root: Path, data: Table) -> Path:
    dtrain = xgb.DMatrix(data[0], label=data[1], enable_categorical=True)
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3, "max_depth": 3}, dtrain, 5)
    return bundle(root, "xgboost", lambda w: booster.save_model(str(w / "model.json")))


def lightgbm_native(root: Path, data: Table) -> Path:
    params = {
        "objective": "multiclass",
        "num_class": 3,
        "num_leaves": 4,
        "verbosity": -1,
        "min_data_per_group": 5,
    }
    booster = lgb.train(params, lgb.Dataset(data[0], label=data[1]), num_boost_round=5)
    return bundle(root, "lightgbm", lambda w: booster.save_model(str(w / "model.txt")))


def sklearn_hist_gbm(root: Path, data: Table) -> Path:
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=10, random_state=0)
    model.fit(*data)
    return bundle(root, "sklearn", lambda w: sio.dump(model, w / "model.skops"))


def sklearn_one_hot(root: Path, data: Table) -> Path:
    numeric = make_pipeline(SimpleImputer(), StandardScaler())
    categories = make_pipeline(
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
    )
    encode = make_column_transformer(
        (numeric, make_column_selector(dtype_include="number")),
        (categories, make_column_selector(dtype_include="category")),
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=200)).fit(*data)
    return bundle(root, "sklearn", lambda w: sio.dump(model, w / "model.skops"))


def torch_encoding(root: Path, data: Table) -> Path:
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(9, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    folder = bundle(
        root,
        "torch",
        lambda w: save_file(net.state_dict(), str(w / "model.safetensors")),
        entry="model:Model",
    )
    (folder / "model.py").write_text(TORCH_ENCODER)
    return folder


BUILDERS = [xgboost_native, lightgbm_native, sklearn_hist_gbm, sklearn_one_hot, torch_encoding]


def _reload(folder: Path, model: BundleModel, tmp_path: Path) -> BundleModel:
    copy = tmp_path / "reloaded"
    shutil.copytree(folder, copy)
    shutil.rmtree(copy / "weights")
    model.save(copy / "weights")
    return load_model(copy, validate_bundle(copy))


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_tables_with_nan_and_categories_round_trip(
    build: Callable[[Path, Table], Path], tmp_path: Path, table: Table
) -> None:
    X, y = table
    folder = build(tmp_path, table)
    model = load_model(folder, validate_bundle(folder))
    before = model.predict_proba(X)
    assert before.shape == (len(X), 3) and np.isfinite(before).all()
    assert np.allclose(before.sum(axis=1), 1.0, atol=1e-5)
    losses = model.fine_tune(X, (y + 1) % 3, PLAN, classes=CLASSES)
    assert losses and all(np.isfinite(losses))
    after = model.predict_proba(X)
    assert not np.allclose(before, after, atol=1e-4)
    assert np.allclose(after, _reload(folder, model, tmp_path).predict_proba(X), atol=1e-5)
    # the site carries signal: shuffling it (within its categories) changes the predictions
    shuffled = permuted(X, {"seed": 0, "columns": ["site"]})
    assert not np.allclose(after, model.predict_proba(shuffled), atol=1e-4)


@pytest.mark.parametrize("build", [xgboost_native, lightgbm_native], ids=lambda b: b.__name__)
def test_boosters_read_a_workspace_level_they_never_saw_as_missing(
    build: Callable[[Path, Table], Path], tmp_path: Path, table: Table
) -> None:
    X, _y = table
    model = load_model(folder := build(tmp_path, table), validate_bundle(folder))
    wider = X.assign(site=X["site"].cat.set_categories(["west", *SITES]))
    wider.loc[:9, "site"] = "west"
    as_nan = X.copy()
    as_nan.loc[:9, "site"] = np.nan
    assert np.allclose(model.predict_proba(wider), model.predict_proba(as_nan))


def test_a_permuted_categorical_column_stays_within_its_categories(table: Table) -> None:
    X, _y = table
    shuffled = permuted(X, {"seed": 4, "columns": ["site", "f0"]})
    assert list(shuffled["site"].cat.categories) == SITES
    assert shuffled["site"].isna().sum() == X["site"].isna().sum()
    assert sorted(shuffled["f0"].dropna()) == sorted(X["f0"].dropna())
    assert not shuffled["site"].equals(X["site"])
    assert shuffled["f1"].equals(X["f1"])


def test_a_matrix_model_gets_a_clear_error_for_an_unencoded_category(table: Table) -> None:
    with pytest.raises(ValidationError, match="categorical column\\(s\\) site cannot go into a float matrix"):
        as_matrix(table[0])


def test_the_allow_list_takes_the_table_pipelines_and_nothing_more() -> None:
    assert trusted_types(["functools.partial", "sklearn.utils.validation.check_array"])
    with pytest.raises(BundleError, match=r"functools\.reduce"):
        trusted_types(["functools.partial", "functools.reduce"])


@pytest.fixture(scope="module")
def gappy_dili() -> tuple[pd.DataFrame, np.ndarray]:
    """60 records of the DILI table with gaps, cast as a workspace casts it."""
    from cohortbench.cohorts import DILI, generate
    from cohortbench.cohorts.tables import CATEGORICAL, with_gaps
    from cohortbench.workspaces import validate_cohort

    table = validate_cohort(
        with_gaps(generate("dili")),
        id_column=DILI.id_column,
        label_column=DILI.label_column,
        categorical=CATEGORICAL,
    )
    rows = table.frame.head(60)
    return rows[list(table.features)], table.labels()[:60]


@pytest.mark.parametrize("framework", ["xgboost", "lightgbm", "sklearn", "torch", "python"])
def test_table_examples_predict_and_fine_tune_on_a_table_with_gaps(
    framework: str, gappy_dili: tuple[pd.DataFrame, np.ndarray]
) -> None:
    X, y = gappy_dili
    assert X.isna().any().any() and isinstance(X["centre"].dtype, pd.CategoricalDtype)
    folder = Path(__file__).resolve().parents[2] / "examples" / "tables" / framework
    manifest = validate_bundle(folder)
    assert 0 < manifest.claimed["macro_f1"] <= 1
    model = load_model(folder, manifest)
    proba = model.predict_proba(X)
    assert proba.shape == (60, 4) and np.isfinite(proba).all()
    losses = model.fine_tune(X, y, Plan(epochs=2, learning_rate=0.05), classes=("0", "1", "2", "3"))
    assert losses and all(np.isfinite(losses))
