"""The channel budget: every number a contributor can read about one submission, and its bits.

A hostile model sees holdout features (and train labels) and chooses its predictions, its
losses, how long it runs and how much memory and CPU it takes, how it fails. Each released
number it can move is a channel out of the workspace; its capacity is log2 of the number of
distinct values the release rule lets it take. `ReleasePolicy.for_workspace` picks the release
rules of one workspace and `channel_budget` itemizes them; the total stays within BUDGET_BITS
per submission (both phases), and a policy that would exceed it is coarsened until it fits.

A run either succeeded (it shows scores) or failed (it shows a code and an exception name), never
both, so its outcome is counted as log2(#score values + #error values), not as their sum.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cohortbench.errors import ValidationError
from cohortbench.privacy.covert import MEMORY_BUCKETS_GIB, WALL_TIME_BUCKETS_S
from cohortbench.privacy.leaderboard import release_step
from cohortbench.privacy.released import MIN_CELL

BUDGET_BITS = 128.0
"""Most bits a contributor's code can move through everything released about one submission."""

PHASES = 2
SCORE_STEPS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
"""1-2-5 steps a policy may round scores to, finest first."""
COMPUTE_LEVELS = 20
"""A submission's compute is released rounded up to 1/COMPUTE_LEVELS of the workspace budget."""
LOSS_TRENDS = ("none", "falling", "flat", "rising", "unstable")
"""What a contributor learns of a real-data training curve (the exact curve: owner and `check`)."""
TOP_GROUPS = 3
DEFAULT_WALL_SECONDS = 1800.0
"""A phase's wall-clock limit (sandbox Limits.wall_seconds), which bounds the completion-time channel."""
POLL_SECONDS = 1.0
"""Finest resolution at which a contributor can watch a submission finish (polling the API)."""
"""Feature groups named, in order of importance, for a submission's final phase."""

#: Exception class names a contributor may see: builtins and the runtime's libraries only, so a
#: class declared (or built at run time) by the bundle can never carry a value out.
ALLOWED_EXCEPTIONS: tuple[str, ...] = (
    "ArithmeticError",
    "AssertionError",
    "AttributeError",
    "BlockingIOError",
    "ChildProcessError",
    "EOFError",
    "FileNotFoundError",
    "FloatingPointError",
    "ImportError",
    "IndexError",
    "KeyError",
    "LookupError",
    "MemoryError",
    "ModuleNotFoundError",
    "NameError",
    "NotImplementedError",
    "OSError",
    "OverflowError",
    "PermissionError",
    "RecursionError",
    "RuntimeError",
    "StopIteration",
    "SystemExit",
    "TimeoutError",
    "TypeError",
    "UnboundLocalError",
    "UnicodeDecodeError",
    "ValueError",
    "ZeroDivisionError",
    "XGBoostError",
    "LightGBMError",
    "NotFittedError",
    "OutOfMemoryError",
    "ParserError",
)

#: What was wrong with a model's predictions, as a contributor may read it (sandbox.errors maps the
#: checker's message to one of these; the message itself, with the shape the model chose, does not leave).
ERROR_DETAILS: tuple[str, ...] = (
    "wrong_shape",
    "not_finite",
    "not_probabilities",
    "rows_do_not_sum_to_1",
    "bad_losses",
    "unreadable",
)

Controller = Literal["contributor code", "scorer", "host", "data"]


@dataclass(frozen=True)
class ChannelItem:
    """One released field (or group of fields) of a submission: how many, how many values each."""

    name: str
    fields: str
    controlled_by: Controller
    rule: str
    count: int
    values: int

    @property
    def bits(self) -> float:
        return self.count * math.log2(self.values) if self.values > 1 else 0.0


@dataclass(frozen=True)
class ReleasePolicy:
    """How one workspace releases a submission's numbers to a contributor."""

    n_holdout: int
    classes: tuple[str, ...]
    n_groups: int
    run_states: int
    wall_seconds: float
    score_step: float
    top_groups: int
    ladder: bool = False

    @classmethod
    def for_workspace(
        cls,
        *,
        n_holdout: int,
        classes: Sequence[str],
        n_groups: int,
        run_states: int,
        wall_seconds: float = DEFAULT_WALL_SECONDS,
        ladder: bool = False,
    ) -> ReleasePolicy:
        """The finest policy that fits BUDGET_BITS: scores at the holdout's release step, then coarser.

        Fewer named groups are tried before coarser scores, since scores are what a reviewer reads.
        """
        if len(classes) < 2:
            raise ValidationError("a workspace needs at least two classes")
        finest = release_step(n_holdout)
        steps = [s for s in SCORE_STEPS if s >= finest * (1 - 1e-9)] or [SCORE_STEPS[-1]]
        for step in steps:
            for top in range(min(TOP_GROUPS, n_groups), -1, -1):
                policy = cls(n_holdout, tuple(classes), n_groups, run_states, wall_seconds, step, top, ladder)
                if total_bits(channel_budget(policy)) <= BUDGET_BITS:
                    return policy
        raise ValidationError(f"no release policy fits {BUDGET_BITS:g} bits for {len(classes)} classes")

    @property
    def score_values(self) -> int:
        """Distinct released values of a score in [0, 1] at this step."""
        return round(1 / self.score_step) + 1

    @property
    def scores_per_phase(self) -> int:
        """Primary metric and critical recall with their bounds, the other classes' recall, the ECE."""
        return 3 + 3 + (len(self.classes) - 1) + 1


def _orderings(n: int, k: int) -> int:
    """Ordered choices of up to k of n names (an empty list included)."""
    return sum(math.perm(n, j) for j in range(k + 1))


def channel_budget(policy: ReleasePolicy) -> list[ChannelItem]:
    """Every contributor-visible number about one submission, itemized (docs/privacy.md shows it)."""
    v = policy.score_values
    scores_bits = policy.scores_per_phase * math.log2(v)
    error_values = (policy.run_states - 1) * (len(ALLOWED_EXCEPTIONS) + 1) * (len(ERROR_DETAILS) + 1)
    outcome_values = 2 ** min(scores_bits, 1000.0) + error_values
    return [
        ChannelItem(
            "run outcome",
            "runs[].status, error.code, error.exc_type, error.detail, headline (value/low/high), per_class[].recall, ece",
            "contributor code",
            f"succeeded: {policy.scores_per_phase} scores on a {policy.score_step:g} grid ({v} values each); "
            f"failed: {policy.run_states - 1} states x {len(ALLOWED_EXCEPTIONS) + 1} exception names"
            f" x {len(ERROR_DETAILS) + 1} details",
            PHASES,
            math.ceil(outcome_values),
        ),
        ChannelItem(
            "completion time",
            "status (watched by polling)",
            "contributor code",
            f"runs show their status only when the whole submission ends: one moment in "
            f"{PHASES} x {policy.wall_seconds:g} s, seen to {POLL_SECONDS:g} s",
            1,
            math.ceil(PHASES * policy.wall_seconds / POLL_SECONDS) + 1,
        ),
        ChannelItem(
            "wall time",
            "runs[].wall_time",
            "contributor code",
            "bucket: <1, 1-5, 5-15, 15-60 min, 1-4 h, >=4 h",
            PHASES,
            len(WALL_TIME_BUCKETS_S) + 1,
        ),
        ChannelItem(
            "peak memory",
            "runs[].memory",
            "contributor code",
            "bucket: powers of two GiB",
            PHASES,
            len(MEMORY_BUCKETS_GIB) + 1,
        ),
        ChannelItem(
            "compute",
            "compute_pflop (energy_kwh, co2e_g and the card's compute used derive from it)",
            "contributor code",
            f"host-measured CPU/GPU time, rounded up to 1/{COMPUTE_LEVELS} of the budget",
            1,
            COMPUTE_LEVELS + 2,
        ),
        ChannelItem(
            "loss curve",
            "loss_trend",
            "contributor code",
            "one of " + ", ".join(LOSS_TRENDS),
            1,
            len(LOSS_TRENDS),
        ),
        ChannelItem(
            "feature-group importance",
            "top_groups",
            "contributor code",
            f"the {policy.top_groups} most important of {policy.n_groups} groups, in order",
            1,
            _orderings(policy.n_groups, policy.top_groups),
        ),
        ChannelItem(
            "negative transfer",
            "transfer.negative_transfer (transfer.worse_on: owner only, null here)",
            "contributor code",
            "yes / no / not assessed: headline, log loss, Brier, critical recall or critical AUC worse after fine-tuning",
            1,
            3,
        ),
        ChannelItem(
            "ladder decision",
            "ladder",
            "contributor code",
            "accepted (beats the contributor's best by one standard error) or held; held shows no scores"
            if policy.ladder
            else "the workspace does not run the Ladder: always null",
            1,
            3 if policy.ladder else 1,
        ),
        ChannelItem(
            "holdout class support",
            "per_class[].support",
            "data",
            "fixed by the split, the same for every submission; cells of 1-10 suppressed",
            len(policy.classes),
            1,
        ),
        ChannelItem(
            "derived numbers",
            "rank, status, transfer_ratio, transfer gain, warning, energy_kwh, co2e_g, error.message",
            "scorer",
            "functions of the released numbers above and of public inputs: no new values",
            1,
            1,
        ),
    ]


def total_bits(items: Sequence[ChannelItem]) -> float:
    return sum(item.bits for item in items)


def budget_table(items: Sequence[ChannelItem]) -> str:
    """The itemized budget as a Markdown table (docs/privacy.md carries this very text)."""
    lines = [
        "| channel | fields | controlled by | release rule | count | bits |",
        "|---|---|---|---|---|---|",
    ]
    for item in items:
        lines.append(
            f"| {item.name} | {item.fields} | {item.controlled_by} | {item.rule} | {item.count} | {item.bits:.1f} |"
        )
    lines.append(f"| **total** | | | | | **{total_bits(items):.1f}** (limit {BUDGET_BITS:g}) |")
    return "\n".join(lines)


def class_score_step(support: int | None, base: float) -> float | None:
    """Grid of a one-class proportion (a recall) over `support` holdout cases; None: not released.

    One patient moves such a score by 1/support. On a 1-2-5 grid of at least 1/(2 sqrt(support))
    (and never finer than the workspace's `base`), half a step exceeds 1/support for every
    support of 11 or more, so a model that predicts the class for one chosen patient alone reads
    0 either way: the one-row label probe is closed. Classes of 1-10 holdout cases (or of unknown
    size) release no recall at all, as the small-cell rule wants.
    """
    if support is None or support < MIN_CELL:
        return None
    step = max(release_step(support), base)
    return next((s for s in SCORE_STEPS if s >= step * (1 - 1e-9)), SCORE_STEPS[-1])


def coarsen_compute(pflop: float, budget_pflop: float) -> float:
    """A submission's compute rounded UP to 1/COMPUTE_LEVELS of the budget (never shown as less)."""
    if not math.isfinite(pflop) or pflop <= 0:
        return 0.0
    step = budget_pflop / COMPUTE_LEVELS
    levels = min(math.ceil(pflop / step - 1e-12), COMPUTE_LEVELS + 1)
    return float(f"{levels * step:.6g}")


def loss_trend(losses: Sequence[float]) -> str:
    """One word for a training curve: how a contributor learns that fine-tuning diverged.

    unstable: a non-finite value, or a curve that oscillates: two or more rises and a fall between
    consecutive points of more than 25 % of its range (a diverging fine-tune, as LightGBM at a
    high learning rate);
    rising / falling: the last point more than 5 % above / below the first; flat otherwise.
    """
    values = [float(v) for v in losses]
    if len(values) < 2:
        return "none"
    if not all(math.isfinite(v) for v in values):
        return "unstable"
    first, last = values[0], values[-1]
    span = max(values) - min(values)
    steps = [b - a for a, b in itertools.pairwise(values)]
    rises = sum(1 for d in steps if d > 0.25 * span > 0)
    falls = sum(1 for d in steps if -d > 0.25 * span > 0)
    if rises >= 2 and falls >= 1:
        return "unstable"
    scale = max(abs(first), 1e-12)
    if last > first + 0.05 * scale:
        return "rising"
    if last < first - 0.05 * scale:
        return "falling"
    return "flat"
