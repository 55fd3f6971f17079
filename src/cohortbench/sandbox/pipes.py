"""The entry's ends of the control pipes, kept to the entry's own process (used inside the sandbox).

Close-on-exec keeps them from any program the contributor's code runs, but a fork copies every
descriptor. So every child forked from Python (os.fork, multiprocessing's fork start, a daemon)
finds /dev/null in their place: a forked copy of the entry that returns into the entry's loop reads
end-of-file and exits, instead of taking the next phase's command or answering "done" for it. A child
made by a raw clone() keeps them; the host does not rely on that: it never waits on end-of-file of
either pipe, bounds every phase by its wall clock, and kills the whole pid namespace when it ends.
"""

from __future__ import annotations

import contextlib
import os


def keep_private(*fds: int) -> None:
    """Make `fds` close-on-exec, and /dev/null in children forked from now on."""
    for fd in fds:
        os.set_inheritable(fd, False)

    def blind() -> None:
        try:
            null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
        except OSError:  # no descriptor left: closing is the next best thing
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            return
        for fd in fds:
            os.dup2(null, fd, inheritable=False)
        os.close(null)

    os.register_at_fork(after_in_child=blind)
