"""The fixed runtime a bundle runs in: a bundle cannot install packages, it can only name ones that are here.

Like a competition image: the list is short and pinned (requirements.lock), and docs/runtime.md shows it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from importlib import metadata
from types import MappingProxyType

from packaging.requirements import InvalidRequirement, Requirement

#: distribution name -> the module names it provides to `import`
ALLOWED_PACKAGES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "lightgbm": ("lightgbm",),
        "numpy": ("numpy",),
        "onnx": ("onnx",),
        "onnxruntime": ("onnxruntime",),
        "pandas": ("pandas",),
        "pyarrow": ("pyarrow",),
        "safetensors": ("safetensors",),
        "scikit-learn": ("sklearn",),
        "scipy": ("scipy",),
        "skl2onnx": ("skl2onnx",),
        "skops": ("skops",),
        "torch": ("torch",),
        "xgboost": ("xgboost",),
    }
)

#: names contributors also write for a distribution
ALIASES: Mapping[str, str] = MappingProxyType({"sklearn": "scikit-learn"})

#: modules of cohortbench a bundle may import: the adapters it may subclass, nothing else
COHORTBENCH_SURFACE = ("cohortbench", "cohortbench.bundles")


def _installed() -> Mapping[str, str]:
    found: dict[str, str] = {}
    for name in ALLOWED_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return MappingProxyType(found)


#: distribution name -> installed version, for the runtime's allowed packages
RUNTIME_PACKAGES: Mapping[str, str] = _installed()


def normalize(name: str) -> str:
    """PEP 503 normalised name, with import-name aliases mapped to the distribution."""
    canonical = re.sub(r"[-_.]+", "-", name).lower()
    return ALIASES.get(canonical, canonical)


def requirement_problem(text: str) -> str | None:
    """Why a declared requirement cannot be met by the runtime, or None when it can."""
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return f"{text!r} is not a valid requirement (write e.g. 'xgboost' or 'torch>=2.0')"
    name = normalize(req.name)
    if name not in RUNTIME_PACKAGES:
        return (
            f"{req.name!r} is not in the runtime; a bundle cannot install packages "
            f"(available: {', '.join(sorted(RUNTIME_PACKAGES))}; see docs/runtime.md)"
        )
    version = RUNTIME_PACKAGES[name]
    if req.specifier and not req.specifier.contains(version, prereleases=True):
        return f"{text!r} is not met: the runtime has {name}=={version}"
    return None


def importable_roots() -> frozenset[str]:
    """Top-level module names contributor code may import: the standard library plus the runtime."""
    runtime = {mod for dist in RUNTIME_PACKAGES for mod in ALLOWED_PACKAGES[dist]}
    return frozenset(sys.stdlib_module_names | runtime | {"cohortbench"})
