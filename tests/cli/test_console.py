"""Output sent to a log or a pipe keeps whole leaderboard rows (Rich would wrap them at 80 columns)."""

from __future__ import annotations

from cohortbench.cli.tables import PIPE_WIDTH, leaderboard_table, make_console


def test_redirected_output_is_not_wrapped_at_80_columns(capsys) -> None:  # type: ignore[no-untyped-def]
    body = {
        "workspace": "dili",
        "metric": "macro_f1",
        "critical_class": "3",
        "rows": [
            {
                "rank": 1,
                "contributor": "Contributor C",
                "model": "dili-lightgbm",
                "framework": "lightgbm",
                "claimed": 0.718,
                "baseline": {"value": 0.56, "low": 0.45, "high": 0.68},
                "finetuned": {"value": 0.56, "low": 0.44, "high": 0.68},
                "critical_recall": {"value": 0.2, "low": 0.07, "high": 0.47},
                "transfer_ratio": 0.78,
                "warning": None,
            }
        ],
    }
    console = make_console()  # stdout is captured here: not a terminal
    assert console.width == PIPE_WIDTH
    console.print(leaderboard_table(body))
    lines = capsys.readouterr().out.splitlines()
    assert any("Contributor C" in line and "0.56 [0.44–0.68]" in line for line in lines)
