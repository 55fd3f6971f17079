"""Small data and bundle builders shared by the bundle tests (fast: 150 rows, 6 features, 3 classes)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

CLASSES = ("low", "mid", "high")


@pytest.fixture
def toy(global_random_seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """A learnable 3-class problem with named columns."""
    rng = np.random.default_rng(global_random_seed)
    X = pd.DataFrame(rng.normal(size=(150, 6)), columns=[f"f{i}" for i in range(6)])
    score = X["f0"] + 0.5 * X["f1"] + rng.normal(scale=0.3, size=len(X))
    y = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3])).astype(np.int64)
    return X, y


def write_toml(folder: Path, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cohortbench.toml").write_text(text)


def bundle(
    root: Path, framework: str, save: Callable[[Path], Any], *, entry: str | None = None, extra: str = ""
) -> Path:
    """A bundle folder with a manifest and whatever `save` writes into weights/."""
    folder = root / f"bundle-{framework}"
    (folder / "weights").mkdir(parents=True)
    save(folder / "weights")
    entry_line = f'entry = "{entry}"\n' if entry else ""
    write_toml(folder, f'name = "t-{framework}"\nframework = "{framework}"\n{entry_line}{extra}')
    return folder
