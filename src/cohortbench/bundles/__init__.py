"""Bundles: the manifest, trusted-side unpacking and validation, and the framework adapters.

The trusted side calls `unpack_bundle` then `validate_bundle` (no contributor code runs);
the sandbox calls `load_model`, which may import the bundle's model.py. Bundles may import the
adapters from here (the one cohortbench surface they may use) and subclass them.
"""

from cohortbench.bundles.adapters import LightGBMModel, OnnxModel, SklearnModel, TorchModel, XGBoostModel
from cohortbench.bundles.loader import EntryModel, load_model
from cohortbench.bundles.manifest import (
    FRAMEWORKS,
    MANIFEST_NAME,
    BundleError,
    Manifest,
    parse_manifest,
    read_manifest,
)
from cohortbench.bundles.plan import Plan
from cohortbench.bundles.protocol import BundleModel, FineTuneUnsupportedError
from cohortbench.bundles.runtime import RUNTIME_PACKAGES
from cohortbench.bundles.unpack import unpack_bundle
from cohortbench.bundles.validate import validate_bundle

__all__ = [
    "FRAMEWORKS",
    "MANIFEST_NAME",
    "RUNTIME_PACKAGES",
    "BundleError",
    "BundleModel",
    "EntryModel",
    "FineTuneUnsupportedError",
    "LightGBMModel",
    "Manifest",
    "OnnxModel",
    "Plan",
    "SklearnModel",
    "TorchModel",
    "XGBoostModel",
    "load_model",
    "parse_manifest",
    "read_manifest",
    "unpack_bundle",
    "validate_bundle",
]
