"""How an rsx process stops when asked: SIGINT, SIGTERM, or its launcher's death end it like Ctrl-C.

Every stop must end the job's MLflow run KILLED (resumable, `rsx.resume`), never leave it
RUNNING or let the process train on. That cannot rest on the signal dispositions a process
inherits: a shell starts a background command (`python -m rsx ... &`, `nohup`, cron, many job
wrappers) with SIGINT ignored, and Python then installs no SIGINT handler, so neither a
forwarded SIGINT nor `_thread.interrupt_main()` would do anything. rsx's processes therefore
set their own handlers (`install`), and a worker also watches its launcher
(`stop_when_launcher_dies`): the kernel's parent-death signal on Linux, polling elsewhere.

A stop raises `Stopped` (a KeyboardInterrupt, so every `except KeyboardInterrupt` cleanup
runs) once, in the main thread; signals that follow while the process is cleaning up are
noted and otherwise ignored, so a second Ctrl-C cannot cut the run's KILLED record short.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from typing import Callable, Optional

#: The signals that stop an rsx process.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Environment variable naming the launcher's pid to a worker it starts.
LAUNCHER_PID_ENV = "RSX_LAUNCHER_PID"
#: Seconds a worker gets to record its stop after its launcher died, before it kills itself.
ORPHAN_GRACE_SECONDS = 60

#: Linux prctl(2) option: the signal this process gets when its parent thread exits.
_PR_SET_PDEATHSIG = 1

_received: list[int] = []
_hooks: list[Callable[[int], None]] = []


class Stopped(KeyboardInterrupt):
    """A stop signal arrived.

    Args:
        signum: the signal (SIGINT, SIGTERM); `exit_code` is 128 + signum, as a shell reports it.
    """

    def __init__(self, signum: int):
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code(interrupt: BaseException) -> int:
    """The exit code for a stop: 128 + the signal (130 for a plain KeyboardInterrupt)."""
    return interrupt.exit_code if isinstance(interrupt, Stopped) else 128 + signal.SIGINT


def install(on_stop: Optional[Callable[[int], None]] = None) -> bool:
    """Makes SIGINT and SIGTERM raise `Stopped` in this process, whatever it inherited.

    Idempotent. Only the main thread may set handlers: elsewhere (a launcher running jobs in
    threads) nothing is installed and False is returned.

    Args:
        on_stop: called with the signal number, before `Stopped` is raised, on the first stop
            (e.g. a sweep's orchestrator stops its workers there, see `rsx.sweep`).
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    for signum in STOP_SIGNALS:
        signal.signal(signum, _handle)
    if on_stop is not None and on_stop not in _hooks:
        _hooks.append(on_stop)
    return True


def requested() -> Optional[int]:
    """The signal of the first stop this process received, or None."""
    return _received[0] if _received else None


def _handle(signum: int, frame) -> None:
    first = not _received
    _received.append(signum)
    if not first:
        return  # Already stopping: let the cleanup record the run KILLED.
    for hook in list(_hooks):
        try:
            hook(signum)
        except Exception as error:  # A failing hook must not swallow the stop itself.
            print(f"rsx: while stopping: {type(error).__name__}: {error}", file=sys.stderr)
    raise Stopped(signum)


def stop_when_launcher_dies(poll_seconds: float = 0.5) -> None:
    """Stops this process (SIGTERM to itself, see `install`) when its launcher dies.

    A launcher killed outright (SIGKILL, the OOM killer) cannot stop its worker; without this
    the worker would train on with nobody to read its output or result. On Linux the kernel
    sends the parent-death signal at once; a thread polling the parent pid is the portable
    fallback, and it kills the process if it has not ended `ORPHAN_GRACE_SECONDS` later.
    The launcher's pid comes from `LAUNCHER_PID_ENV` (the parent may already be gone when
    this runs); without it (a job re-run by hand), the current parent is watched.
    """
    launcher = int(os.environ.get(LAUNCHER_PID_ENV) or os.getppid())
    _ask_kernel_for_parent_death_signal(signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == launcher:
            time.sleep(poll_seconds)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(ORPHAN_GRACE_SECONDS)
        os.kill(os.getpid(), signal.SIGKILL)  # Stuck: `rsx.resume` still resumes the run.

    threading.Thread(target=watch, name="rsx-launcher-watch", daemon=True).start()


def _ask_kernel_for_parent_death_signal(signum: int) -> bool:
    """prctl(PR_SET_PDEATHSIG): the kernel signals us when the thread that started us exits.

    rsx's launching side waits for its worker in the thread that started it, so that thread
    ends only with the launcher. Returns False where unavailable (not Linux).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
