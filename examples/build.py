"""Build the example bundles: one per framework for each reference workspace.

Each model is pretrained on a shifted contributor site (never on the workspace's own cohort),
and the `claimed` macro-F1 in its manifest is measured on an internal holdout of that site,
through the same load path the sandbox uses. Deterministic: fixed seeds, one thread.

    .venv/bin/python examples/build.py           # examples/dili, examples/neuromuscular
    .venv/bin/python examples/build.py tables    # examples/tables (missing values, categories)
    .venv/bin/python examples/build.py tables python   # one of them
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from cohortbench.bundles import Plan, TorchModel, load_model, validate_bundle
from cohortbench.cohorts import generate, get_spec

ROOT = Path(__file__).resolve().parent
TEMPLATES = ROOT / "templates"
WORKSPACES = ("dili", "neuromuscular")
SITE_SEED = 7
#: which shifted site each framework's contributor trained on
SITES = {
    "sklearn": "academic-a",
    "xgboost": "pharma-internal",
    "lightgbm": "academic-b",
    "torch": "pharma-internal",
    "onnx": "academic-a",
    "python": "academic-b",
}
#: bundles pretrained without class weights (the brief's Contributor C: strong overall, weak on severe)
UNWEIGHTED = {("dili", "lightgbm")}
BOOSTING_PLAN = Plan(epochs=30, learning_rate=0.1, early_stopping_patience=5, validation_fraction=0.2)
TORCH_PLAN = Plan(
    epochs=30, learning_rate=3e-3, batch_size=64, early_stopping_patience=5, validation_fraction=0.2
)


class Site:
    """A site cohort split into an internal training part and an internal holdout."""

    def __init__(self, workspace: str, framework: str) -> None:
        site = SITES[framework]
        spec = get_spec(workspace)
        frame = generate(workspace, seed=SITE_SEED, site=site)
        X = frame[list(spec.features)]
        y = np.array([spec.classes.index(str(v)) for v in frame[spec.label_column]])
        self.X, self.X_hold, self.y, self.y_hold = train_test_split(
            X, y, test_size=0.2, random_state=0, stratify=y
        )
        self.classes, self.workspace, self.site = spec.classes, workspace, site
        # rare severe classes: weighted, except the one contributor who optimised for accuracy
        self.balanced = workspace == "dili" and (workspace, framework) not in UNWEIGHTED

    def plan(self, base: Plan) -> Plan:
        return Plan(**(base.to_dict() | ({"class_weight": "balanced"} if self.balanced else {})))


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, str | list):
        return json.dumps(value)
    return repr(value)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    tables = {k: v for k, v in manifest.items() if k in ("plan", "model_args")}
    lines = [f"{k} = {toml_value(v)}" for k, v in manifest.items() if k not in tables]
    for name, table in tables.items():
        lines += ["", f"[{name}]", *(f"{k} = {toml_value(v)}" for k, v in table.items())]
    (folder / "cohortbench.toml").write_text("\n".join(lines) + "\n")


def canonical_skops(path: Path) -> None:
    """Rewrite a .skops file so a rebuild gives the same bytes.

    skops names objects and array files by id() (memory addresses) and stamps zip members with the
    current time; renumber the ids in order of first appearance and fix the timestamps.
    """
    with zipfile.ZipFile(path) as src:
        members = {info.filename: src.read(info) for info in src.infolist()}
    schema = members.pop("schema.json").decode()
    ids: dict[str, str] = {}
    for found in re.findall(r'"__id__": (\d+)|"(\d+)\.npy"', schema):
        ids.setdefault(found[0] or found[1], str(len(ids) + 1))
    schema = re.sub(r'("__id__": )(\d+)', lambda m: m[1] + ids[m[2]], schema)
    schema = re.sub(r'"(\d+)\.npy"', lambda m: f'"{ids[m[1]]}.npy"', schema)
    renamed = {f"{ids[name[:-4]]}.npy": data for name, data in members.items()} | {
        "schema.json": schema.encode()
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in sorted(renamed.items()):
            out.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)


def logistic(site: Site, c: float) -> Pipeline:
    weight = "balanced" if site.balanced else None
    model = LogisticRegression(C=c, max_iter=5000, class_weight=weight)
    return Pipeline([("scale", StandardScaler()), ("clf", model)])


def build_sklearn(site: Site, folder: Path) -> dict[str, Any]:
    import skops.io as sio

    if site.workspace == "neuromuscular":  # code bundle: pathway features in model.py
        shutil.copyfile(TEMPLATES / "sklearn_pathways.py", folder / "model.py")
        pathway = _import(folder / "model.py").pathway_features
        pipe = logistic(site, 0.5).fit(pathway(site.X), site.y)
        extra = {"entry": "model:Model", "description": "Pathway-level logistic regression (module means)."}
    else:
        pipe = logistic(site, 0.05).fit(site.X, site.y)
        extra = {"description": "Standardised logistic regression on all 201 markers."}
    sio.dump(pipe, folder / "weights" / "model.skops")
    canonical_skops(folder / "weights" / "model.skops")
    return extra | {"requirements": ["scikit-learn", "skops"], "plan": site.plan(Plan())}


def build_xgboost(site: Site, folder: Path) -> dict[str, Any]:
    import xgboost as xgb

    params = {"objective": "multi:softprob", "num_class": len(site.classes), "max_depth": 3, "eta": 0.2}
    params |= {"subsample": 0.8, "seed": 0, "nthread": 1}
    weights = _balanced(site.y) if site.balanced else None
    booster = xgb.train(params, xgb.DMatrix(site.X, label=site.y, weight=weights), num_boost_round=40)
    suffix = ".ubj" if site.workspace == "dili" else ".json"
    booster.save_model(str(folder / "weights" / f"model{suffix}"))
    return {
        "requirements": ["xgboost"],
        "plan": site.plan(BOOSTING_PLAN),
        "model_args": {"max_depth": 3, "nthread": 1},
        "description": "Gradient-boosted trees; fine-tuning adds rounds on the workspace's cohort.",
    }


def build_lightgbm(site: Site, folder: Path) -> dict[str, Any]:
    import lightgbm as lgb

    params = {
        "objective": "multiclass",
        "num_class": len(site.classes),
        "num_leaves": 8,
        "learning_rate": 0.1,
    }
    params |= {"min_data_in_leaf": 10, "seed": 0, "num_threads": 1, "deterministic": True, "verbosity": -1}
    weights = _balanced(site.y) if site.balanced else None
    booster = lgb.train(params, lgb.Dataset(site.X, label=site.y, weight=weights), num_boost_round=40)
    booster.save_model(str(folder / "weights" / "model.txt"))
    return {
        "requirements": ["lightgbm"],
        "plan": site.plan(BOOSTING_PLAN),
        "model_args": {"num_leaves": 8, "min_data_in_leaf": 10, "num_threads": 1},
        "description": "LightGBM; fine-tuning continues boosting from the shipped model.",
    }


def build_torch(site: Site, folder: Path) -> dict[str, Any]:
    import torch

    torch.manual_seed(0)
    if site.workspace == "neuromuscular":
        shutil.copyfile(TEMPLATES / "torch_pathways.py", folder / "model.py")
        code = _import(folder / "model.py")
        module, inputs = code.PathwayNet(), code.pathway_features(site.X)
        extra: dict[str, Any] = {"entry": "model:Model", "description": "Pathway-aware MLP on module means."}
    else:
        shutil.copyfile(TEMPLATES / "torch_mlp.py", folder / "model.py")
        args = {"n_features": site.X.shape[1], "n_classes": len(site.classes), "hidden": 32}
        module, inputs = _import(folder / "model.py").Net(**args), site.X
        extra = {
            "entry": "model:Net",
            "model_args": args,
            "description": "Small MLP, standardisation inside.",
        }
    module.mean.copy_(torch.tensor(inputs.mean().to_numpy(), dtype=torch.float32))
    module.scale.copy_(torch.tensor(inputs.std().clip(lower=1e-6).to_numpy(), dtype=torch.float32))
    model = TorchModel(module)
    model.features = lambda X: X  # type: ignore[method-assign]
    model.fine_tune(inputs, site.y, site.plan(TORCH_PLAN), classes=site.classes)
    model.save(folder / "weights")
    return extra | {"requirements": ["torch", "safetensors"], "plan": site.plan(TORCH_PLAN)}


def build_onnx(site: Site, folder: Path) -> dict[str, Any]:
    from skl2onnx import to_onnx

    pipe = logistic(site, 0.05).fit(site.X.to_numpy(np.float32), site.y)
    onx = to_onnx(pipe, site.X.to_numpy(np.float32)[:1], options={"zipmap": False}, target_opset=17)
    (folder / "weights" / "model.onnx").write_bytes(onx.SerializeToString())
    return {
        "requirements": ["onnxruntime"],
        "description": "Logistic regression exported to ONNX: baseline only (no fine-tuning).",
    }


def build_python(site: Site, folder: Path) -> dict[str, Any]:
    shutil.copyfile(TEMPLATES / "softmax.py", folder / "model.py")
    code = _import(folder / "model.py")
    modules = None
    if site.workspace == "neuromuscular":
        genes = [f"gene_{i}" for i in range(200)]
        modules = {f"module_{k}": genes[k * 20 : (k + 1) * 20] for k in range(10)}
    model = code.Model.fresh(site.X, len(site.classes), modules)
    plan = site.plan(Plan(epochs=40, learning_rate=0.1, batch_size=64))
    model.fine_tune(site.X, site.y, plan, classes=site.classes)
    model.save(folder / "weights")
    return {
        "entry": "model:Model",
        "requirements": ["numpy", "pandas", "safetensors"],
        "plan": plan,
        "description": "Softmax regression in plain numpy" + (" on pathway scores." if modules else "."),
    }


BUILDERS: dict[str, Callable[[Site, Path], dict[str, Any]]] = {
    "sklearn": build_sklearn,
    "xgboost": build_xgboost,
    "lightgbm": build_lightgbm,
    "torch": build_torch,
    "onnx": build_onnx,
    "python": build_python,
}


def _balanced(y: np.ndarray) -> np.ndarray:
    counts = np.bincount(y)
    return np.asarray((len(y) / (len(counts) * counts))[y])


def _import(path: Path) -> Any:
    """Import a bundle's model.py here, to train what it defines (the sandbox imports it the same way)."""
    spec = importlib.util.spec_from_file_location(
        f"example_{path.parent.parent.name}_{path.parent.name}", path
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(workspace: str, framework: str) -> float:
    """Build one bundle and return its measured macro-F1 on the site's internal holdout."""
    site = Site(workspace, framework)
    folder = ROOT / workspace / framework
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "weights").mkdir(parents=True)
    extra = BUILDERS[framework](site, folder)
    manifest: dict[str, Any] = {"name": f"{workspace}-{framework}", "framework": framework} | extra
    plan = manifest.pop("plan", Plan())
    description = manifest.pop("description")
    manifest["description"] = f"{description} Pretrained on the {site.site} site."
    write_manifest(folder, manifest | {"plan": plan.to_dict()})
    model = load_model(folder, validate_bundle(folder))
    proba = model.predict_proba(site.X_hold)
    score = round(float(f1_score(site.y_hold, proba.argmax(axis=1), average="macro")), 3)
    claimed = {"macro_f1": score}
    write_manifest(folder, {**manifest, "claimed": claimed, "plan": plan.to_dict()})
    return score


def main() -> None:
    import torch

    torch.set_num_threads(1)
    for workspace in WORKSPACES:
        for framework in BUILDERS:
            score = build(workspace, framework)
            size = sum(p.stat().st_size for p in (ROOT / workspace / framework / "weights").iterdir())
            print(
                f"{workspace:>14} {framework:>8}  site={SITES[framework]:<15} macro_f1={score:.3f}  {size} B"
            )


# --- tables with missing values and categories (examples/tables/) -------------------------------
# One bundle per framework for the DILI cohort as hospitals hand it over (cohorts.tables.with_gaps:
# 10 % of lab values missing, diabetes as "yes"/"no", a recruiting centre). Built with
# `.venv/bin/python examples/build.py tables`.

TABLE_SITE = "pharma-internal"


class TableSite(Site):
    """A contributor site's DILI table with gaps, categories cast as the workspace casts them."""

    def __init__(self, framework: str) -> None:
        from cohortbench.cohorts.tables import CATEGORICAL, with_gaps
        from cohortbench.workspaces import validate_cohort

        spec = get_spec("dili")
        raw = with_gaps(generate("dili", seed=SITE_SEED, site=TABLE_SITE), seed=SITE_SEED)
        table = validate_cohort(
            raw, id_column=spec.id_column, label_column=spec.label_column, categorical=CATEGORICAL
        )
        X = table.frame[list(table.features)]
        y = np.array([spec.classes.index(str(v)) for v in table.frame[spec.label_column]])
        self.X, self.X_hold, self.y, self.y_hold = train_test_split(
            X, y, test_size=0.2, random_state=0, stratify=y
        )
        self.classes, self.workspace, self.site, self.balanced = spec.classes, "tables", TABLE_SITE, True


def table_xgboost(site: Site, folder: Path) -> dict[str, Any]:
    import xgboost as xgb

    params = {"objective": "multi:softprob", "num_class": 4, "max_depth": 3, "eta": 0.2, "seed": 0}
    dtrain = xgb.DMatrix(site.X, label=site.y, weight=_balanced(site.y), enable_categorical=True)
    xgb.train(params | {"nthread": 1}, dtrain, num_boost_round=30).save_model(
        str(folder / "weights" / "model.json")
    )
    return {
        "requirements": ["xgboost"],
        "plan": site.plan(Plan(epochs=10, learning_rate=0.1)),
        "model_args": {"max_depth": 3, "nthread": 1},
        "description": "XGBoost with native missing values and categories (enable_categorical).",
    }


def table_lightgbm(site: Site, folder: Path) -> dict[str, Any]:
    import lightgbm as lgb

    params = {"objective": "multiclass", "num_class": 4, "num_leaves": 8, "min_data_in_leaf": 10}
    params |= {"seed": 0, "num_threads": 1, "deterministic": True, "verbosity": -1}
    data = lgb.Dataset(site.X, label=site.y, weight=_balanced(site.y), categorical_feature="auto")
    lgb.train(params, data, num_boost_round=30).save_model(str(folder / "weights" / "model.txt"))
    return {
        "requirements": ["lightgbm"],
        "plan": site.plan(Plan(epochs=10, learning_rate=0.1)),
        "model_args": {"num_leaves": 8, "min_data_in_leaf": 10, "num_threads": 1},
        "description": "LightGBM with native missing values and categories (the category columns).",
    }


def table_sklearn(site: Site, folder: Path) -> dict[str, Any]:
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder

    categorical = [c for c in site.X.columns if isinstance(site.X[c].dtype, pd.CategoricalDtype)]
    numeric = [c for c in site.X.columns if c not in categorical]
    numbers = Pipeline([("impute", SimpleImputer(add_indicator=True)), ("scale", StandardScaler())])
    levels = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore")),
        ]
    )
    encode = ColumnTransformer([("numbers", numbers, numeric), ("levels", levels, categorical)])
    clf = LogisticRegression(C=0.05, max_iter=5000, class_weight="balanced")
    pipe = Pipeline([("encode", encode), ("clf", clf)]).fit(site.X, site.y)
    sio.dump(pipe, folder / "weights" / "model.skops")
    canonical_skops(folder / "weights" / "model.skops")
    return {
        "requirements": ["scikit-learn", "skops"],
        "plan": site.plan(Plan()),
        "description": "Imputer + one-hot encoder + logistic regression in one scikit-learn pipeline.",
    }


def table_torch(site: Site, folder: Path) -> dict[str, Any]:
    import torch

    torch.manual_seed(0)
    shutil.copyfile(TEMPLATES / "torch_table.py", folder / "model.py")
    code = _import(folder / "model.py")
    module = code.Net()
    numeric = site.X[[c for c in site.X.columns if c not in code.LEVELS]]
    module.mean.copy_(torch.tensor(numeric.mean().to_numpy(), dtype=torch.float32))
    module.scale.copy_(torch.tensor(numeric.std().clip(lower=1e-6).to_numpy(), dtype=torch.float32))
    model = code.Model(module)
    plan = site.plan(Plan(epochs=20, learning_rate=3e-3, batch_size=64))
    model.fine_tune(site.X, site.y, plan, classes=site.classes)
    model.save(folder / "weights")
    return {
        "entry": "model:Model",
        "requirements": ["torch", "safetensors", "pandas"],
        "plan": plan,
        "description": "MLP that encodes the table itself: missing indicators and one-hot levels.",
    }


def table_python(site: Site, folder: Path) -> dict[str, Any]:
    import sys

    shutil.copyfile(TEMPLATES / "softmax.py", folder / "softmax.py")
    shutil.copyfile(TEMPLATES / "softmax_table.py", folder / "model.py")
    sys.path.insert(0, str(folder))  # model.py imports its neighbour softmax.py, as in the sandbox
    try:
        code = _import(folder / "model.py")
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("softmax", None)
    model = code.Model.fresh(site.X, len(site.classes))
    plan = site.plan(Plan(epochs=40, learning_rate=0.1, batch_size=64))
    model.fine_tune(site.X, site.y, plan, classes=site.classes)
    model.save(folder / "weights")
    return {
        "entry": "model:Model",
        "requirements": ["numpy", "pandas", "safetensors"],
        "plan": plan,
        "description": "Numpy softmax regression that encodes the table itself (indicators, one-hot).",
    }


TABLE_BUILDERS: dict[str, Callable[[Site, Path], dict[str, Any]]] = {
    "xgboost": table_xgboost,
    "lightgbm": table_lightgbm,
    "sklearn": table_sklearn,
    "torch": table_torch,
    "python": table_python,
}


def build_table(framework: str) -> float:
    """Build examples/tables/FRAMEWORK and return its macro-F1 on the site's internal holdout."""
    site = TableSite(framework)
    folder = ROOT / "tables" / framework
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "weights").mkdir(parents=True)
    extra = TABLE_BUILDERS[framework](site, folder)
    manifest: dict[str, Any] = {"name": f"dili-table-{framework}", "framework": framework} | extra
    plan = manifest.pop("plan", Plan())
    manifest["description"] = f"{manifest.pop('description')} Pretrained on the {site.site} site."
    write_manifest(folder, manifest | {"plan": plan.to_dict()})
    proba = load_model(folder, validate_bundle(folder)).predict_proba(site.X_hold)
    score = round(float(f1_score(site.y_hold, proba.argmax(axis=1), average="macro")), 3)
    write_manifest(folder, {**manifest, "claimed": {"macro_f1": score}, "plan": plan.to_dict()})
    return score


def main_tables(frameworks: list[str] | None = None) -> None:
    import torch

    torch.set_num_threads(1)
    for framework in frameworks or TABLE_BUILDERS:
        score = build_table(framework)
        size = sum(p.stat().st_size for p in (ROOT / "tables" / framework / "weights").iterdir())
        print(f"{'tables':>14} {framework:>8}  site={TABLE_SITE:<15} macro_f1={score:.3f}  {size} B")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["tables"]:
        main_tables(sys.argv[2:])
    else:
        main()
