"""The sandbox: runs contributor code under bubblewrap with no network and kernel-enforced limits.

Only numbers come back (predictions, losses, resource use) plus structured errors; free text from
the run stays in the owner-only log. See session.SandboxSession (both phases of a submission in one
sandboxed process), launcher.run_in_sandbox (one phase) and the invariants in DESIGN.md.
"""

# Lazy: the names below load on first use (the .pyi next to this file lists them), so that the
# sandbox's entry point does not import the host's supervision code or the privacy stack.
import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)
