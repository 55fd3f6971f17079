"""cohortbench.web."""

__all__: list[str] = []
