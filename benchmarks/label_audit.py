"""Precision and recall of the label audit on planted flips (docs/cohorts.md, "Label audit").

For each data seed: 20 DILI records get another class at random, the audit ranks suspects, and we
count the planted ones among the top 40 and among everything cleanlab flags.

    PYTHONPATH=src python benchmarks/label_audit.py --seeds 5
"""

from __future__ import annotations

import argparse
import os
import time

from cohortbench import cohorts
from cohortbench.cohorts.label_audit import audit_labels
from tests.cohorts.test_label_audit import plant_flips

FLIPS, TOP = 20, 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    spec = cohorts.get_spec("dili")
    classes = tuple(str(c) for c in spec.classes)
    start, load = time.perf_counter(), os.getloadavg()[0]
    print("seed | in top 40 | precision@40 | recall@40 | flagged | precision (flagged) | recall (flagged)")
    for seed in range(args.seeds):
        frame, planted = plant_flips(
            cohorts.generate("dili", seed=seed), spec.label_column, classes, FLIPS, seed
        )
        result = audit_labels(
            frame,
            id_column=spec.id_column,
            label_column=spec.label_column,
            classes=classes,
            features=list(spec.features),
        )
        top = {s.record_id for s in result.suspects[:TOP]} & planted
        flagged = {s.record_id for s in result.suspects} & planted
        print(
            f"{seed} | {len(top)} | {len(top) / TOP:.3f} | {len(top) / FLIPS:.2f} | {result.n_flagged} | "
            f"{len(flagged) / max(result.n_flagged, 1):.3f} | {len(flagged) / FLIPS:.2f}"
        )
    print(
        f"{time.perf_counter() - start:.0f} s wall, load average {load:.1f} at start, {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
