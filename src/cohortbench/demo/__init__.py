"""`cohortbench demo`: the brief's two evaluations end to end, through the same API real users use."""

from cohortbench.demo.run import DemoOptions, run_demo

__all__ = ["DemoOptions", "run_demo"]
