"""cohortbench: bring a model to a private clinical cohort; only numbers leave.

See DESIGN.md for the vocabulary (workspace, cohort version, bundle, submission, run, result, plan).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Client", "__version__"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from cohortbench.client import Client


def __getattr__(name: str) -> Any:
    # The SDK pulls in httpx and pandas; import it only when a notebook asks for it.
    if name == "Client":
        from cohortbench.client import Client

        return Client
    raise AttributeError(name)
