"""What reaches a contributor, field by field: every field of every public model and its channel.

tests/privacy/test_budget.py checks that RELEASED_FIELDS covers the public models exactly, and
privacy.channels counts each channel's bits.
"""

from __future__ import annotations

FIXED = "fixed"
"""Set by the host or chosen by the contributor at upload, or a public fact of the workspace: the
contributor's code cannot move it once the submission exists."""


#: Every field of every model a contributor reads, and the channel of privacy.channels it belongs
#: to (or FIXED). tests/privacy/test_budget.py checks that this covers the models exactly.
RELEASED_FIELDS: dict[str, dict[str, str]] = {
    "SubmissionPublic": {
        **dict.fromkeys(
            ("audience", "id", "workspace", "contributor", "name", "framework", "created_at", "claimed",
             "plan", "bundle_sha256", "score_step"),
            FIXED,
        ),
        "status": "completion time",
        "compute_pflop": "compute",
        "energy_kwh": "derived numbers",
        "co2e_g": "derived numbers",
        "error": "run outcome",
        "loss_trend": "loss curve",
        "top_groups": "feature-group importance",
        "transfer": "derived numbers",
        "ladder": "ladder decision",
        "runs": "run outcome",
    },
    "RunPublic": {
        "phase": FIXED,
        "status": "run outcome",
        "error": "run outcome",
        "wall_time": "wall time",
        "memory": "peak memory",
        "headline": "run outcome",
        "per_class": "run outcome",
    },
    "ClassOut": {"name": FIXED, "support": "holdout class support", "recall": "run outcome"},
    "ErrorOut": {
        "code": "run outcome", "exc_type": "run outcome", "detail": "run outcome", "message": "derived numbers"
    },
    "IntervalOut": {"value": "run outcome", "low": "run outcome", "high": "run outcome"},
    "TransferOut": {
        **dict.fromkeys(("baseline_ratio", "finetune_ratio", "gain"), "derived numbers"),
        "negative_transfer": "negative transfer",
        "worse_on": "negative transfer",
    },
    "SubmissionSummary": {
        **dict.fromkeys(("id", "workspace", "contributor", "name", "framework", "created_at"), FIXED),
        "status": "completion time",
        "compute_pflop": "compute",
        "error": "run outcome",
    },
    "LeaderboardRowOut": {
        **dict.fromkeys(
            ("submission_id", "contributor", "model", "framework", "claimed", "mine", "rerun_of"), FIXED
        ),
        "rank": "derived numbers",
        "status": "completion time",
        "baseline": "run outcome",
        "finetuned": "run outcome",
        "critical_recall": "run outcome",
        "transfer_ratio": "derived numbers",
        "ece": "run outcome",
        "compute_pflop": "compute",
        "energy_kwh": "derived numbers",
        "co2e_g": "derived numbers",
        "warning": "derived numbers",
        "ladder": "ladder decision",
    },
    "LeaderboardOut": {
        **dict.fromkeys(
            ("workspace", "metric", "critical_class", "released", "n_holdout", "score_step", "version"), FIXED
        ),
        "rows": "run outcome",
    },
    "WorkspaceCardOut": {
        **dict.fromkeys(
            ("name", "title", "description", "role", "participants", "end_date", "budget_pflop",
             "submissions_used", "quota", "resources", "dataset_id", "n_records", "n_train", "n_holdout",
             "n_features", "classes", "critical_class", "primary_metric", "published", "score_step", "rules",
             "feature_groups"),
            FIXED,
        ),
        "compute_used_pflop": "derived numbers",
    },
    # facts of the owner's cohort, not of a submission: no contributor code moves them
    "CohortVersionOut": dict.fromkeys(
        ("version", "created_at", "n_records", "n_train", "n_holdout", "holdout_fixed", "class_counts"), FIXED
    ),
    "CohortVersionList": dict.fromkeys(("data", "count"), FIXED),
}  # fmt: skip
