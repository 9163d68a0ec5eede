"""The launcher's side of a job: start `python -m rsx.worker` with the backend's environment, stream
its output, stop it when this process is stopped, and report how it ended.

Keras fixes its backend when it is first imported, so a process can train on one backend only.
rsx therefore trains every job in a fresh process that receives its backend's environment
(KERAS_BACKEND, XLA_FLAGS...) before anything imports Keras, TensorFlow or JAX; the launcher
(a single run, or each job of a sweep under any Hydra launcher) imports none of them. The two
talk through the job's files (`rsx.job_files`); the worker's stdout and stderr are streamed to
the launcher's own streams and copied to `train.log`.

A run reads: `rsx.app` -> `rsx.launch` -> `rsx.worker` -> `rsx.job` -> `rsx.engine.training`.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Mapping, Optional, Sequence

from omegaconf import DictConfig

from rsx import stopping
from rsx.job_files import JOB_ID_ENV, KILLED, JobResult, claim, main_metric_of, record_worker, running_worker, write_job_file
from rsx.paths import PID_FILE, JobFiles, launch_dir

log = logging.getLogger("rsx")

#: How long a worker may take to stop after Ctrl-C or SIGTERM before it is killed.
_STOP_SECONDS = 30


def run_in_fresh_process(
    cfg: DictConfig,
    overrides: Sequence[str],
    output_dir: str,
    context: Mapping[str, Any] | None = None,
    prefix: str = "",
) -> JobResult:
    """Trains `cfg` in `python -m rsx.worker` with its backend's environment; returns its result.

    Raises `RsxError` before starting anything when the backend is unknown or rejects its
    config, or when another live job holds `output_dir` (`rsx.job_files.claim`). A worker that
    fails is reported through the result, not raised. A stop of this process (SIGTERM,
    SIGINT, `rsx.stopping`) stops the worker, records its result, and is raised again.

    Args:
        cfg: the composed job config (may hold `${hydra:...}` interpolations).
        overrides: the job's command-line overrides, recorded with the run.
        output_dir: the job's output directory; the job and result files go there.
        context: copied into the result (the job's place in a sweep).
        prefix: put before every line of the worker's output (e.g. "[job 3] ").
    """
    from rsx.contract import plugin_config
    from rsx.discovery import discover
    from rsx.validation import check_plugins

    check_plugins(cfg)  # The environment below may trust the backend's config.
    environment = dict(discover().backend(cfg.backend.name).environment(plugin_config(cfg.backend)))
    files = JobFiles.of(output_dir)
    with claim(files):
        job_id = write_job_file(cfg, overrides, files, context)
        files.result.unlink(missing_ok=True)  # A result left by an earlier attempt is not this one's.
        env = {
            **os.environ, **environment,
            stopping.LAUNCHER_PID_ENV: str(os.getpid()),
            JOB_ID_ENV: job_id,
        }
        started = time.time()
        stopping.install()  # SIGTERM/SIGINT to this process stop the worker, never orphan it.
        with open(files.log, "ab") as log_file:
            # The worker runs from the launch directory, whatever directory Hydra chose for
            # this job (`hydra.job.chdir`): see `rsx.paths`.
            process = subprocess.Popen(
                [sys.executable, "-m", "rsx.worker", str(files.job)],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=launch_dir(),
            )
            copiers = [
                _Copier(process.stdout, sys.stdout, log_file, prefix),
                _Copier(process.stderr, sys.stderr, log_file, prefix),
            ]
            record_worker(files, process.pid)
            try:
                code = process.wait()
            except BaseException:
                code = _stop(process)
                _outcome(cfg, files, code, started, context)  # The run ends KILLED, recorded.
                raise
            finally:
                files.pid.unlink(missing_ok=True)
                for copier in copiers:
                    copier.join()
        return _outcome(cfg, files, code, started, context)


def stop_workers(directory: str | Path, seconds: float = _STOP_SECONDS) -> int:
    """Stops every worker whose job lives under `directory` (a sweep's) and waits for them.

    Each gets SIGTERM, ends its run KILLED and writes its result (`rsx.worker`); one still
    running after `seconds` is killed (its launcher, or `rsx.resume`, ends its run KILLED).
    The directory is searched until it has had no running worker for a second, so a job that
    was starting when this began is stopped too. Returns how many workers were running.
    """
    stopped: dict[int, JobFiles] = {}
    deadline = time.monotonic() + seconds
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        running = {pid: files for files in map(JobFiles, (p.parent for p in Path(directory).rglob(PID_FILE)))
                   if (pid := _running(files)) is not None}
        for pid in running.keys() - stopped.keys():
            _signal(pid, signal.SIGTERM)
        stopped.update(running)
        if running:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1.0:
            break
        time.sleep(0.2)
    for files in stopped.values():
        if (pid := _running(files)) is not None:
            _signal(pid, signal.SIGKILL)
    return len(stopped)


def _running(files: JobFiles) -> Optional[int]:
    pid = running_worker(files)
    return pid if pid is not None and _exists(pid) else None


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _exists(pid: int) -> bool:
    """Whether `pid` runs (a zombie, ended but not yet reaped by its launcher, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:  # No /proc: ask the kernel.
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _outcome(cfg: DictConfig, files: JobFiles, code: int, started: float, context: Mapping[str, Any] | None) -> JobResult:
    """The worker's result; written here, its run ended KILLED, when it died without one."""
    if code < 0:
        code = 128 - code  # Killed by signal N: exit 128 + N, as a shell reports it.
    if files.result.exists():
        result = JobResult.load(files.result)
        if result.exit_code != code and code != 0:
            result.exit_code = code
        return result
    # The worker died without a word (SIGKILL, out of memory, a crashed interpreter). Its run
    # ends KILLED, not FAILED: no error was reported, and a rerun resumes it (`rsx.resume`).
    name, _ = main_metric_of(cfg.model, {})
    result = JobResult(
        status=KILLED,
        main_metric=name,
        error=f"the worker process died (exit code {code}) without a result; see {files.log}",
        exit_code=code or 1,
        context=dict(context or {}),
        run_id=_end_orphaned_run(cfg, str(files.directory), started, code),
    )
    result.save(files.result)
    return result


class _Copier(threading.Thread):
    """Copies a worker's stream to our own stream and to the job's log file as it arrives."""

    _lock = threading.Lock()

    def __init__(self, source: IO[bytes], sink: IO[str], log_file: IO[bytes], prefix: str):
        super().__init__(daemon=True)
        self.source, self.sink, self.log_file = source, sink, log_file
        self.prefix = prefix.encode()
        self.start()

    def run(self) -> None:
        sink = getattr(self.sink, "buffer", None)
        at_line_start = True
        while chunk := os.read(self.source.fileno(), 65536):
            with self._lock:
                self.log_file.write(chunk)
                self.log_file.flush()
                if self.prefix:
                    chunk, at_line_start = _prefixed(chunk, self.prefix, at_line_start)
                try:
                    if sink is not None:
                        sink.write(chunk)
                    else:  # A text-only stream (e.g. captured by a test runner).
                        self.sink.write(chunk.decode(errors="replace"))
                    self.sink.flush()
                except (OSError, ValueError):  # Our own stream is closed; keep the log going.
                    pass
        self.source.close()


def _prefixed(chunk: bytes, prefix: bytes, at_line_start: bool) -> tuple[bytes, bool]:
    lines = chunk.split(b"\n")
    out = []
    for i, line in enumerate(lines):
        last = i == len(lines) - 1
        if line and (at_line_start or i > 0):
            line = prefix + line
        out.append(line)
        if last:
            at_line_start = line == b""
    return b"\n".join(out), at_line_start


def _stop(process: subprocess.Popen) -> int:
    """Lets the worker close its MLflow run as KILLED; kills it if it does not stop.
    Returns its exit code."""
    if process.poll() is None:
        # A terminal's Ctrl-C already did; harmless twice (`rsx.stopping` acts on the first).
        process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


def _end_orphaned_run(cfg: DictConfig, output_dir: str, since: float, code: int) -> Optional[str]:
    """Ends KILLED the MLflow run a dead worker left RUNNING; returns its id if found."""
    if not cfg.tracking.enabled:
        return None
    try:
        from rsx.tracking import end_orphaned_run

        reason = f"the worker process died (exit code {code})"
        return end_orphaned_run(cfg.tracking.uri, cfg.tracking.experiment, output_dir, since, KILLED, reason)
    except Exception as error:  # Recording the death must not hide it.
        log.warning("rsx: could not end the dead worker's MLflow run: %s", error)
        return None


