"""The service tests' in-process deployment, for CLI tests that run commands against its data dir."""

from tests.service.conftest import deployment

__all__ = ["deployment"]
