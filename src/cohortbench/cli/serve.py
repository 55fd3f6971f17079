"""`cohortbench serve` and `cohortbench worker`."""

from __future__ import annotations

from typing import Annotated

import typer

from cohortbench.cli.common import DEFAULT_DATA_DIR, DataDir, open_platform


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    worker: Annotated[bool, typer.Option(help="Run a job worker in this process")] = True,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /docs) and the web pages."""
    import uvicorn

    from cohortbench.api import create_app

    platform = open_platform(data_dir, embedded_worker=worker)
    uvicorn.run(create_app(platform), host=host, port=port, log_level="info")


def worker(
    max_jobs: Annotated[int, typer.Option(help="Stop after this many jobs (0 = run forever)")] = 0,
    lease_seconds: Annotated[
        int, typer.Option(help="Job lease; a dead worker's job is retaken after it")
    ] = 60,
    warm: Annotated[
        int,
        typer.Option(
            help="Warm sandboxes kept ready (runtime imported; one per submission; 0 = none); "
            "with --executor ray, per Ray worker process on the nodes"
        ),
    ] = 1,
    executor_kind: Annotated[
        str,
        typer.Option(
            "--executor",
            help="Where phases run: local (sandboxes on this machine) or ray (tasks on a Ray cluster)",
        ),
    ] = "local",
    address: Annotated[
        str | None, typer.Option(help="With --executor ray: the cluster's address (HOST:PORT, or auto)")
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Run a job worker (run several for more throughput; jobs are leased, so a killed worker loses nothing)."""
    from cohortbench.jobs.executors import Executor, LocalExecutor
    from cohortbench.service.worker import make_worker

    if warm < 0:
        raise typer.BadParameter("--warm must be 0 or more")
    if executor_kind not in ("local", "ray"):
        raise typer.BadParameter(f"--executor must be local or ray, not {executor_kind!r}")
    if address is not None and executor_kind != "ray":
        raise typer.BadParameter("--address is the Ray cluster's: use it with --executor ray")
    _stop_on_signals()
    platform = open_platform(data_dir, embedded_worker=False)
    executor: Executor
    if executor_kind == "ray":
        from cohortbench.jobs.ray_executor import RayExecutor

        executor = RayExecutor(address, warm=warm)
    else:
        # the pool's folders go under the worker's scratch: staged inputs stay beside the cohort,
        # and a killed worker's are removed by the next one (sandbox.scratch)
        root = platform.scratch.mkdtemp("warm-") if warm > 0 else None
        executor = LocalExecutor(warm, unsafe_no_sandbox=platform.settings.unsafe_no_sandbox, root=root)
    try:
        make_worker(platform, lease_seconds=lease_seconds, executor=executor).run(max_jobs=max_jobs or None)
    finally:
        executor.close()
        platform.close()  # removes this worker's job folders (a killed one's go at the next start)


def _stop_on_signals() -> None:
    """SIGTERM (a service manager) and SIGINT (even where the shell started the worker with it
    ignored) end the worker through its `finally`, which ends its warm sandboxes."""
    import signal
    import sys

    def stop(signum: int, _frame: object) -> None:
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
