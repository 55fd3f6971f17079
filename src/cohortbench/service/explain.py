"""The sentence a contributor reads beside a failure code: built from public facts only.

A real-data run's error reaches a contributor as a code, an allow-listed exception name and a fixed
detail word (privacy.channels "run outcome"). Those, with the workspace's public schema (its holdout
size, classes in order, feature columns: the card and the schema twin show them), are enough to
state what was expected in full, e.g. "predict_proba must return shape (80, 2) ...". Nothing the
sandbox wrote (its message, the shape the model chose) enters the sentence: it is a function of
already-released values and public inputs, so it is counted under "derived numbers".
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_LISTED = 12


def _columns(features: Sequence[str]) -> str:
    shown = ", ".join(features[:MAX_LISTED])
    more = f", ... ({len(features)} in all)" if len(features) > MAX_LISTED else ""
    return shown + more


def public_message(
    code: str,
    exc_type: str | None,
    detail: str | None,
    *,
    n_holdout: int,
    classes: Sequence[str],
    features: Sequence[str],
) -> str | None:
    """What the workspace expected, for the failures public facts can explain; None for the others."""
    k = len(classes)
    order = ", ".join(f"{i}: {c}" for i, c in enumerate(classes))
    if code == "bad_predictions":
        return {
            "wrong_shape": f"predict_proba must return an array of shape ({n_holdout}, {k}): one row per "
            f"holdout patient and one column per class, in the workspace's class order ({order})",
            "not_finite": "predict_proba returned NaN or infinite values",
            "not_probabilities": "predict_proba returned values outside [0, 1]",
            "rows_do_not_sum_to_1": f"each row of predict_proba must sum to 1 over the {k} classes",
            "bad_losses": "fine_tune must return a list of finite floats, one training loss per epoch",
            "unreadable": "the predictions could not be read back as a float array",
        }.get(detail or "")
    if code == "crashed" and exc_type in ("KeyError", "ValueError", "IndexError"):
        return (
            f"X is a DataFrame with exactly the workspace's {len(features)} feature columns, in this "
            f"order: {_columns(features)}; y holds class indices 0..{k - 1} ({order}). A model that "
            "expects other columns or another number of classes fails here: "
            "`cohortbench check BUNDLE --workspace NAME --url URL` shows the full error on the schema twin"
        )
    if code == "fine_tune_unsupported":
        return "this bundle cannot be fine-tuned: give its entry class a fine_tune(X, y, plan) method"
    return None
