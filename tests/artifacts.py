"""Where tests save files meant for a person to look at (charts, screenshots, the PDF report).

Outside the repository: `$COHORTBENCH_TEST_ARTIFACTS` when set (CI uploads that folder), else a
folder in the system's temporary directory. Its path is printed at the end of the test run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ARTIFACTS = Path(
    os.environ.get("COHORTBENCH_TEST_ARTIFACTS") or Path(tempfile.gettempdir()) / "cohortbench-test-artifacts"
)
