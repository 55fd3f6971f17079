"""The service tests' in-process deployment, for CLI tests that run commands against its data dir."""

from tests.service.conftest import deployment, deployment_template

__all__ = ["deployment", "deployment_template"]
