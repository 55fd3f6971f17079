"""Issue 15's done-when: an outside cohort from CSV to a trusted leaderboard, with the CLI and the SDK.

scikit-learn's Wisconsin breast-cancer table as a CSV; `workspace create` with a description and
feature groups; two contributors invited; `check` against the server's schema twin (CLI and SDK);
the xgboost and torch bundles of docs/runtime.md submitted (CLI and SDK); the owner exports the
predictions and recomputes macro-F1 with scikit-learn: equal to the stored score.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from cohortbench.client import Client
from tests.cli.test_owner_cli import _token, cli, serve_at
from tests.docs.runtime_examples import breast_cancer_frame, run_examples

N_PATIENTS = 400


@pytest.fixture
def wdbc(tmp_path: Path) -> tuple[Path, str]:
    """A local deployment holding the `wdbc` workspace; (data dir, the administrator's token)."""
    data_dir = tmp_path / "data"
    frame = breast_cancer_frame().sample(N_PATIENTS, random_state=0).reset_index(drop=True)
    table = tmp_path / "wdbc.csv"
    frame.to_csv(table, index=False)
    errors = [c for c in frame.columns if c.endswith("_error")]
    groups = tmp_path / "groups.toml"
    groups.write_text(
        '[groups]\nmean = { prefix = "mean_" }\nworst = { prefix = "worst_" }\n'
        f"error = [{', '.join(repr(c).replace(chr(39), chr(34)) for c in errors)}]\n"
    )
    args = ["workspace", "create", "wdbc", "--data", str(table), "--label", "diagnosis"]
    args += ["--critical", "malignant", "--id", "patient_id", "--groups", str(groups)]
    args += ["--description", "Fine-needle aspirates: benign or malignant?"]
    done = cli(*args, data_dir=data_dir)
    assert "feature groups: mean (10), worst (10), error (10)" in done.stdout
    return data_dir, _token(done.stderr)


@pytest.mark.slow
def test_the_breast_cancer_path(wdbc: tuple[Path, str], tmp_path: Path) -> None:
    data_dir, admin = wdbc
    tokens = {}
    for who in ("alice", "bob"):
        tokens[who] = _token(cli("user", "create", who, data_dir=data_dir).stdout)
        cli("workspace", "invite", "wdbc", who, data_dir=data_dir)
    run_examples(bundles := tmp_path / "bundles")
    with serve_at(data_dir) as url:
        alice = {"COHORTBENCH_URL": url, "COHORTBENCH_TOKEN": tokens["alice"]}
        checked = cli("check", str(bundles / "wdbc-xgb"), "--workspace", "wdbc", data_dir=tmp_path, env=alice)
        assert "baseline: succeeded" in checked.stdout and "finetune: succeeded" in checked.stdout
        bob = Client(url, tokens["bob"])
        twin = bob.schema_twin("wdbc")
        assert twin.classes == ("benign", "malignant") and len(twin.columns) == 30
        assert bob.check(bundles / "wdbc-torch", "wdbc").ok

        done = cli("submit", "wdbc", str(bundles / "wdbc-xgb"), data_dir=tmp_path, env=alice)
        assert "check passed on the schema twin" in done.stdout and "succeeded" in done.stdout
        torch_sub = bob.wait(bob.submit("wdbc", bundles / "wdbc-torch"), progress=False)
        assert torch_sub.status == "succeeded"
        owner = Client(url, admin)
        for sid in (1, torch_sub.id):
            stored = {
                r["phase"]: r["value"] for r in owner.results(sid).metric_rows() if r["metric"] == "macro_f1"
            }
            out = tmp_path / f"predictions-{sid}.csv"
            cli("export", "predictions", str(sid), "--out", str(out), data_dir=data_dir)
            frame = pd.read_csv(out)
            assert len(frame) == 80 and frame["patient_id"].is_unique
            for phase in ("baseline", "finetune"):
                proba = frame[[f"{phase}_p_benign", f"{phase}_p_malignant"]].to_numpy()
                predicted = np.array(["benign", "malignant"])[proba.argmax(axis=1)]
                recomputed = f1_score(frame["diagnosis"], predicted, average="macro")
                assert stored[phase] == pytest.approx(recomputed, abs=1e-12), (sid, phase)
