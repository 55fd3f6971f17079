"""The one service layer under the CLI, the REST API and the worker.

Functions take an explicit SQLAlchemy session (and the Platform where they touch artifacts) and the
acting user; they check roles, write the audit trail, and call the core packages.
"""

from cohortbench.service.platform import Platform
from cohortbench.service.settings import SETTINGS_HELP, Settings

__all__ = ["SETTINGS_HELP", "Platform", "Settings"]
