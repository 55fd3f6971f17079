"""cohortbench.api."""

__all__: list[str] = []
