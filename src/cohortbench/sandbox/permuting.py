"""Predictions on permuted copies of the holdout, in batches: one predict_proba call per chunk.

Permutation importance asks for hundreds of permuted copies of the holdout (every feature group and
every feature, a few repeats each). Predicting each copy alone paid the model's per-call overhead
hundreds of times (for a tree model, most of a 320-row call), so the copies of a chunk of specs
are stacked into one frame (spec j's copy in rows j*n to (j+1)*n, index reset), predicted at once
and split back. A chunk holds at most `max_cells` cells (rows x columns), and at least one spec,
so a very wide holdout is predicted one copy at a time, as before. This relies on predict_proba
being row-wise (a row's probabilities depend on that row only, docs/runtime.md).

Runs inside the sandbox (the entry) and in the bare benchmark; numpy and pandas only.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from cohortbench.sandbox import outputs as out

#: cells (rows x columns) of one stacked frame: 32 MB of float64, so a chunk's copies, their
#: predictions and the model's own conversion of them stay within a few times that
MAX_CELLS = 4_000_000
#: a permutation as the entry reads it from job.json: {"seed": int, "columns": [names]} (and more)
Spec = Mapping[str, Any]


def row_order(spec: Spec, n_rows: int) -> np.ndarray:
    """The row order of a spec's permuted columns, drawn from its seed."""
    return np.random.default_rng(int(spec["seed"])).permutation(n_rows)


def permuted(frame: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """One permuted copy of `frame`: the spec's `columns` have their rows shuffled together.

    Each column keeps its dtype: a permuted categorical column keeps its categories (and their
    order), and its missing values move with the rows like any value. The reference that
    `stacked` must match, copy for copy.
    """
    copy = frame.copy()
    order = row_order(spec, len(frame))
    for col in spec["columns"]:
        copy[col] = pd.Series(frame[col].array.take(order), index=frame.index, name=col)
    return copy


def stacked(frame: pd.DataFrame, specs: Sequence[Spec]) -> pd.DataFrame:
    """The permuted copies of `frame` for `specs`, one below the other (index 0..len(specs)*n - 1).

    Columns of one numpy dtype are copied as one 2-D block (each spec's rows copied, then its
    permuted columns overwritten); other columns (categorical, nullable, string) by one `take`
    each over the stacked row positions, which keeps their dtype. Column names must be unique (a
    staged holdout's are: it went through Parquet).
    """
    n, k = len(frame), len(specs)
    orders = [row_order(spec, n) for spec in specs]
    by_dtype: dict[np.dtype[Any], list[Hashable]] = {}
    others: list[Hashable] = []
    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, np.dtype):
            by_dtype.setdefault(dtype, []).append(name)
        else:
            others.append(name)
    blocks = [_numpy_block(frame, names, dtype, specs, orders) for dtype, names in by_dtype.items()]
    if others:
        base = np.tile(np.arange(n), k)
        columns = {}
        for name in others:
            touched = [j for j, spec in enumerate(specs) if name in spec["columns"]]
            positions = base.copy() if touched else base
            for j in touched:
                positions[j * n : (j + 1) * n] = orders[j]
            columns[name] = frame[name].array.take(positions)
        blocks.append(pd.DataFrame(columns))
    if len(blocks) == 1 and list(blocks[0].columns) == list(frame.columns):
        return blocks[0]
    return pd.concat(blocks, axis=1)[list(frame.columns)]


def _numpy_block(
    frame: pd.DataFrame,
    names: list[Hashable],
    dtype: np.dtype[Any],
    specs: Sequence[Spec],
    orders: list[np.ndarray],
) -> pd.DataFrame:
    """The stacked copies of the columns `names` (all of numpy `dtype`) as one 2-D array: each
    spec's rows copied, then its permuted columns overwritten. Built column-major, as pandas keeps a
    block (so the frame wraps it without a copy, and the source is pandas' own block, not a copy)."""
    n = len(frame)
    columns = frame if len(names) == frame.shape[1] else frame[names]  # selecting 20,000 names costs
    source = columns.to_numpy(dtype=dtype).T  # (columns, rows)
    block = np.empty((len(names), len(specs) * n), dtype=dtype)
    where = {name: i for i, name in enumerate(names)}
    for j, (spec, order) in enumerate(zip(specs, orders, strict=True)):
        rows = block[:, j * n : (j + 1) * n]
        rows[:] = source
        cols = np.asarray([where[c] for c in spec["columns"] if c in where], dtype=np.intp)
        if len(cols):
            rows[cols] = source[np.ix_(cols, order)]
    return pd.DataFrame(block.T, columns=names, copy=False)


def chunks(specs: Sequence[Spec], n_rows: int, n_columns: int, max_cells: int) -> Iterator[Sequence[Spec]]:
    """Consecutive runs of specs whose stacked copies hold at most `max_cells` cells (one at least)."""
    per_chunk = max(1, max_cells // max(1, n_rows * n_columns))
    for start in range(0, len(specs), per_chunk):
        yield specs[start : start + per_chunk]


def predict_permuted(
    predict: Callable[[pd.DataFrame], Any],
    frame: pd.DataFrame,
    specs: Sequence[Spec],
    n_classes: int,
    *,
    max_cells: int = MAX_CELLS,
) -> np.ndarray:
    """(len(specs), len(frame), n_classes): `predict` on each spec's permuted copy, a chunk at a time.

    Each chunk's predictions are checked like the holdout's (outputs.check_probabilities: a wrong
    shape, NaN, values outside [0, 1], rows not summing to 1 fail with BadPredictionsError).
    """
    n = len(frame)
    result = np.empty((len(specs), n, n_classes), dtype=np.float64)
    done = 0
    for chunk in chunks(specs, n, frame.shape[1], max_cells):
        batch = stacked(frame, chunk)
        proba = np.asarray(predict(batch), dtype=np.float64)
        out.check_probabilities(proba, n_rows=len(batch), n_classes=n_classes)
        result[done : done + len(chunk)] = proba.reshape(len(chunk), n, n_classes)
        done += len(chunk)
    return result
