"""The sandbox's interpreter imports the runtime, not the host: every cold sandbox pays its imports
as CPU time, and code that is not imported cannot be reached from inside."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

#: packages only the host side uses (scoring, privacy release, store, web, the SDK)
HOST_ONLY = ("sklearn", "scipy", "opendp", "sqlalchemy", "fastapi", "httpx", "ray", "torch", "xgboost")


def test_the_entry_point_imports_no_host_package() -> None:
    code = "import json, sys, cohortbench.sandbox.entry; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(done.stdout))
    assert not {m for m in loaded if m.split(".")[0] in HOST_ONLY}
    for host_module in ("session", "launcher", "warm", "bwrap", "process"):
        assert f"cohortbench.sandbox.{host_module}" not in loaded
    assert "cohortbench.privacy.dp" not in loaded and "cohortbench.service" not in loaded


@pytest.mark.parametrize("package", ["cohortbench.sandbox", "cohortbench.privacy"])
def test_every_lazy_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018
