"""Run the python blocks of docs/runtime.md's worked example: files written, code executed in order."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.datasets import load_breast_cancer

RUNTIME_MD = Path(__file__).resolve().parents[2] / "docs" / "runtime.md"
SECTION = "## Worked example"
BLOCK = re.compile(r"^```(python|toml)\n(.*?)^```$", re.S | re.M)
FILE = re.compile(r"^# file: (\S+)\n")


def blocks(text: str | None = None) -> list[tuple[str, str]]:
    """(language, code) of each python/toml block of the worked-example section."""
    doc = text if text is not None else RUNTIME_MD.read_text()
    return [(m[1], m[2]) for m in BLOCK.finditer(doc[doc.index(SECTION) :])]


def run_examples(folder: Path) -> dict[str, Any]:
    """Write the `# file:` blocks and execute the others in `folder`; the shared namespace afterwards."""
    namespace: dict[str, Any] = {"__name__": "runtime_md"}
    cwd, path = Path.cwd(), list(sys.path)
    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    earlier = sys.modules.pop("model", None)  # another test's bundle module must not answer `import model`
    try:
        for lang, code in blocks():
            target = FILE.match(code)
            if target:
                out = folder / target[1]
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(code[target.end() :])
            elif lang == "python":
                exec(compile(code, str(RUNTIME_MD), "exec"), namespace)
    finally:
        os.chdir(cwd)
        sys.path[:] = path
        sys.modules.pop("model", None)
        if earlier is not None:
            sys.modules["model"] = earlier
    return namespace


def breast_cancer_frame() -> pd.DataFrame:
    """The workspace's table as the docs describe it: patient_id, diagnosis (benign/malignant), 30 features."""
    data = load_breast_cancer(as_frame=True)
    frame = data.data.rename(columns=lambda c: c.replace(" ", "_"))
    frame.insert(0, "diagnosis", ["benign" if t == 1 else "malignant" for t in data.target])
    frame.insert(0, "patient_id", [f"WDBC{i:04d}" for i in range(len(frame))])
    return frame


BUNDLES = ("wdbc-xgb", "wdbc-torch", "wdbc-numpy")
