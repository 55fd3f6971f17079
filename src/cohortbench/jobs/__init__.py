"""cohortbench.jobs."""

__all__: list[str] = []
