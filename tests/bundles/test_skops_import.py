"""A sandbox imports skops without skops's default list of scikit-learn estimators (which imports all
of scikit-learn, seconds of CPU per sandbox); our allow-list must still decide alone what loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import skops.io as sio
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

#: runs in a fresh interpreter, as the sandbox's entry does: nothing has imported skops before
LOAD_EACH = """
import json, sys
from pathlib import Path
from cohortbench.bundles.manifest import BundleError
from cohortbench.bundles.adapters.sklearn_model import SklearnModel
loaded = {}
for folder in sorted(Path(sys.argv[1]).iterdir()):
    try:
        loaded[folder.name] = type(SklearnModel.load(folder).estimator).__name__
    except BundleError as exc:
        loaded[folder.name] = str(exc)
print(json.dumps({"loaded": loaded, "modules": sorted(sys.modules)}))
"""


def _dump(root: Path, name: str, estimator: object) -> None:
    (root / name).mkdir()
    sio.dump(estimator, root / name / "model.skops")


def test_the_allow_list_alone_decides_and_scikit_learn_is_not_walked(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 4)), np.arange(60) % 3
    _dump(tmp_path, "logistic", LogisticRegression().fit(X, y))
    scaled = Pipeline([("scale", StandardScaler()), ("gbm", HistGradientBoostingClassifier(max_iter=5))])
    _dump(tmp_path, "pipeline", scaled.fit(X, y))
    evil = Pipeline([("evil", FunctionTransformer(os.system)), ("clf", LogisticRegression().fit(X, y))])
    _dump(tmp_path, "evil", evil)
    done = subprocess.run(
        [sys.executable, "-c", LOAD_EACH, str(tmp_path)], capture_output=True, text=True, check=True
    )
    report = json.loads(done.stdout)
    assert report["loaded"]["logistic"] == "LogisticRegression"
    assert report["loaded"]["pipeline"] == "Pipeline"
    assert "outside the allow-list" in report["loaded"]["evil"] and "system" in report["loaded"]["evil"]
    # skops's own default list would have imported every scikit-learn module (sklearn.utils.all_estimators)
    assert "skops.io" in report["modules"]
    assert not {"sklearn.gaussian_process", "sklearn.semi_supervised", "sklearn.datasets"} & set(
        report["modules"]
    )
