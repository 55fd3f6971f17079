"""The seccomp filter bwrap installs before contributor code starts.

Default allow (a Python/numpy/torch runtime uses hundreds of syscalls), with EPERM for the syscalls
that only serve to escape or spy: debugging other processes, namespaces and mounts, kernel keyrings,
kernel modules, BPF and perf, faking terminal input (TIOCSTI). clone3 answers ENOSYS so the C
library falls back to clone, whose flags a filter can inspect (namespace flags are refused).
"""

from __future__ import annotations

import errno
import os
import tempfile
from typing import Any

DENIED_SYSCALLS = (
    "ptrace",
    "mount",
    "umount2",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "perf_event_open",
    "bpf",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "pivot_root",
    "chroot",
    "swapon",
    "swapoff",
    "reboot",
    "userfaultfd",
    "process_vm_readv",
    "process_vm_writev",
    "personality",
    "open_by_handle_at",
    "name_to_handle_at",
    "fsopen",
    "fsmount",
    "move_mount",
    "open_tree",
    "lookup_dcookie",
    "acct",
    "quotactl",
)
TIOCSTI = 0x5412
#: CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME
CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000
CLONE_NAMESPACE_FLAGS |= 0x40000000 | 0x00000080


def build_filter() -> Any:
    """The pyseccomp filter: allow by default, EPERM for DENIED_SYSCALLS and namespace-creating clones.

    pyseccomp is imported here, not at module level: the package is also imported inside the
    sandbox, where libseccomp's loader lookup (ldconfig) is neither available nor needed.
    """
    import pyseccomp as seccomp

    flt = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    eperm = seccomp.ERRNO(errno.EPERM)
    for name in DENIED_SYSCALLS:
        try:
            flt.add_rule(eperm, name)
        except (ValueError, RuntimeError, OSError):
            continue  # a syscall this architecture does not have
    flt.add_rule(eperm, "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, TIOCSTI))
    for flag in _bits(CLONE_NAMESPACE_FLAGS):
        flt.add_rule(eperm, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    flt.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    return flt


def _bits(mask: int) -> list[int]:
    return [1 << i for i in range(mask.bit_length()) if mask & (1 << i)]


def filter_fd() -> int:
    """An open, rewound file descriptor holding the compiled BPF program, as `bwrap --seccomp FD` wants."""
    with tempfile.TemporaryFile() as tmp:
        build_filter().export_bpf(tmp)
        tmp.flush()
        fd = os.dup(tmp.fileno())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
