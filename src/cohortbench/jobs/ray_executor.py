"""RayExecutor: each phase of a submission runs as a Ray task on some node of a Ray cluster.

For deployments that outgrow one machine (`cohortbench worker --executor ray --address HOST:PORT`).
The worker keeps the queue, the scoring and the store; a node needs cohortbench installed (the same
version) and bubblewrap, nothing shared with the worker: the bundle (a tar, put once per
submission), the phase's request (features, plan, permutations, and the train features and labels
for the finetune) travel as Ray objects, and the outcome (predictions, permuted predictions,
losses, the host's measurements, the owner log) and the fine-tuned weights (a tar) come back as
the task's return value. The sandbox is applied on the node, by the same launcher as locally;
holdout labels never travel (a RunRequest has no field for them: the worker scores).

A task asks for the workspace's resources (CPUs, memory, GPUs), so Ray places it on a node that
has them free. A node that dies mid-phase (or its Ray worker process) makes Ray run the task again
on another node (`max_retries`); only the retry's outcome comes back, so the phase is stored and
charged once. When the retries run out, the job fails with RetryableError and the queue retries it
later (a phase already stored is skipped). A cancel kills the task's Ray worker (force), whose
sandbox dies with it (bwrap's --die-with-parent).

Each phase is a one-phase session on its node (two interpreters per submission, not one); with
`warm` > 0 each Ray worker process keeps a pool of that many warm sandboxes (sandbox.warm), so the
second interpreter costs no imports either.
"""

from __future__ import annotations

import io
import logging
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from cohortbench.jobs.worker import RetryableError
from cohortbench.sandbox import RunOutcome, RunRequest, SandboxSession, WarmPool
from cohortbench.sandbox.runs import CANCELLED
from cohortbench.sandbox.scratch import Scratch
from cohortbench.workspaces import Resources

__all__ = ["NodeResult", "RayExecutor", "RaySession", "run_phase_on_node"]

log = logging.getLogger(__name__)
#: how often a waiting phase looks at its cancel check
POLL_SECONDS = 0.25
#: how often Ray runs a phase again when its node or worker process dies
MAX_RETRIES = 3
_NODE_POOLS: dict[tuple[int, bool], WarmPool] = {}


@dataclass(frozen=True)
class NodeResult:
    """What a phase's task returns: the outcome (weights_dir None), its weights as a tar, the node."""

    outcome: RunOutcome
    weights: bytes | None
    node_id: str


def pack(folder: Path) -> bytes:
    """A folder as an uncompressed tar (plain files and folders, relative names)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(folder, arcname=".")
    return buffer.getvalue()


def unpack(data: bytes, dest: Path) -> Path:
    """Extract a tar made by `pack` into `dest` (tarfile's "data" filter: no links out, no devices)."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        tar.extractall(dest, filter="data")
    return dest


def _node_pool(warm: int, unsafe: bool) -> WarmPool | None:
    """This Ray worker process's own warm pool (kept between its tasks), if asked for."""
    if warm <= 0:
        return None
    key = (warm, unsafe)
    if key not in _NODE_POOLS:
        _NODE_POOLS[key] = WarmPool(warm, root=_node_scratch().mkdtemp("warm-"), unsafe_no_sandbox=unsafe)
    return _NODE_POOLS[key]


_NODE_SCRATCH: list[Scratch] = []


def _node_scratch() -> Scratch:
    """This Ray worker process's job folders on its node (the node has no data directory: its temp
    folder); a Ray worker killed with its node's process leaves them to the next one's sweep."""
    if not _NODE_SCRATCH:
        _NODE_SCRATCH.append(Scratch(Path(tempfile.gettempdir()) / "cohortbench-scratch"))
    return _NODE_SCRATCH[0]


def run_phase_on_node(
    bundle: bytes, request: RunRequest, *, last: bool, unsafe: bool, warm: int, gpu: bool
) -> NodeResult:
    """The task body, on the node: unpack the bundle, run the phase sandboxed, pack what comes back.

    The device is the node's: the GPU when the workspace grants one (the task asked Ray for it) and
    this node has one, else the CPU, as phase_request.device_for decides for a local run.
    """
    import ray

    node_id = ray.get_runtime_context().get_node_id()
    with _node_scratch().folder("ray-") as name:
        tmp = Path(name)
        bundle_dir = unpack(bundle, tmp / "bundle")
        device: Literal["cpu", "cuda"] = "cuda" if gpu and Path("/dev/nvidia0").exists() else "cpu"
        local = replace(request, bundle_dir=bundle_dir, device=device)
        pool = _node_pool(warm, unsafe)
        with SandboxSession(bundle_dir, tmp / "work", unsafe_no_sandbox=unsafe, pool=pool) as box:
            outcome = box.run(local, last=last)
            weights = pack(outcome.weights_dir) if outcome.weights_dir is not None else None
    return NodeResult(replace(outcome, weights_dir=None), weights, node_id)


class RaySession:
    """The phases of one bundle, each a Ray task (a PhaseRunner; see the module docstring)."""

    def __init__(
        self,
        executor: RayExecutor,
        bundle_dir: Path,
        workdir: Path,
        *,
        unsafe_no_sandbox: bool,
        cancelled: Callable[[], bool] | None,
        resources: Resources | None,
    ) -> None:
        self.executor, self.bundle_dir, self.workdir = executor, bundle_dir, workdir
        self.unsafe, self.cancelled = unsafe_no_sandbox, cancelled
        self.resources = resources or Resources()
        self.nodes: list[str] = []  # the node that ran each phase, in order
        self._bundle: Any = None

    def __enter__(self) -> RaySession:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bundle = None  # its object is freed once nothing refers to it

    def run(self, request: RunRequest, *, last: bool = False) -> RunOutcome:
        """Run one phase on a node; RetryableError when Ray could not (node gone after every retry)."""
        import ray
        from ray.exceptions import RayError, RayTaskError, TaskCancelledError

        if request.bundle_dir != self.bundle_dir:
            raise ValueError("a session runs the phases of its own bundle only")
        if self.cancelled is not None and self.cancelled():
            return RunOutcome(status=CANCELLED)
        if self._bundle is None:
            self._bundle = ray.put(pack(self.bundle_dir))
        ref = self.executor.remote_phase(self.resources).remote(
            self._bundle,
            ray.put(request),
            last=last,
            unsafe=self.unsafe,
            warm=self.executor.warm,
            gpu=self.resources.gpu > 0,
        )
        while not ray.wait([ref], timeout=POLL_SECONDS)[0]:
            if self.cancelled is not None and self.cancelled():
                ray.cancel(ref, force=True)
                return RunOutcome(status=CANCELLED)
        try:
            result: NodeResult = ray.get(ref)
        except RayTaskError:
            raise  # a bug of the platform's own code on the node: the job fails, the owner sees why
        except (RayError, TaskCancelledError) as exc:
            raise RetryableError(f"the Ray cluster could not run the {request.phase} phase: {exc}") from exc
        self.nodes.append(result.node_id)
        outcome = result.outcome
        if result.weights is not None:
            dest = self.workdir / "weights" / request.phase
            outcome = replace(outcome, weights_dir=unpack(result.weights, dest))
        return outcome


class RayExecutor:
    """Sends phases to the Ray cluster at `address` (None: a local one Ray starts for this process)."""

    def __init__(self, address: str | None = None, *, warm: int = 0, max_retries: int = MAX_RETRIES) -> None:
        import ray

        self.warm, self.max_retries = warm, max_retries
        self._owns = not ray.is_initialized()
        if self._owns:
            started = time.monotonic()
            ray.init(address=address, namespace="cohortbench", log_to_driver=False)
            log.info(
                "connected to Ray at %s in %.1f s", address or "a local cluster", time.monotonic() - started
            )
        self._task: Any = ray.remote(run_phase_on_node)  # type: ignore[arg-type]  # ray's stubs know no kwargs

    def remote_phase(self, resources: Resources) -> Any:
        """The task, with the workspace's resources as its request."""
        return self._task.options(
            num_cpus=resources.cpu,
            num_gpus=resources.gpu,
            memory=int(resources.memory_gb * 1024**3),
            max_retries=self.max_retries,
            retry_exceptions=False,
        )

    def session(
        self,
        bundle_dir: Path,
        workdir: Path,
        *,
        unsafe_no_sandbox: bool = False,
        cancelled: Callable[[], bool] | None = None,
        resources: Resources | None = None,
    ) -> RaySession:
        return RaySession(
            self,
            bundle_dir,
            workdir,
            unsafe_no_sandbox=unsafe_no_sandbox,
            cancelled=cancelled,
            resources=resources,
        )

    def close(self) -> None:
        import ray

        if self._owns and ray.is_initialized():
            ray.shutdown()
