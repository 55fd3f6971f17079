"""Framework adapters: each gives a framework's saved model the BundleModel protocol.

Bundles may subclass these in model.py (override `features`, or `build_module` for torch).
"""

from cohortbench.bundles.adapters.lightgbm_model import LightGBMModel
from cohortbench.bundles.adapters.onnx_model import OnnxModel
from cohortbench.bundles.adapters.sklearn_model import SklearnModel
from cohortbench.bundles.adapters.torch_model import TorchModel
from cohortbench.bundles.adapters.xgboost_model import XGBoostModel

__all__ = ["LightGBMModel", "OnnxModel", "SklearnModel", "TorchModel", "XGBoostModel"]
