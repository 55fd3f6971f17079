"""The bubblewrap command line: which paths a sandboxed run sees, and nothing else.

Read-only: the Python runtime (base install and venv, resolved from sys at run time), the cohortbench
package, /usr (and the /lib, /lib64, /bin links or folders), a few /etc files the dynamic loader
needs, the job's input folder (each phase's inputs appear in it when the phase starts) and the
staged bundle. Writable: the output folder (each phase its own, below it) and a size-capped private
/tmp. New pid, net, ipc, uts and cgroup namespaces; no network interface but a down loopback.

bwrap runs as root without a user namespace (a user namespace made by root maps the sandbox to uid 0,
for which the kernel ignores RLIMIT_NPROC); it keeps only CAP_SETUID/SETGID/SETPCAP for `setpriv`,
which switches to the run's own unprivileged uid, clears every capability and sets no_new_privs
before the interpreter starts. So contributor code is an ordinary user with no capabilities, whose
process count the kernel limits, behind a seccomp filter that refuses new namespaces and mounts.

GPU (device="cuda"): the /dev/nvidia* nodes are bound and /proc/driver/nvidia is visible; the driver
libraries live under /usr (bound already), CUDA wheels in the venv. Untested on this CPU-only host.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cohortbench
from cohortbench.errors import CohortbenchError

JOB_ROOT = "/job"
SANDBOX_TMP = "/tmp"  # noqa: S108 - the private tmpfs inside the sandbox, not the host's /tmp
INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`)"
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "localtime")
SHM_BYTES = 64 * 1024 * 1024
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")


class SandboxUnavailableError(CohortbenchError):
    """bubblewrap is missing or cannot create namespaces: runs are refused (fail closed)."""

    code = "sandbox_unavailable"


@dataclass(frozen=True)
class Mounts:
    """Host folders bound at /job/{input,bundle,output} inside (or, for one phase, its own folders)."""

    input_dir: Path
    bundle_dir: Path
    output_dir: Path


def find_bwrap() -> str:
    """Path of the bwrap binary, or SandboxUnavailableError with the install hint."""
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailableError(f"bubblewrap (bwrap) was not found on PATH: {INSTALL_HINT}")
    return path


@functools.cache
def check_sandbox() -> None:
    """Probe once per process that bwrap can create the namespaces; SandboxUnavailableError if not."""
    probe = [find_bwrap(), *isolation_args(), *system_args(), "--", "/usr/bin/true"]
    result = subprocess.run(probe, capture_output=True, text=True, timeout=30, check=False)
    if result.returncode != 0:
        raise SandboxUnavailableError(
            f"bubblewrap cannot create the sandbox namespaces ({result.stderr.strip()[:200]}); "
            f"runs are refused. Check that namespaces are allowed, or {INSTALL_HINT}"
        )


def runtime_dirs() -> list[Path]:
    """The interpreter install, the venv and the cohortbench package: resolved, deduplicated, sorted."""
    pkg = Path(cohortbench.__file__).resolve().parent
    dirs = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), pkg}
    usr = Path("/usr")
    return sorted(d for d in dirs if usr not in d.parents and d != usr)


def _ro_path(path: Path) -> list[str]:
    """Mirror a host path read-only: a symlink stays a symlink, a folder or file is bound."""
    if path.is_symlink():
        return ["--symlink", str(path.readlink()), str(path)]
    return ["--ro-bind", str(path), str(path)]


def _parents(path: Path) -> list[str]:
    """World-traversable parent folders (bwrap creates missing ones 0700, which the run uid can't enter)."""
    args: list[str] = []
    for parent in reversed(path.parents):
        if str(parent) != "/":
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def system_args() -> list[str]:
    """/usr and the /lib, /bin ... links or folders, read-only, plus the loader's /etc files."""
    args: list[str] = []
    for name in SYSTEM_DIRS:
        if Path(name).exists():
            args += _ro_path(Path(name))
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES:
        if (Path("/etc") / name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    return args


def filesystem_args(mounts: Mounts, *, tmp_bytes: int, gpu: bool) -> list[str]:
    """bwrap arguments for the file system view of one run.

    The private /tmp (and /dev/shm) come first and the runtime is bound after them: a checkout or
    venv that lives under the host's /tmp (a CI clone, say) is mounted on top of the private
    tmpfs instead of being hidden by it.
    """
    args = system_args()
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(tmp_bytes), "--perms", "1777", "--tmpfs", SANDBOX_TMP]
    # a small /dev/shm for POSIX semaphores (joblib, torch DataLoader); counted apart from /tmp
    args += ["--size", str(min(tmp_bytes, SHM_BYTES)), "--perms", "1777", "--tmpfs", "/dev/shm"]  # noqa: S108
    for path in runtime_dirs():
        args += [*_parents(path), "--ro-bind", str(path), str(path)]
    args += ["--perms", "0755", "--dir", JOB_ROOT]
    args += ["--ro-bind", str(mounts.input_dir), f"{JOB_ROOT}/input"]
    args += ["--ro-bind", str(mounts.bundle_dir), f"{JOB_ROOT}/bundle"]
    args += ["--bind", str(mounts.output_dir), f"{JOB_ROOT}/output"]
    if gpu:
        args += [
            a for dev in sorted(Path("/dev").glob("nvidia*")) for a in ("--dev-bind", str(dev), str(dev))
        ]
    return args


def isolation_args() -> list[str]:
    """Namespaces, session, capabilities: see the module docstring for why no user namespace."""
    caps = ["--cap-drop", "ALL"]
    for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"):
        caps += ["--cap-add", cap]
    namespaces = ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    # --as-pid-1: bwrap's own init would report the exit code through an eventfd without being
    # reaped, and the launcher's wait4() rusage (CPU time, peak memory) would miss the whole run.
    session = ["--die-with-parent", "--new-session", "--as-pid-1"]
    return [*namespaces, *session, *caps, "--hostname", "sandbox"]


def environment_args(threads: int) -> list[str]:
    """A cleared environment: nothing of the host's (tokens, database URLs) reaches the run.

    PYTHONPATH names the folder of the bound cohortbench package (nothing else is bound in it), so
    the entry imports the very code the host runs, even where the venv's own path points elsewhere
    (an editable install of another checkout).
    """
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": str(Path(cohortbench.__file__).resolve().parent.parent),
        "HOME": SANDBOX_TMP,
        "TMPDIR": SANDBOX_TMP,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLCONFIGDIR": SANDBOX_TMP,
        **{k: str(threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        # idle OpenMP threads sleep instead of spinning: a sandbox shares the host's cores with other
        # jobs, warm sandboxes importing and the host's scoring, and spinning threads on a busy host
        # made a small torch fine-tune 3.5x slower (docs/performance.md)
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    return ["--clearenv", *(a for k, v in env.items() for a in ("--setenv", k, v))]


def drop_privileges_args(uid: int) -> list[str]:
    """`setpriv` prefix: become `uid`, no groups, no capabilities at all, no_new_privs."""
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    return [
        setpriv,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
    ]


def entry_args(job_dir: str, control_fds: tuple[int, int], preload: tuple[str, ...] = ()) -> list[str]:
    """python -m cohortbench.sandbox.entry JOB_DIR COMMAND_FD DONE_FD [PRELOAD,...]."""
    entry = [sys.executable, "-s", "-P", "-B", "-m", "cohortbench.sandbox.entry", job_dir]
    entry += [str(fd) for fd in control_fds]
    return entry + ([",".join(preload)] if preload else [])


def bwrap_command(
    mounts: Mounts,
    *,
    uid: int,
    seccomp_fd: int,
    control_fds: tuple[int, int],
    tmp_bytes: int,
    gpu: bool,
    threads: int,
    preload: tuple[str, ...] = (),
) -> list[str]:
    """The full argv: bwrap [isolation] [files] [env] --seccomp FD -- setpriv ... python -m entry /job.

    `control_fds` are the entry's ends of the control pipes (commands in, "done" out), inherited.
    `preload`: modules the entry imports before it waits for its first command (a warm sandbox).
    """
    entry = entry_args(JOB_ROOT, control_fds, preload)
    return [
        find_bwrap(),
        *isolation_args(),
        *filesystem_args(mounts, tmp_bytes=tmp_bytes, gpu=gpu),
        *environment_args(threads),
        "--chdir",
        SANDBOX_TMP,
        "--seccomp",
        str(seccomp_fd),
        "--",
        *drop_privileges_args(uid),
        *entry,
    ]
