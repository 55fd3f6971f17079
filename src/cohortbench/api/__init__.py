"""The REST API (FastAPI): thin routes over cohortbench.service; errors as RFC 9457 problem+json."""

from cohortbench.api.app import create_app

__all__ = ["create_app"]
