"""Runs one composed config: plugins -> environment -> data -> training -> MLflow.

The story reads in one direction: resolve the plugins, set the backend's environment, open
the MLflow run, prepare (or load cached) data, hand over to `rsx.engine.training`, close the
run with a status that says how it ended. Keras is imported only inside that hand-over.
"""

from __future__ import annotations

import logging
import os
import subprocess
import traceback
from typing import Any, Optional

from omegaconf import DictConfig, OmegaConf

import rsx
from rsx.contract import plugin_config
from rsx.discovery import discover
from rsx.environment import apply_environment
from rsx.errors import RsxError

log = logging.getLogger("rsx")


def git_commit() -> Optional[str]:
    """The commit of the source tree rsx runs from, when it is a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=os.path.dirname(os.path.abspath(rsx.__file__)),
            capture_output=True, text=True, timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


#: Config sections that do not change what a job computes, so they are left out of its key.
_NOT_IN_KEY = ("tracking",)
_TRAINER_NOT_IN_KEY = ("verbose", "isolate", "checkpoint", "checkpoint_dir", "resume")


def job_key(cfg: DictConfig) -> str:
    """A stable id of what a job computes: the same config gives the same key.

    Recorded as the `rsx.job_key` tag; resuming a killed job and skipping finished sweep
    jobs both find earlier runs by it.
    """
    import hashlib
    import json

    container = OmegaConf.to_container(cfg, resolve=True)
    for section in _NOT_IN_KEY:
        container.pop(section, None)
    for key in _TRAINER_NOT_IN_KEY:
        container.get("trainer", {}).pop(key, None)
    text = json.dumps(container, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_tracker(cfg: DictConfig, process_index: int = 0):
    """The job's tracker; a `NullTracker` when tracking is off or on processes other than 0
    of a multi-process job (one job, one MLflow run)."""
    from rsx.tracking import NullTracker, connect

    if not cfg.tracking.enabled or process_index != 0:
        return NullTracker()
    return connect(cfg.tracking.uri, cfg.tracking.experiment)


def run_name(cfg: DictConfig) -> str:
    return cfg.tracking.run_name or f"{cfg.model.name}-{cfg.backend.name}-{cfg.data.name}"


def run(cfg: DictConfig, overrides: list[str] | None = None, output_dir: str | None = None) -> dict[str, float]:
    """Trains and evaluates one job; returns its final metrics.

    Raises `RsxError` for anything the user can fix. The MLflow run, once started, always
    ends FINISHED, FAILED (traceback attached) or KILLED (Ctrl-C).
    """
    from rsx.validation import validate

    validate(cfg)  # Out-of-range values fail here, in one line, before anything is started.
    _sigterm_as_interrupt()
    registry = discover()
    backend_spec = registry.backend(cfg.backend.name)
    model_spec = registry.model(cfg.model.name)
    backend_config = plugin_config(cfg.backend)
    apply_environment(backend_spec.environment(backend_config))

    tracker = make_tracker(cfg, backend_spec.process_index(backend_config))
    # A rerun of a job that was killed continues its MLflow run and its last checkpoint.
    from rsx.resume import PROCESS_TAG, discard, plan, this_process

    key = job_key(cfg)
    resume = plan(cfg.trainer, key, tracker)
    if resume.run_id:
        log.info("rsx: resuming MLflow run %s (after epoch %d)", resume.run_id, resume.initial_epoch)
    tracker.start(
        run_name(cfg),
        run_id=resume.run_id,
        tags={
            PROCESS_TAG: this_process(),
            "backend": cfg.backend.name,
            "model": cfg.model.name,
            "dataset": cfg.data.name,
            "rsx_version": rsx.__version__,
            "rsx.job_key": key,
            **({"git_commit": commit} if (commit := git_commit()) else {}),
            **({"output_dir": output_dir} if output_dir else {}),
            **dict(cfg.tracking.get("tags") or {}),
        },
    )
    try:
        from rsx.tracking import params_from_config

        container = OmegaConf.to_container(cfg, resolve=True)
        tracker.log_params(params_from_config(container))
        tracker.log_text(OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")
        tracker.log_text("\n".join(overrides or []) + "\n", "overrides.txt")

        from rsx.data import load_prepared

        data = load_prepared(cfg.data, cache_root=_cache_root(cfg))
        from rsx.engine.training import train_and_evaluate

        result = train_and_evaluate(cfg, backend_spec, model_spec, data, tracker, resume=resume)
    except KeyboardInterrupt:
        tracker.finish("KILLED")
        raise
    except BaseException as error:
        _record_failure(tracker, error)
        raise
    tracker.finish("FINISHED")
    discard(resume.directory)  # The model is in the run now; the checkpoints served their purpose.
    return result.metrics


def _sigterm_as_interrupt() -> None:
    """SIGTERM (preemption, `kill`, a scheduler's stop) ends the run KILLED, like Ctrl-C, so
    a rerun resumes it; by default Python would die without a word and leave it RUNNING."""
    import signal
    import threading

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def _cache_root(cfg: DictConfig) -> str:
    return os.path.join(os.environ.get("RSX_HOME") or os.getcwd(), ".rsx_cache")


def _record_failure(tracker: Any, error: BaseException) -> None:
    try:
        tracker.set_tags({"failure": str(error)[:2000]})
        tracker.log_text("".join(traceback.format_exception(error)), "traceback.txt")
    finally:
        tracker.finish("FAILED")
