"""cohortbench.sandbox."""

__all__: list[str] = []
