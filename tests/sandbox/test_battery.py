"""The hostile-bundle battery: each attack gets its structured error, leaks nothing, breaks nothing."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from cohortbench.sandbox import RunOutcome
from tests.sandbox.conftest import SECRET_VALUES, Runner, assert_nothing_leaks

pytestmark = pytest.mark.sandbox


def _blocked(run_body: Runner, body: str, code: str, exc_types: set[str | None] | None = None) -> RunOutcome:
    """Run the hostile body and check its code and exception type (that an honest run still works
    afterwards is the file's last test: one cold sandbox instead of one after every attack)."""
    outcome = run_body(body)
    assert outcome.status == code, (outcome.status, outcome.owner_log)
    assert outcome.public_error is not None and outcome.public_error.code == code
    if exc_types is not None:
        assert outcome.public_error.exc_type in exc_types, outcome.owner_log.traceback
    assert outcome.predictions is None
    assert_nothing_leaks(outcome)
    return outcome


def test_tcp_to_a_listening_host_port_is_impossible(run_body: Runner) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.2)
        port = server.getsockname()[1]
        body = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)"
        _blocked(run_body, body, "crashed", {"ConnectionRefusedError", "OSError", "TimeoutError"})
        with pytest.raises(TimeoutError):
            server.accept()


def test_dns_lookup_fails(run_body: Runner) -> None:
    _blocked(run_body, "import socket\nsocket.getaddrinfo('example.com', 443)", "crashed", {"OSError"})


def test_holdout_labels_beside_the_data_are_not_there(run_body: Runner, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "holdout_labels.csv").write_text("patient_id,label\n1,severe\n")
    body = f"open({str(data / 'holdout_labels.csv')!r}).read()"
    _blocked(run_body, body, "crashed", {"FileNotFoundError"})


def test_the_database_file_is_not_there(run_body: Runner, tmp_path: Path) -> None:
    db = tmp_path / "cohortbench.sqlite"
    db.write_bytes(b"SQLite format 3\x00")
    _blocked(run_body, f"open({str(db)!r}, 'rb').read()", "crashed", {"FileNotFoundError"})


def test_another_workspaces_files_are_not_there(run_body: Runner, tmp_path: Path) -> None:
    other = tmp_path / "workspaces" / "other" / "train.parquet"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"PAR1")
    body = f"open({str(other)!r}, 'rb').read()\nos.listdir('/work/main')"
    _blocked(run_body, body, "crashed", {"FileNotFoundError"})


def test_etc_shadow_is_not_there(run_body: Runner) -> None:
    _blocked(run_body, "open('/etc/shadow').read()", "crashed", {"FileNotFoundError"})


def test_environment_secrets_do_not_enter(run_body: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COHORTBENCH_SECRET_TOKEN", "tok-do-not-leak")
    body = """
    seen = [k for k in os.environ if 'SECRET' in k or 'TOKEN' in k]
    if not seen:
        raise LookupError('no secret found')
    """
    _blocked(run_body, body, "crashed", {"LookupError"})


def test_writing_outside_tmp_and_output_fails(run_body: Runner, tmp_path: Path) -> None:
    body = """
    wrote = []
    for path in ('/job/input/x', '/job/bundle/x', '/usr/x', '/x', '/etc/x', '/work/main/src/cohortbench/x'):
        try:
            open(path, 'w').write('x')
            wrote.append(path)
        except OSError:
            pass
    open('/tmp/ok', 'w').write('fine')
    if not wrote:
        raise PermissionError('read-only')
    """
    _blocked(run_body, body, "crashed", {"PermissionError"})
    assert not Path("/work/main/src/cohortbench/x").exists()


def test_fork_bomb_is_contained(run_body: Runner) -> None:
    body = """
    count = 0
    while True:
        try:
            pid = os.fork()
        except OSError:
            if os.getpid() != 1:
                os._exit(0)
            raise
        if pid == 0:
            continue
        count += 1
    """
    _blocked(run_body, body, "crashed", {"BlockingIOError"})


def test_memory_bomb_is_out_of_memory(run_body: Runner) -> None:
    body = """
    hog = []
    while True:
        hog.append(np.empty(50_000_000))
    """
    _blocked(run_body, body, "out_of_memory", {"MemoryError"})


def test_busy_loop_times_out(run_body: Runner) -> None:
    from dataclasses import replace

    from tests.sandbox.conftest import TEST_LIMITS

    outcome = run_body("while True:\n    pass", limits=replace(TEST_LIMITS, wall_seconds=2.0))
    assert outcome.status == "timeout"
    assert outcome.public_error is not None and outcome.public_error.code == "timeout"
    assert 2.0 <= outcome.resources.wall_seconds < 6.0


def test_filling_tmp_hits_its_cap(run_body: Runner) -> None:
    body = """
    with open('/tmp/fill', 'wb') as f:
        for _ in range(1000):
            f.write(b'0' * 1_000_000)
            f.flush()
    """
    _blocked(run_body, body, "crashed", {"OSError"})


def test_flooding_stdout_is_stopped(run_body: Runner) -> None:
    body = """
    while True:
        print('x' * 10_000, flush=True)
    """
    outcome = run_body(body)
    assert outcome.status == "output_too_large"
    assert len(outcome.owner_log.stdout) <= 64 * 1024


@pytest.mark.parametrize(
    ("expr", "detail"),
    [
        ("np.full((n + 1, 2), 0.5)", "wrong_shape"),
        ("np.full((n, 3), np.nan)", "not_finite"),
        ("np.tile([-0.5, 1.0, 0.5], (n, 1))", "not_probabilities"),
        ("np.full((n, 3), 0.5)", "rows_do_not_sum_to_1"),
    ],
)
def test_bad_predictions(run_body: Runner, expr: str, detail: str) -> None:
    """The code and a fixed word saying what was wrong; the actual shape (the model's choice) stays out."""
    outcome = _blocked(run_body, f"return {expr}", "bad_predictions", {None})  # no own class name
    assert outcome.public_error is not None and outcome.public_error.detail == detail


def test_a_huge_predictions_file_is_refused(run_body: Runner) -> None:
    body = """
    import atexit
    atexit.register(lambda: np.save('/job/output/baseline/predictions.npy', np.full((512, 512), 1.0)))
    """
    _blocked(run_body, body, "output_too_large")


def test_a_module_the_runtime_lacks_is_import_error(run_body: Runner) -> None:
    body = "import importlib\nimportlib.import_module('definitely_not_in_the_runtime')"
    outcome = run_body(body)
    assert outcome.status == "import_error"
    assert outcome.public_error is not None and outcome.public_error.exc_type == "ModuleNotFoundError"
    assert [f.function for f in outcome.public_error.frames] == ["predict_proba"]
    assert outcome.public_error.frames[0].file == "model.py"


@pytest.mark.parametrize(
    ("call", "args"),
    [("ptrace", "0, 0, 0, 0"), ("unshare", "0x10000000")],
)
def test_seccomp_blocks_dangerous_syscalls(run_body: Runner, call: str, args: str) -> None:
    body = f"""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.{call}({args}) == 0:
        return np.full((n, 3), 1 / 3)
    raise PermissionError(ctypes.get_errno())
    """
    _blocked(run_body, body, "crashed", {"PermissionError"})


def test_contributor_code_runs_unprivileged(run_body: Runner) -> None:
    body = """
    status = open('/proc/self/status').read()
    caps = [line.split()[1] for line in status.splitlines() if line.startswith(('CapEff', 'CapPrm', 'CapBnd'))]
    nnp = [line.split()[1] for line in status.splitlines() if line.startswith('NoNewPrivs')]
    if os.getuid() == 0 or set(caps) != {'0000000000000000'} or nnp != ['1'] or os.path.exists('/job/output/../input/x'):
        return np.full((n, 3), 1 / 3)
    raise PermissionError('unprivileged')
    """
    _blocked(run_body, body, "crashed", {"PermissionError"})


def test_messages_and_dynamic_names_never_reach_the_contributor(run_body: Runner) -> None:
    body = """
    value = float(X.iloc[0, 0])
    Leak = type(f'Leak_{int(value)}', (ValueError,), {})
    raise Leak(f'patient value {value}')
    """
    outcome = run_body(body)
    assert outcome.status == "crashed"
    assert outcome.public_error is not None and outcome.public_error.exc_type == "ValueError"
    assert_nothing_leaks(outcome)
    assert str(SECRET_VALUES[0]) in outcome.owner_log.message


def test_bad_losses_are_refused(run_body: Runner) -> None:
    outcome = run_body(
        "",
        phase="finetune",
        limits=__import__("dataclasses").replace(
            __import__("tests.sandbox.conftest", fromlist=["TEST_LIMITS"]).TEST_LIMITS, max_loss_points=2
        ),
    )
    assert outcome.status == "bad_predictions"
    assert outcome.weights_dir is None


def test_output_symlink_is_not_followed(run_body: Runner) -> None:
    body = """
    import atexit
    def swap():
        os.remove('/job/output/baseline/predictions.npy')
        os.symlink('/etc/passwd', '/job/output/baseline/predictions.npy')
    atexit.register(swap)
    """
    _blocked(run_body, body, "bad_predictions")


def test_honest_run_is_unaffected_by_a_prior_crash_of_written_weights(run_body: Runner) -> None:
    outcome = run_body("", phase="finetune")
    assert outcome.ok
    assert outcome.losses == (0.9, 0.5, 0.25)
    assert outcome.weights_dir is not None and (outcome.weights_dir / "weights.npy").read_bytes() == b"ok"
    assert np.allclose(outcome.predictions, 1 / 3)


def test_an_honest_bundle_still_runs_after_the_whole_battery(run_body: Runner) -> None:
    """Last in the file: pytest keeps a file's order and `--dist loadfile` gives the whole file to one
    worker, so every attack above has run on this host before this honest baseline."""
    honest = run_body("")
    assert honest.ok, honest.owner_log
    assert np.allclose(honest.predictions, 1 / 3)
