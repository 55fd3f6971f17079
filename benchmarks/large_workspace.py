"""A whole-transcriptome workspace end to end: wall time and peak memory of each step.

Run: .venv/bin/python benchmarks/large_workspace.py [--genes 20000] [--patients 20000]
     [--stages generate create eda twin bundle check submit] [--repeats 1] [--keep DIR] [--profile]

Steps, each in a fresh process so its peak resident memory (VmHWM) is its own:
  generate  make_transcriptomics (float32) written as Parquet, as an owner would upload it
  create    `workspace create`: read the table, validate, split, store the cohort version
  eda       the EDA release (service.eda.workspace_eda), computed and stored
  twin      the schema twin (service.owner.schema_twin) and its JSON
  bundle    the bundle the next two steps submit: pathway means + logistic regression (sklearn),
            trained on another draw; not a platform step
  check     `cohortbench check`: both phases of the bundle in the sandbox on the twin's fake data
            (at most sandbox.check.CHECK_RECORDS rows, in the cohort's dtypes)
  submit    one submission through the worker: both phases in the sandbox, grouped permutation
            importance (one permutation per pathway and repeat, not per gene), scoring, storing
--profile writes each step's cProfile (host side) to DIR/profile-STEP.txt.
The cohort's in-memory size (the float32 frame) is printed next to each peak; the target is each
step under 10 minutes and under 3x that size. The sandbox's own peak (the contributor's process,
measured by the host) is reported apart for check and submit.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

STAGES = ("generate", "create", "eda", "twin", "bundle", "check", "submit")
NAME = "genes"


def _preload() -> None:
    import pyarrow.parquet  # noqa: F401
    import sklearn.linear_model
    import sklearn.model_selection  # noqa: F401
    import skops.io  # noqa: F401

    import cohortbench.sandbox.check
    import cohortbench.service.eda
    import cohortbench.service.owner
    import cohortbench.service.worker  # noqa: F401


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the steps (each runs in its own process) ---------------------------------------------------


def stage(name: str, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    from cohortbench.service import Platform, Settings

    settings = Settings(
        data_dir=data / "deploy", embedded_worker=False, importance_repeats=args.repeats,
        max_upload_bytes=1 << 40,
    )  # fmt: skip
    _preload()
    start_rss = _rss_mb("VmRSS")  # after the imports every step pays: what is above it is the step's
    t0 = time.perf_counter()
    extra: dict[str, Any] = {}
    if name == "generate":
        from cohortbench.cohorts import make_transcriptomics, save_frame

        frame = make_transcriptomics(args.genes, args.patients)
        extra["frame_mb"] = frame.memory_usage(deep=True).sum() / 2**20
        save_frame(frame, data / "cohort.parquet")
    else:
        platform = Platform.open(settings)
        profile = cProfile.Profile() if args.profile else None
        try:
            if profile:
                profile.enable()
            extra = STEPS[name](platform, data, args)
        finally:
            if profile:
                profile.disable()
                with (data / f"profile-{name}.txt").open("w") as out:
                    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
            platform.close()
    wall = time.perf_counter() - t0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "stage": name, "wall_s": wall, "peak_mb": _rss_mb("VmHWM"), "start_mb": start_rss,
        "children_peak_mb": children, **extra,
    }  # fmt: skip


def step_create(platform: Any, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    from cohortbench.cohorts import load_frame, transcriptomics_spec
    from cohortbench.service import users, workspaces

    spec = transcriptomics_spec(args.genes, args.patients)
    frame = load_frame(data / "cohort.parquet")  # as `workspace create --data cohort.parquet` reads it
    with platform.session() as session:
        owner, _token = users.create_user(session, name="owner", is_admin=True)
        users.create_user(session, name="lab")
        workspaces.create_workspace(
            platform, session, actor=owner, name=NAME, title=spec.title, frame=frame,
            label_column=spec.label_column, id_column=spec.id_column, critical_class=spec.critical_class,
            classes=spec.classes, feature_groups={k: list(v) for k, v in spec.feature_groups.items()},
        )  # fmt: skip
        workspaces.invite(session, actor=owner, name=NAME, user_name="lab")
    return {"groups": len(spec.feature_groups)}


def step_eda(platform: Any, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    from cohortbench.service import eda, users

    with platform.session() as session:
        release = eda.workspace_eda(platform, session, actor=users.get_user(session, "lab"), name=NAME)
    return {"eda_json_mb": len(json.dumps(release)) / 2**20}


def step_twin(platform: Any, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    from cohortbench.service import owner, users

    with platform.session() as session:
        twin = owner.schema_twin(platform, session, actor=users.get_user(session, "owner"), name=NAME)
    text = json.dumps(twin.to_dict())
    (data / "twin.json").write_text(text)
    return {"twin_json_mb": len(text) / 2**20}


def step_bundle(platform: Any, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    return {"bundle_kb": sum(p.stat().st_size for p in _bundle(data, args).rglob("*") if p.is_file()) / 1024}


def step_check(platform: Any, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    from cohortbench.privacy.twin import SchemaTwin
    from cohortbench.sandbox.check import check_bundle

    twin = SchemaTwin.from_dict(json.loads((data / "twin.json").read_text()))
    report = check_bundle(_bundle(data, args), twin)
    return {
        "baseline": report.baseline.status, "finetune": report.finetune.status,
        "sandbox_peak_mb": _sandbox_peak(report.baseline, report.finetune),
    }  # fmt: skip


def step_submit(platform: Any, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    from cohortbench.service import submissions, users, workspaces
    from cohortbench.service.worker import make_worker
    from cohortbench.store.models import Run, Submission

    with platform.session() as session:
        if args.memory_gb:  # the owner sizes the jobs for the cohort (RLIMIT_AS of the sandbox)
            owner = users.get_user(session, "owner")
            changes = {"resources": {"memory_gb": args.memory_gb}}
            workspaces.update_rules(session, actor=owner, name=NAME, changes=changes)
    with platform.session() as session:
        sub = submissions.submit(
            platform, session, actor=users.get_user(session, "lab"), workspace_name=NAME,
            bundle=_bundle(data, args),
        )  # fmt: skip
        sid = sub.id
    worker = make_worker(platform, worker_id="bench")
    while worker.run_once():
        pass
    with platform.session() as session:
        from sqlalchemy import select

        status = session.get(Submission, sid).status  # type: ignore[union-attr]
        runs = session.scalars(select(Run).where(Run.submission_id == sid)).all()
        peaks = [float((r.resources or {}).get("peak_memory_bytes") or 0) / 2**20 for r in runs]
        walls = {r.phase: (r.resources or {}).get("wall_seconds") for r in runs}
        # a phase can fail while the submission completes (e.g. out_of_memory): name each outcome
        phases = {
            r.phase: r.status + (f" ({r.public_error.get('code')})" if r.public_error else "") for r in runs
        }
    return {
        "status": status, "phases": phases, "sandbox_peak_mb": max(peaks, default=0.0), "phase_wall_s": walls,
    }  # fmt: skip


def _sandbox_peak(*outcomes: Any) -> float:
    peaks = [float(getattr(o.resources, "peak_memory_bytes", 0) or 0) for o in outcomes if o.resources]
    return max(peaks, default=0.0) / 2**20


MODEL_PY = '''"""Pathway-level logistic regression: each pathway's mean expression (200 consecutive genes,
one float32 matrix product, no per-gene loop), then the fitted Pipeline in weights/model.skops."""

import numpy as np
import pandas as pd

from cohortbench.bundles import SklearnModel

PATHWAY_SIZE = 200


def pathway_means(X: pd.DataFrame) -> pd.DataFrame:
    genes = [c for c in X.columns if c.startswith("gene_")]
    pathway = np.array([int(c.split("_")[1]) // PATHWAY_SIZE for c in genes])
    member = np.zeros((len(genes), int(pathway.max()) + 1), dtype=np.float32)
    member[np.arange(len(genes)), pathway] = 1.0
    member /= np.maximum(member.sum(axis=0), 1.0)
    values = (X if len(genes) == X.shape[1] else X[genes]).to_numpy(dtype=np.float32)
    names = [f"pathway_{k:03d}" for k in range(member.shape[1])]
    return pd.DataFrame(values @ member, columns=names, index=X.index)


class Model(SklearnModel):
    def features(self, X: pd.DataFrame) -> pd.DataFrame:
        return pathway_means(X)
'''


def _bundle(data: Path, args: argparse.Namespace) -> Path:
    """An example-like sklearn bundle (examples/templates/sklearn_pathways.py at transcriptome size):
    pathway means, then a standardised logistic regression, pretrained on another draw of the cohort.
    Fine-tuning refits it on the train split (LogisticRegression has no partial_fit)."""
    folder = data / "bundle"
    if (folder / "cohortbench.toml").exists():
        return folder
    import importlib.util

    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from cohortbench.cohorts import make_transcriptomics, transcriptomics_spec

    (folder / "weights").mkdir(parents=True)
    (folder / "model.py").write_text(MODEL_PY)
    found = importlib.util.spec_from_file_location("genes_model", folder / "model.py")
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    spec = transcriptomics_spec(args.genes, args.patients)
    train = make_transcriptomics(args.genes, min(args.patients, 2000), seed=7)
    y = train[spec.label_column].map({c: i for i, c in enumerate(spec.classes)}).to_numpy()
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=0.5, max_iter=2000))])
    pipe.fit(module.pathway_means(train[list(spec.features)]), y)
    sio.dump(pipe, folder / "weights" / "model.skops")
    (folder / "cohortbench.toml").write_text(
        'name = "genes-sklearn-pathways"\nframework = "sklearn"\nentry = "model:Model"\n'
        'requirements = ["scikit-learn", "skops"]\nclaimed = { macro_f1 = 0.8 }\n'
        "[plan]\nepochs = 1\nseed = 0\n"
    )
    return folder


STEPS = {
    "bundle": step_bundle,
    "create": step_create,
    "eda": step_eda,
    "twin": step_twin,
    "check": step_check,
    "submit": step_submit,
}


# --- the driver ---------------------------------------------------------------------------------


def run(args: argparse.Namespace, data: Path) -> list[dict[str, Any]]:
    out = []
    for name in args.stages:
        cmd = [sys.executable, __file__, "--stage", name, "--data", str(data), "--genes", str(args.genes),
               "--patients", str(args.patients), "--repeats", str(args.repeats)]  # fmt: skip
        cmd += ["--profile"] if args.profile else []
        cmd += ["--memory-gb", str(args.memory_gb)] if args.memory_gb else []
        load = os.getloadavg()[0]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        if done.returncode or not lines:
            print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"step {name} failed (exit {done.returncode})")
        result = {**json.loads(lines[-1]), "load_before": load, "load_after": os.getloadavg()[0]}
        print(json.dumps(result), flush=True)
        out.append(result)
    return out


def table(results: list[dict[str, Any]], frame_mb: float) -> str:
    lines = [
        "| step | wall | peak RSS | above imports | x cohort | sandbox peak | load (1 min, before/after) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        box = f"{r['sandbox_peak_mb']:,.0f} MB" if r.get("sandbox_peak_mb") else ""
        above = r["peak_mb"] - r["start_mb"]
        lines.append(
            f"| {r['stage']} | {r['wall_s']:.1f} s | {r['peak_mb']:,.0f} MB | {above:,.0f} MB | "
            f"{above / frame_mb:.2f} | {box} | {r['load_before']:.1f} / {r['load_after']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=1, help="permutation repeats per pathway")
    parser.add_argument("--stages", nargs="+", default=list(STAGES), choices=STAGES)
    parser.add_argument(
        "--memory-gb",
        type=float,
        help="the workspace's job memory (sandbox RLIMIT_AS) for submit; default 8.59",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile each step into the work folder")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (else a temp folder)")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, args.data, args)), flush=True)
        return
    frame_mb = (args.genes * 4 + 16) * args.patients / 2**20  # float32 genes + two object columns' pointers
    print(
        f"{args.genes:,} genes x {args.patients:,} patients: cohort in memory ~{frame_mb:,.0f} MB", flush=True
    )
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        results = run(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="cohortbench-large-") as tmp:
            results = run(args, Path(tmp))
    measured = [r["frame_mb"] for r in results if "frame_mb" in r]
    print()
    print(table(results, measured[0] if measured else frame_mb))


if __name__ == "__main__":
    main()
