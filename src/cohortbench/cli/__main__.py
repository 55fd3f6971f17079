"""`python -m cohortbench.cli`."""

from cohortbench.cli.app import main

main()
