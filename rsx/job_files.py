"""The job-file protocol between a launcher (`rsx.launch`) and its worker (`rsx.worker`).

A job's files live in its output directory (`rsx.paths.JobFiles`):

- `rsx_job.yaml`, written by the launcher: the job's resolved config, the schema each section
  was composed from, its overrides, its context and where it was launched. Re-run a job by
  hand, e.g. under a debugger, with `python -m rsx.worker <that file>`.
- `rsx_result.json`, written by the worker: a `JobResult` with the job's status, final metrics
  and its model's main metric. If the worker dies before writing it, the launcher writes it.
- `rsx_worker.pid`, written by the launcher while its worker runs: which process to stop
  (a sweep's orchestrator stops every worker of its sweep through it).
- `rsx_job.lock`, held by the launcher for the job's lifetime: a directory serves one live job
  at a time, so no worker ever reads a job file another launch wrote (`claim`).
- `train.log`: the worker's stdout and stderr.

Nothing here imports Keras, TensorFlow or JAX.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import socket
import uuid
from pathlib import Path
from typing import IO, Any, Mapping, Optional, Sequence

from omegaconf import DictConfig, OmegaConf

from rsx.errors import ConfigError, RsxError
from rsx.evaluation import finite, test_metric, validation_metric
from rsx.paths import JobFiles, launch_dir, sweep_lock

from rsx.tracking.vocabulary import FAILED, FINISHED, KILLED, SKIPPED  # noqa: F401  (re-exported)
#: Environment variable giving a worker the id of the job its launcher wrote.
JOB_ID_ENV = "RSX_JOB_ID"


@dataclasses.dataclass
class JobResult:
    """How one job ended, as `rsx_result.json` records it.

    Args:
        status: FINISHED, FAILED, KILLED, or SKIPPED (an identical job had already finished).
        metrics: the final metrics (empty unless FINISHED or SKIPPED).
        main_metric: the metric that ranks the job: the validation twin of the model's
            main metric (`val_rmse` for `test_rmse`), when the model is known.
        value: that metric's final value; None when the job did not finish or lacks it.
        run_id: the job's MLflow run (for SKIPPED: the earlier run that finished).
        error: one line saying why the job failed.
        exit_code: the worker's exit code (0 when FINISHED or SKIPPED).
        context: what the launching side passed along (e.g. the job's place in a sweep).
    """

    status: str
    metrics: dict[str, float] = dataclasses.field(default_factory=dict)
    main_metric: Optional[str] = None
    value: Optional[float] = None
    run_id: Optional[str] = None
    error: Optional[str] = None
    exit_code: int = 0
    context: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def test_value(self) -> Optional[float]:
        """The test metric beside the ranking one (`test_rmse` beside `val_rmse`), if logged."""
        return finite(self.metrics, test_metric(self.main_metric)) if self.main_metric else None

    @property
    def ok(self) -> bool:
        return self.status in (FINISHED, SKIPPED)

    def save(self, path: Path) -> None:
        tmp = Path(f"{path}.tmp")
        from rsx.json_values import dumps

        tmp.write_text(dumps(dataclasses.asdict(self), indent=2, default=_jsonable))
        os.replace(tmp, path)  # Readers never see half a file.

    @classmethod
    def load(cls, path: Path) -> "JobResult":
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in json.loads(Path(path).read_text()).items() if k in fields})


def _jsonable(value: Any) -> Any:
    return str(value)


def main_metric_of(model: Any, metrics: Mapping[str, float]) -> tuple[Optional[str], Optional[float]]:
    """The metric that ranks the job's `model` config (or a bare model name: the defaults of
    its config) and its finite value in `metrics` (None when unknown/absent): the validation
    twin of its main metric, so no choice looks at test."""
    from rsx.discovery import discover

    config = None if isinstance(model, str) else model
    try:
        name = validation_metric(discover().model(model if config is None else config.name).main_metric_for(config))
    except RsxError:
        return None, None
    return name, finite(metrics, name)


# --------------------------------------------------------------------------- the job file


def _schema_path(node: Any) -> Optional[str]:
    """"module:Class" of the dataclass a config section was composed from, if any."""
    kind = OmegaConf.get_type(node)
    if kind is None or not dataclasses.is_dataclass(kind):
        return None
    return f"{kind.__module__}:{kind.__qualname__}"


def write_job_file(
    cfg: DictConfig, overrides: Sequence[str], files: JobFiles, context: Mapping[str, Any] | None = None
) -> str:
    """Writes `files.job`: everything the worker needs, nothing resolved later; returns the
    job's id (a worker checks it, see `JOB_ID_ENV`).

    The config is resolved here, where Hydra's `${hydra:...}` values are known; each section's
    schema is recorded so the worker restores the same typed (structured) config.
    """
    files.directory.mkdir(parents=True, exist_ok=True)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    job_id = uuid.uuid4().hex
    document = {
        "job_id": job_id,
        "output_dir": str(files.directory),
        "launch_dir": launch_dir(),
        "overrides": list(overrides),
        "context": dict(context or {}),
        "schemas": {key: path for key in cfg if (path := _schema_path(cfg[key])) is not None},
        "config": resolved,
    }
    header = (
        "# One rsx job, written for a fresh process. Re-run it by hand with\n"
        f"#   python -m rsx.worker {files.job}\n"
    )
    tmp = files.job.with_name(files.job.name + ".tmp")
    tmp.write_text(header + OmegaConf.to_yaml(OmegaConf.create(document)))
    os.replace(tmp, files.job)  # A worker never reads half a file.
    return job_id


def load_job_file(path: str | Path) -> tuple[DictConfig, dict[str, Any]]:
    """Reads a job file back: the typed config, and the rest of the document."""
    document = OmegaConf.to_container(OmegaConf.load(path))
    sections = {}
    for key, value in document["config"].items():
        schema = document.get("schemas", {}).get(key)
        if schema is not None:
            from rsx.contract import _load_object

            node = OmegaConf.merge(OmegaConf.structured(_load_object(schema)), value)
        else:
            node = OmegaConf.create(value) if isinstance(value, (dict, list)) else value
        sections[key] = node
    cfg = OmegaConf.create(sections)
    OmegaConf.set_struct(cfg, True)
    return cfg, document


# --------------------------------------------------------------------------- one live job per directory


def claim(files: JobFiles) -> IO[str]:
    """Takes the job directory for this process until the returned file is closed (or the
    process ends, however it ends): two launches given one output directory
    (`hydra.run.dir=out/x` twice) would each let their worker read the other's job file.

    Raises:
        ConfigError: another live rsx job holds the directory; one line naming it.
    """
    return _hold(files.lock, f"the output directory {files.directory} is in use by another rsx job", "hydra.run.dir")


def claim_sweep(sweep_dir: str | Path) -> IO[str]:
    """Takes a sweep directory for this orchestrator, as `claim` does a job's: two live sweeps
    sharing `hydra.sweep.dir` would attach jobs to each other's parent run and summaries."""
    return _hold(sweep_lock(sweep_dir), f"the sweep directory {sweep_dir} is in use by another rsx sweep", "hydra.sweep.dir")


def _hold(lock: Path, what: str, key: str) -> IO[str]:
    """An exclusive lock on `lock` (released by the kernel when this process ends, so a killed
    launch never leaves a stale one), or a ConfigError naming the holder."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    handle = open(lock, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise ConfigError(
            f"{what} (pid {holder})",
            f"give each launch its own {key} (or drop it: Hydra's default is unique per launch)",
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


# --------------------------------------------------------------------------- the running worker


def process_start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ("?" where /proc is missing):
    with the pid, it names a process across pid reuse."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def record_worker(files: JobFiles, pid: int) -> None:
    files.pid.write_text(f"{pid} {process_start_time(pid)} {socket.gethostname()}\n")


def running_worker(files: JobFiles) -> Optional[int]:
    """The pid of the job's worker if it still runs on this machine (the same process, not a
    reused pid); None for a worker of another machine (a SLURM node's)."""
    try:
        pid_text, start, host = files.pid.read_text().split()[:3]
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    if host != socket.gethostname() or (start != "?" and process_start_time(pid) != start):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid
