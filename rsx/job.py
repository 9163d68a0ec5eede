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
from typing import Any, Callable, Optional

from omegaconf import DictConfig, OmegaConf

import rsx
from rsx import paths, stopping
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
    """A stable id of what a job computes: the same config on the same data gives the same key.

    Recorded as the `rsx.job_key` tag; resuming a killed job and skipping finished sweep
    jobs both find earlier runs by it. The data's digest (settings and file contents,
    `rsx.data.loading.data_digest`) is part of it: changed files behind the same config
    make a new job.
    """
    import hashlib
    import json

    from rsx.data.loading import data_digest

    container = OmegaConf.to_container(cfg, resolve=True)
    container["data_digest"] = data_digest(cfg.data, cache_root=paths.cache_root())
    for section in _NOT_IN_KEY:
        container.pop(section, None)
    for key in _TRAINER_NOT_IN_KEY:
        container.get("trainer", {}).pop(key, None)
    text = json.dumps(container, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def make_tracker(cfg: DictConfig, process_index: int = 0):
    """The job's tracker; a `NullTracker` when tracking is off or on processes other than 0
    of a multi-process job (one job, one MLflow run)."""
    from rsx.tracking import NullTracker, check_tag_keys, connect

    if not cfg.tracking.enabled or process_index != 0:
        return NullTracker()
    check_tag_keys(cfg.tracking.get("tags") or {})  # Before the store is even opened.
    return connect(cfg.tracking.uri, cfg.tracking.experiment)


def run_name(cfg: DictConfig) -> str:
    return cfg.tracking.run_name or f"{cfg.model.name}-{cfg.backend.name}-{cfg.data.name}"


def run(cfg: DictConfig, overrides: list[str] | None = None, output_dir: str | None = None,
        on_run: Optional[Callable[[str], None]] = None) -> dict[str, float]:
    """Trains and evaluates one job; returns its final metrics.

    `on_run` is told the MLflow run's id as soon as the run exists (new or resumed), so the
    caller can name it in its last line whatever happens next.

    Raises `RsxError` for anything the user can fix. The MLflow run, once started, always
    ends FINISHED, FAILED (traceback attached) or KILLED (Ctrl-C).
    """
    from rsx.validation import validate

    validate(cfg)  # Out-of-range values fail here, in one line, before anything is started.
    # SIGTERM (preemption, `kill`, a scheduler's stop) and Ctrl-C end the run KILLED, so a
    # rerun resumes it; by default Python would die of SIGTERM and leave the run RUNNING.
    stopping.install()
    registry = discover()
    backend_spec = registry.backend(cfg.backend.name)
    model_spec = registry.model(cfg.model.name)
    backend_config = plugin_config(cfg.backend)
    apply_environment(backend_spec.environment(backend_config))

    tracker = make_tracker(cfg, backend_spec.process_index(backend_config))
    # A rerun of a job that was killed continues its MLflow run and its last checkpoint.
    from rsx.resume import discard, plan, this_process
    from rsx.tracking import vocabulary as tag

    key = job_key(cfg)
    resume = plan(cfg.trainer, key, tracker)
    if resume.run_id:
        log.info("rsx: resuming MLflow run %s (after epoch %d)", resume.run_id, resume.initial_epoch)
    # The run is started inside the `try`: a stop landing the moment it exists (a Ctrl-C to the
    # whole process group, a sweep stopping its jobs) still ends it KILLED, never RUNNING.
    try:
        tracker.start(
            run_name(cfg),
            run_id=resume.run_id,
            tags={
                tag.PROCESS_TAG: this_process(),
                tag.BACKEND_TAG: cfg.backend.name,
                tag.MODEL_TAG: cfg.model.name,
                tag.DATASET_TAG: cfg.data.name,
                tag.VERSION_TAG: rsx.__version__,
                tag.JOB_KEY_TAG: key,
                tag.MAIN_METRIC_TAG: model_spec.main_metric_for(cfg.model),
                **({tag.GIT_COMMIT_TAG: commit} if (commit := git_commit()) else {}),
                **({tag.OUTPUT_DIR_TAG: output_dir} if output_dir else {}),
                **dict(cfg.tracking.get("tags") or {}),
            },
        )
        if on_run is not None and tracker.run_id is not None:
            on_run(tracker.run_id)
        from rsx.testing.faults import signal_at

        signal_at("run_created")
        from rsx.tracking import params_from_config

        container = OmegaConf.to_container(cfg, resolve=True)
        tracker.log_params(params_from_config(container))
        tracker.log_text(OmegaConf.to_yaml(cfg, resolve=True), "config.yaml")
        tracker.log_text("\n".join(overrides or []) + "\n", "overrides.txt")

        from rsx.data import load_prepared

        data = load_prepared(cfg.data, cache_root=paths.cache_root())
        from rsx.tracking import log_data_inputs

        log_data_inputs(tracker, data)
        from rsx.engine.training import train_and_evaluate

        result = train_and_evaluate(cfg, backend_spec, model_spec, data, tracker, resume=resume)
    except KeyboardInterrupt:
        tracker.finish(tag.KILLED)
        raise
    except BaseException as error:
        _record_failure(tracker, error)
        raise
    tracker.finish(tag.FINISHED)
    discard(resume.directory)  # The model is in the run now; the checkpoints served their purpose.
    return result.metrics


def _record_failure(tracker: Any, error: BaseException) -> None:
    from rsx.tracking.vocabulary import FAILED, FAILURE_TAG

    if tracker.run_id is None:  # Failed before its run existed (or tracking is off).
        return
    try:
        tracker.set_tags({FAILURE_TAG: str(error)[:2000]})
        tracker.log_text("".join(traceback.format_exception(error)), "traceback.txt")
    finally:
        tracker.finish(FAILED)
