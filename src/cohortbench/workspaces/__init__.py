"""cohortbench.workspaces."""

__all__: list[str] = []
