"""What may leave a workspace: protected EDA aggregates, DP noise and its ledger, leaderboard release
rules, coarsened contributor-controlled numbers, the weights export rule and the schema twin."""

# Lazy: the names below load on first use (the .pyi next to this file lists them), so that the
# sandbox's entry point does not import the host's supervision code or the privacy stack.
import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
