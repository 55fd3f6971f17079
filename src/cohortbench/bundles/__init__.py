"""cohortbench.bundles."""

__all__: list[str] = []
