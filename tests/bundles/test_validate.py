"""validate_bundle: trusted-side checks that refuse a bundle before anything runs."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from cohortbench.bundles import BundleError, validate_bundle
from cohortbench.errors import ValidationError

from .conftest import bundle, write_toml


@pytest.fixture
def xgb_bundle(tmp_path: Path, toy: tuple[pd.DataFrame, np.ndarray]) -> Path:
    X, y = toy
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3}, xgb.DMatrix(X, label=y), 2)
    return bundle(tmp_path, "xgboost", lambda w: booster.save_model(str(w / "model.json")))


def problems(folder: Path) -> str:
    with pytest.raises(ValidationError) as info:
        validate_bundle(folder)
    return info.value.message


def test_good_bundle_validates_and_lists_weights(xgb_bundle: Path) -> None:
    assert validate_bundle(xgb_bundle).weights == ("model.json",)


def test_missing_manifest(tmp_path: Path) -> None:
    assert "cohortbench.toml: missing" in problems(tmp_path)


def test_pickle_file_refused(xgb_bundle: Path) -> None:
    (xgb_bundle / "extra.pkl").write_bytes(pickle.dumps({"a": 1}))
    assert "extra.pkl: pickle files are refused" in problems(xgb_bundle)


def test_pickle_disguised_as_skops_refused(tmp_path: Path) -> None:
    folder = bundle(tmp_path, "sklearn", lambda w: (w / "model.skops").write_bytes(pickle.dumps([1, 2])))
    message = problems(folder)
    assert "weights/model.skops: contains pickle data" in message


def test_pickle_inside_a_zip_refused(tmp_path: Path) -> None:
    def save(w: Path) -> None:
        with zipfile.ZipFile(w / "model.skops", "w") as archive:
            archive.writestr("schema.json", "{}")
            archive.writestr("blob.bin", pickle.dumps(object))

    assert "archive member 'blob.bin' contains pickle data" in problems(bundle(tmp_path, "sklearn", save))


def test_torch_pt_file_refused(tmp_path: Path) -> None:
    folder = bundle(tmp_path, "torch", lambda w: (w / "model.pt").write_bytes(b"PK"), entry="model:Net")
    (folder / "model.py").write_text("class Net:\n    pass\n")
    assert "weights/model.pt: pickle files are refused" in problems(folder)


def test_wrong_weights_format_for_framework(xgb_bundle: Path) -> None:
    (xgb_bundle / "cohortbench.toml").write_text('name = "a"\nframework = "lightgbm"\n')
    assert "weights/model.json: lightgbm weights must be .txt" in problems(xgb_bundle)


def test_corrupt_weights_refused(tmp_path: Path) -> None:
    folder = bundle(tmp_path, "torch", lambda w: (w / "m.safetensors").write_bytes(b"\xff" * 20), entry="m:N")
    (folder / "m.py").write_text("class N:\n    pass\n")
    assert "weights/m.safetensors: not a valid .safetensors file" in problems(folder)


def test_no_weights_refused(tmp_path: Path) -> None:
    write_toml(tmp_path, 'name = "a"\nframework = "onnx"\n')
    assert "weights: no weights file" in problems(tmp_path)


def test_declared_weights_must_exist(xgb_bundle: Path) -> None:
    (xgb_bundle / "cohortbench.toml").write_text(
        'name = "a"\nframework = "xgboost"\nweights = ["other.ubj"]\n'
    )
    assert "'other.ubj' is declared but not in weights/" in problems(xgb_bundle)


def test_unknown_requirement_refused(xgb_bundle: Path) -> None:
    text = 'name = "a"\nframework = "xgboost"\nrequirements = ["tensorflow"]\n'
    (xgb_bundle / "cohortbench.toml").write_text(text)
    assert "requirements: 'tensorflow' is not in the runtime" in problems(xgb_bundle)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        (None, "model.py not found"),
        ("class Other:\n    pass\n", "class 'Model' is not defined"),
        ("def Model():\n    pass\n", "class 'Model' is not defined"),
        ("class Model(:\n", "model.py:1: syntax error"),
    ],
)
def test_entry_checked_without_running_it(tmp_path: Path, source: str | None, fragment: str) -> None:
    folder = bundle(tmp_path, "python", lambda w: None, entry="model:Model")
    if source is not None:
        (folder / "model.py").write_text(source)
    assert fragment in problems(folder)


def test_entry_is_parsed_not_executed(tmp_path: Path) -> None:
    folder = bundle(tmp_path, "python", lambda w: None, entry="model:Model")
    marker = tmp_path / "ran"
    (folder / "model.py").write_text(f"open({str(marker)!r}, 'w').write('x')\nclass Model:\n    pass\n")
    validate_bundle(folder)
    assert not marker.exists()


def test_missing_runtime_module_is_an_import_error(tmp_path: Path) -> None:
    folder = bundle(tmp_path, "python", lambda w: None, entry="model:Model")
    (folder / "model.py").write_text("import numpy\nimport tensorflow as tf\nclass Model:\n    pass\n")
    with pytest.raises(ValidationError) as info:
        validate_bundle(folder)
    assert info.value.code == "import_error" and "model.py:2: imports 'tensorflow'" in info.value.message


def test_guarded_and_local_imports_allowed(tmp_path: Path) -> None:
    folder = bundle(tmp_path, "python", lambda w: None, entry="model:Model")
    (folder / "helpers.py").write_text("X = 1\n")
    source = "try:\n    import ujson\nexcept ImportError:\n    ujson = None\nimport helpers\nclass Model:\n    pass\n"
    (folder / "model.py").write_text(source)
    assert validate_bundle(folder).entry == "model:Model"


def test_cohortbench_internals_refused(tmp_path: Path) -> None:
    folder = bundle(tmp_path, "python", lambda w: None, entry="model:Model")
    (folder / "model.py").write_text("from cohortbench.store import db\nclass Model:\n    pass\n")
    with pytest.raises(ValidationError, match=r"may only use cohortbench\.bundles"):
        validate_bundle(folder)


def test_all_problems_reported_together(tmp_path: Path) -> None:
    folder = bundle(tmp_path, "sklearn", lambda w: (w / "a.pkl").write_bytes(b"\x80\x04."))
    (folder / "cohortbench.toml").write_text('name = "a"\nframework = "sklearn"\n')
    with pytest.raises(BundleError) as info:
        validate_bundle(folder)
    assert len(info.value.problems) >= 2  # the pickle and the wrong weights suffix


def test_symlink_refused_even_without_unpack(xgb_bundle: Path) -> None:
    (xgb_bundle / "notes.txt").symlink_to("/etc/passwd")
    assert "notes.txt: only regular files and folders" in problems(xgb_bundle)
