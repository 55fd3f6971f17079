"""WarmPool: sandboxed interpreters started before their job, each having imported the runtime.

Importing numpy, pandas, scikit-learn and a framework again is most of a short sandboxed run
(docs/performance.md). A warm sandbox is an ordinary sandbox process (the same bwrap, seccomp
filter, uid of its own and kernel limits as a cold one for the same request) started over empty
job folders of its own; it imports the runtime for one framework, then waits for its first command.
The session that takes it copies the bundle into its bundle/ folder and stages each phase's inputs
into input/ (both bound live), just as a cold session stages a later phase into its running
process: the sandbox sees nothing of a job before the hand-over, then the bundle and one phase's
inputs at a time. A warm sandbox serves one submission only: the session that took it kills it
when done and removes its folders, and the pool starts a fresh one as soon as one is taken.

A warm sandbox is keyed by the request's limits and device and the bundle's framework (WarmKey): a
request no warm sandbox fits starts cold, as without a pool, and the pool warms one of its kind
for the next submission, keeping at most `size` warm (the least recently wanted go first).
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from cohortbench.bundles.manifest import read_manifest
from cohortbench.errors import CohortbenchError
from cohortbench.sandbox import bwrap
from cohortbench.sandbox.bwrap import Mounts
from cohortbench.sandbox.limits import Limits
from cohortbench.sandbox.runs import RunRequest
from cohortbench.sandbox.session import BACKSTOP_SLACK_SECONDS, Running, start_process

log = logging.getLogger(__name__)
#: CPU seconds of the kernel backstop a warm sandbox may spend importing, beyond two full phases
WARM_UP_CPU_SECONDS = 60
#: A warm sandbox imports under SCHED_IDLE until a session takes it: on the CPU the current job
#: leaves idle, instead of taking a core from it (on 2 cores, the replacement started when a job
#: takes its sandbox made that job's phases 1.5 s slower). Only where the host may undo it (root,
#: CAP_SYS_NICE): a process cannot leave SCHED_IDLE by itself.
WARM_UP_IDLE = os.geteuid() == 0
#: what every phase imports (the entry's own imports are numpy, pandas and the plan; read_parquet
#: imports pyarrow.dataset on its first call)
BASE_PRELOAD = (
    "pyarrow.parquet",
    "pyarrow.dataset",
    "cohortbench.bundles.loader",
    "cohortbench.bundles.validate",
)
#: the framework adapter and its library, imported ahead by a warm sandbox for that framework
FRAMEWORK_PRELOAD: dict[str, tuple[str, ...]] = {
    "sklearn": ("cohortbench.bundles.adapters.sklearn_model", "sklearn.ensemble", "skops.io"),
    "xgboost": ("cohortbench.bundles.adapters.xgboost_model", "xgboost"),
    "lightgbm": ("cohortbench.bundles.adapters.lightgbm_model", "lightgbm"),
    "torch": ("cohortbench.bundles.adapters.torch_model", "torch"),
    "onnx": ("cohortbench.bundles.adapters.onnx_model", "onnxruntime"),
    "python": (),
}


#: a pool's own folder in the temporary directory: POOL_PREFIX, then the owning process's pid and
#: start time (clock ticks after boot), then mkdtemp's random part; a worker killed with SIGKILL
#: cannot remove it, so the next pool on the machine does (remove_stale_pools)
POOL_PREFIX = "cohortbench-warm-"


def _started(pid: int) -> int | None:
    """The start time of process `pid` (field 22 of /proc/PID/stat), or None if there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(text[text.rindex(")") + 2 :].split()[19])


def remove_stale_pools(folder: Path) -> list[Path]:
    """Remove the pool folders in `folder` whose owning process is gone (no process with that pid
    and start time: a reused pid does not count); a live owner's and any folder whose name does
    not say its owner are kept. Returns those removed."""
    removed = []
    for path in folder.glob(f"{POOL_PREFIX}*"):
        owner = path.name[len(POOL_PREFIX) :].split("-")
        if len(owner) < 3 or not (owner[0].isdigit() and owner[1].isdigit()):
            continue
        if path.is_dir() and not path.is_symlink() and _started(int(owner[0])) != int(owner[1]):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


@dataclass(frozen=True)
class WarmKey:
    """What a warm sandbox was started for: a request fits it only with all three the same."""

    limits: Limits
    device: str
    framework: str

    @classmethod
    def of(cls, request: RunRequest) -> WarmKey | None:
        """The key of a request, or None when its bundle's manifest cannot be read (it starts cold,
        and the sandbox reports the problem as it always did)."""
        try:
            framework = read_manifest(request.bundle_dir).framework
        except (CohortbenchError, OSError):
            return None
        if framework not in FRAMEWORK_PRELOAD:
            return None
        return cls(request.limits, request.device, framework)

    def preload(self) -> tuple[str, ...]:
        return (*BASE_PRELOAD, *FRAMEWORK_PRELOAD[self.framework])


@dataclass(frozen=True)
class WarmSandbox:
    """A started, not yet used sandbox: its folders (bound at /job) and its process."""

    key: WarmKey
    workdir: Path
    roots: Mounts
    running: Running

    def discard(self) -> None:
        """Kill the process (and its whole tree) and remove its folders."""
        self.running.process.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


class WarmPool:
    """At most `size` warm sandboxes for one worker (thread-safe); close() ends them all.

    `root`: where their folders go (a new temporary folder if None). `unsafe_no_sandbox` starts
    bare warm interpreters, like SandboxSession's development mode.
    """

    def __init__(self, size: int = 1, *, root: Path | None = None, unsafe_no_sandbox: bool = False) -> None:
        if size < 1:
            raise ValueError("a warm pool holds at least one sandbox")
        self.size, self.unsafe = size, unsafe_no_sandbox
        self._own_root = root is None
        if root is None:
            remove_stale_pools(Path(tempfile.gettempdir()))
            root = Path(tempfile.mkdtemp(prefix=f"{POOL_PREFIX}{os.getpid()}-{_started(os.getpid())}-"))
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._warm: list[WarmSandbox] = []
        self._lock = threading.Lock()
        self._closed = False
        self._wanted: queue.Queue[WarmKey | None] = queue.Queue()
        self._refiller: threading.Thread | None = None
        self.started = 0  # warm sandboxes started so far
        self.taken = 0  # and handed to a session

    def take(self, request: RunRequest) -> WarmSandbox | None:
        """A live warm sandbox for this request (it is the caller's now), or None; either way a
        fresh one of this kind is started for the next submission."""
        key = WarmKey.of(request)
        if key is None:
            return None
        with self._lock:
            if self._closed:
                return None
            found = next((w for w in self._warm if w.key == key), None)
            if found is not None:
                self._warm.remove(found)
            # starting a process forks this one (0.2 s on a loaded machine): not on the job's clock
            self._refill_later(key)
        if found is not None and not found.running.process.alive:
            log.warning("warm sandbox %s died before its job; starting cold", found.workdir)
            found.discard()
            return None
        if found is not None:
            self.taken += 1
        return found

    def warm(self, request: RunRequest) -> None:
        """Make sure one sandbox of this request's kind is warm (a worker may do it before a job)."""
        key = WarmKey.of(request)
        with self._lock:
            if key is not None and not self._closed and all(w.key != key for w in self._warm):
                self._warm_up(key)

    def _refill_later(self, key: WarmKey) -> None:
        """Have the pool's refill thread warm one for `key` (the lock held). One thread that lives
        as long as the pool: bwrap's --die-with-parent fires when the thread that started it ends."""
        if self._refiller is None:
            self._refiller = threading.Thread(target=self._refill, name="warm-refill", daemon=True)
            self._refiller.start()
        self._wanted.put(key)

    def _refill(self) -> None:
        while (key := self._wanted.get()) is not None:
            with self._lock:
                if not self._closed:
                    self._warm_up(key)
            self._wanted.task_done()
        self._wanted.task_done()

    def settled(self) -> None:
        """Wait until every refill asked for so far has started its sandbox (benchmarks, tests)."""
        self._wanted.join()

    def warm_count(self) -> int:
        with self._lock:
            return len(self._warm)

    def _warm_up(self, key: WarmKey) -> None:
        """Start one for `key` (the lock held); the oldest of other kinds go beyond `size`."""
        workdir = Path(tempfile.mkdtemp(prefix="box-", dir=self.root))
        roots = Mounts(workdir / "input", workdir / "bundle", workdir / "output")
        for path in (roots.input_dir, roots.bundle_dir, roots.output_dir):
            path.mkdir(mode=0o755)
            path.chmod(0o755)
        phase = key.limits.cpu_seconds
        rlimits = replace(key.limits, cpu_seconds=2 * phase + BACKSTOP_SLACK_SECONDS + WARM_UP_CPU_SECONDS)
        try:
            running = start_process(
                roots,
                workdir,
                rlimits,
                device=key.device,
                unsafe=self.unsafe,
                preload=key.preload(),
                idle=WARM_UP_IDLE,
            )
        except (OSError, bwrap.SandboxUnavailableError):
            log.warning("could not start a warm sandbox; jobs start cold", exc_info=True)
            shutil.rmtree(workdir, ignore_errors=True)
            return
        self.started += 1
        self._warm.append(WarmSandbox(key, workdir, roots, running))
        while len(self._warm) > self.size:
            self._warm.pop(0).discard()

    def close(self) -> None:
        """End every warm sandbox and remove the pool's folders; later takes get None."""
        with self._lock:
            self._closed = True
            warm, self._warm = self._warm, []
            refiller = self._refiller
        if refiller is not None:  # it adds no sandbox once closed; joined so none outlives the pool
            self._wanted.put(None)
            refiller.join()
        for sandbox in warm:
            sandbox.discard()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> WarmPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
