"""Manifest parsing: each bad field gets its own message naming the field; all are collected."""

from __future__ import annotations

import pytest

from cohortbench.bundles import BundleError, Plan, parse_manifest

GOOD = """
name = "dili-gbm"
framework = "xgboost"
claimed = { macro_f1 = 0.82, recall_3 = 0.7 }
requirements = ["xgboost>=1.0", "sklearn"]
[plan]
epochs = 10
learning_rate = 0.1
"""


def test_good_manifest_parses() -> None:
    manifest = parse_manifest(GOOD)
    assert manifest.name == "dili-gbm" and manifest.framework == "xgboost" and manifest.entry is None
    assert manifest.claimed == {"macro_f1": 0.82, "recall_3": 0.7}
    assert manifest.plan == Plan(epochs=10, learning_rate=0.1)
    assert manifest.requirements == ("xgboost>=1.0", "sklearn")


def test_entry_splits_into_module_and_class() -> None:
    manifest = parse_manifest('name = "a"\nframework = "python"\nentry = "model:Model"\n')
    assert (manifest.entry_module, manifest.entry_class) == ("model", "Model")


@pytest.mark.parametrize(
    ("line", "field", "fragment"),
    [
        ('name = "../etc"', "name", "letters"),
        ('framework = "keras"', "framework", "sklearn, xgboost"),
        ('entry = "model.Model"', "entry", "module:Class"),
        ("claimed = { macro_f1 = 1.5 }", "claimed", "[0, 1]"),
        ('claimed = { "Macro F1" = 0.5 }', "claimed", "lower_snake_case"),
        ('requirements = ["tensorflow"]', "requirements", "not in the runtime"),
        ('requirements = ["torch<1"]', "requirements", "runtime has torch"),
        ('weights = ["../x.json"]', "weights", "inside weights/"),
        ("model_args = { a = [1, 2] }", "model_args", "simple values"),
        ("colour = 3", "colour", "unknown field"),
    ],
)
def test_bad_field_is_named(line: str, field: str, fragment: str) -> None:
    base = {"name": 'name = "a"', "framework": 'framework = "xgboost"'}
    key = line.split(" ")[0]
    text = "\n".join([v for k, v in base.items() if k != key] + [line]) + "\n"
    with pytest.raises(BundleError) as info:
        parse_manifest(text)
    assert info.value.code == "invalid_bundle"
    assert any(p.startswith(f"{field}:") and fragment in p for p in info.value.problems), info.value.problems


def test_all_problems_collected() -> None:
    text = 'framework = "keras"\nclaimed = { f1 = 2 }\n[plan]\nepochs = -1\n'
    with pytest.raises(BundleError) as info:
        parse_manifest(text)
    fields = {p.split(":")[0] for p in info.value.problems}
    assert {"name", "framework", "claimed", "plan.epochs"} <= fields


def test_code_frameworks_need_an_entry() -> None:
    with pytest.raises(BundleError, match="entry: required for framework 'torch'"):
        parse_manifest('name = "a"\nframework = "torch"\n')


def test_invalid_toml_is_reported() -> None:
    with pytest.raises(BundleError, match="not valid TOML"):
        parse_manifest("name = ")
