"""Every place rsx reads or writes, derived in one place and independent of the working directory.

Hydra may run a job in its output folder (`hydra.job.chdir=true`), and each launch gets a new
output folder; what must outlive one launch (the prepared-data cache, checkpoints a rerun
resumes from, the MLflow store and its artifacts) is therefore anchored to where rsx was
launched (`launch_dir`), or to `$RSX_HOME` when set:

- data cache:   `<home>/.rsx_cache` (or `data.cache_dir`)
- checkpoints:  `<home>/checkpoints/<job key>/` (or `trainer.checkpoint_dir`)
- MLflow store: `tracking.uri`, by default `sqlite:///<launch dir>/mlflow.db`; MLflow puts a new
  experiment's artifacts in `./mlruns` of the process that creates it, which rsx runs from the
  launch directory (`rsx.app`, `rsx.worker`)
- one job's files: `JobFiles(<its output dir>)`

Relative configured paths are taken relative to the launch directory too.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

#: Overrides the launch directory as the root of the cache and the checkpoints.
HOME_ENV = "RSX_HOME"


def launch_dir() -> str:
    """Where rsx was launched: Hydra's `runtime.cwd` inside a Hydra app, whatever directory the
    job runs in; elsewhere (a worker, which starts in its launch directory) the current one."""
    from hydra.core.hydra_config import HydraConfig

    if HydraConfig.initialized():
        return HydraConfig.get().runtime.cwd
    return os.getcwd()


def rsx_home() -> str:
    """`$RSX_HOME`, else the launch directory: the root of everything kept between launches."""
    return os.environ.get(HOME_ENV) or launch_dir()


def absolute(path: str) -> str:
    """`path` with `~` expanded, relative to the launch directory when relative."""
    return os.path.join(launch_dir(), os.path.expanduser(str(path)))


def cache_root() -> str:
    """The prepared-data cache's root (a data config's `cache_dir` replaces it)."""
    return os.path.join(rsx_home(), ".rsx_cache")


def checkpoint_root(trainer_cfg: Any) -> str:
    """`trainer.checkpoint_dir`, or `<RSX_HOME or the launch directory>/checkpoints`."""
    configured = trainer_cfg.get("checkpoint_dir")
    if configured:
        return absolute(configured)
    return os.path.join(rsx_home(), "checkpoints")


JOB_FILE = "rsx_job.yaml"
RESULT_FILE = "rsx_result.json"
PID_FILE = "rsx_worker.pid"
LOG_FILE = "train.log"
LOCK_FILE = "rsx_job.lock"


@dataclasses.dataclass(frozen=True)
class JobFiles:
    """The files through which a launcher and its worker talk, in the job's output directory
    (`rsx.job_files` says what each holds).

    Args:
        directory: the job's output directory (absolute).
    """

    directory: Path

    @classmethod
    def of(cls, output_dir: str | Path) -> "JobFiles":
        return cls(Path(absolute(str(output_dir))))

    @property
    def job(self) -> Path:
        return self.directory / JOB_FILE

    @property
    def result(self) -> Path:
        return self.directory / RESULT_FILE

    @property
    def pid(self) -> Path:
        return self.directory / PID_FILE

    @property
    def log(self) -> Path:
        return self.directory / LOG_FILE

    @property
    def lock(self) -> Path:
        return self.directory / LOCK_FILE


def sweep_lock(sweep_dir: str | Path) -> Path:
    """Held by a sweep's orchestrator while it runs: one live sweep per sweep directory."""
    return Path(sweep_dir) / "rsx_sweep.lock"
