"""Recording a job in MLflow: params, per-epoch metrics, artifacts, tags, model and final status.

`Tracker` is what the job and the engine write through. `MlflowTracker` talks to MLflow
through an explicit client and run id rather than the fluent API's global "active run", so
the same code serves single runs, sweep children and resumed runs without hidden state.
`NullTracker` is its stand-in when `tracking.enabled=false` (and on processes other than 0
of a multi-process job).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping, Optional, Protocol, Sequence

from rsx.tracking.redaction import MAX_KEY, MAX_TAG_VALUE, redact
from rsx.tracking.runs import RunRecord, RunStore
from rsx.tracking.store import check_tag_keys, ui_command
from rsx.tracking.vocabulary import FAILURE_TAG, FINISHED, PROCESS_TAG, RUNNING

#: Params/tags per `log_batch` call (MLflow's limit per request).
BATCH = 100


class Tracker(Protocol):
    """Where a job records itself. `run_id` is None until `start` (and always for `NullTracker`)."""

    run_id: Optional[str]

    def start(self, run_name: str, tags: Mapping[str, Any], run_id: Optional[str] = None) -> Optional[str]: ...
    def job_runs(self, job_key: str, statuses: Sequence[str] = ()) -> list[RunRecord]: ...
    def log_params(self, params: Mapping[str, str]) -> None: ...
    def log_metrics(self, metrics: Mapping[str, float], step: Optional[int] = None) -> None: ...
    def set_tags(self, tags: Mapping[str, Any]) -> None: ...
    def log_text(self, text: str, name: str) -> None: ...
    def log_dict(self, obj: Any, name: str) -> None: ...
    def log_file(self, path: str, folder: Optional[str] = None) -> None: ...
    def log_model(self, folder: str, info: Mapping[str, Any], example: Mapping[str, Any], predictions: Any) -> None: ...
    def finish(self, status: str = FINISHED) -> None: ...


def connect(uri: str, experiment: str) -> "MlflowTracker":
    """An `MlflowTracker`, or a `TrackingError` in one line within seconds: MLflow unreachable
    (naming the URI, credentials hidden), the store unusable, the experiment deleted."""
    return MlflowTracker(uri, experiment)


class MlflowTracker:
    """One MLflow run, addressed by id.

    Args:
        uri: tracking URI (e.g. "sqlite:////abs/path/mlflow.db", "http://127.0.0.1:5000").
        experiment: experiment name; created if missing (safely when jobs race to create it),
            refused in one line when deleted.
    """

    def __init__(self, uri: str, experiment: str):
        self.uri = uri
        self.experiment = experiment
        self.runs = RunStore(uri)
        self.client = self.runs.client
        self.experiment_id = self.runs.experiment_id(experiment, create=True)
        self.run_id: Optional[str] = None
        # (key, step) pairs and param keys the run already holds: a resumed run re-logs
        # neither an epoch it had recorded before it was killed nor its params.
        self._logged_steps: set[tuple[str, int]] = set()
        self._logged_params: set[str] = set()

    def start(self, run_name: str, tags: Mapping[str, Any], run_id: Optional[str] = None) -> str:
        """Starts a new run, or resumes `run_id` (status back to RUNNING, tags updated).

        A resumed run remembers which metric steps and params it already holds, so logging
        them again is a no-op: nothing appears twice in its history. Tag keys MLflow would
        refuse raise `ConfigError` before the run exists.
        """
        check_tag_keys(tags)
        if run_id is not None:
            self.run_id = run_id
            self._remember_logged()
            self.client.update_run(run_id, status=RUNNING)
            self.set_tags(tags)
        else:
            clean = {k: redact(str(v))[:MAX_TAG_VALUE] for k, v in tags.items()}
            run = self.client.create_run(self.experiment_id, run_name=redact(run_name), tags=clean)
            self.run_id = run.info.run_id
        return self.run_id

    def _remember_logged(self) -> None:
        run = self.runs.get(self.run_id)
        self._logged_params = set(run.params)
        self._logged_steps = {
            (key, step) for key in run.metrics for step, _ in self.runs.metric_history(self.run_id, key)
        }

    def job_runs(self, job_key: str, statuses: Sequence[str] = ()) -> list[RunRecord]:
        """Runs of this experiment recorded for the job with key `job_key`, newest first."""
        return self.runs.job_runs(self.experiment_id, job_key, statuses)

    def find_runs(self, tags: Mapping[str, str], statuses: Sequence[str] = ()) -> list[RunRecord]:
        """Runs of this experiment carrying all `tags` (exact values), newest first."""
        return self.runs.search([self.experiment_id], tags, statuses)

    def log_params(self, params: Mapping[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(k, redact(str(v))) for k, v in params.items() if k not in self._logged_params]
        for i in range(0, len(items), BATCH):
            self.client.log_batch(self.run_id, params=items[i : i + BATCH])
        self._logged_params.update(p.key for p in items)

    def log_metrics(self, metrics: Mapping[str, float], step: Optional[int] = None) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        step = step or 0
        items = [
            Metric(k, float(v), now, step) for k, v in metrics.items() if (k, step) not in self._logged_steps
        ]
        if items:
            self.client.log_batch(self.run_id, metrics=items)
            self._logged_steps.update((m.key, step) for m in items)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(k[:MAX_KEY], redact(str(v))[:MAX_TAG_VALUE]) for k, v in tags.items()]
        for i in range(0, len(items), BATCH):
            self.client.log_batch(self.run_id, tags=items[i : i + BATCH])

    def log_text(self, text: str, name: str) -> None:
        self.client.log_text(self.run_id, redact(text), name)

    def log_dict(self, obj: Any, name: str) -> None:
        from rsx.json_values import dumps

        self.log_text(dumps(obj, indent=2, default=str), name)

    def log_file(self, path: str, folder: Optional[str] = None) -> None:
        self.client.log_artifact(self.run_id, path, folder)

    def log_model(self, folder: str, info: Mapping[str, Any], example: Mapping[str, Any], predictions: Any) -> None:
        """Logs the saved model in `folder` as the run's MLflow model (see `rsx.tracking.pyfunc`)."""
        from rsx.tracking.pyfunc import log_pyfunc

        log_pyfunc(self.uri, self.run_id, folder, info, example, predictions)

    def finish(self, status: str = FINISHED) -> None:
        """Ends the run as FINISHED, FAILED or KILLED."""
        if self.run_id is not None:
            self.client.set_terminated(self.run_id, status=status)


class NullTracker:
    """Accepts everything a tracker does and records nothing (`tracking.enabled=false`)."""

    run_id: Optional[str] = None

    def start(self, run_name: str, tags: Mapping[str, Any], run_id: Optional[str] = None) -> None:
        return None

    def job_runs(self, job_key: str, statuses: Sequence[str] = ()) -> list[RunRecord]:
        return []

    def log_params(self, params: Mapping[str, str]) -> None: ...
    def log_metrics(self, metrics: Mapping[str, float], step: Optional[int] = None) -> None: ...
    def set_tags(self, tags: Mapping[str, Any]) -> None: ...
    def log_text(self, text: str, name: str) -> None: ...
    def log_dict(self, obj: Any, name: str) -> None: ...
    def log_file(self, path: str, folder: Optional[str] = None) -> None: ...
    def log_model(self, folder: str, info: Mapping[str, Any], example: Mapping[str, Any], predictions: Any) -> None: ...
    def finish(self, status: str = FINISHED) -> None: ...


# --------------------------------------------------------------------------- after the job


def find_job_run(uri: str, experiment: str, output_dir: str, since: float) -> Optional[RunRecord]:
    """The run a job writing to `output_dir` started since `since` (seconds); None if none
    (or MLflow cannot say: the run id is a convenience, never worth a failure)."""
    try:
        store = RunStore(uri)
        experiment_id = store.experiment_id(experiment)
        if experiment_id is None:
            return None
        return store.run_in_output_dir(experiment_id, output_dir, int(since * 1000))
    except Exception:
        return None


def end_orphaned_run(uri: str, experiment: str, output_dir: str, since: float, status: str, reason: str) -> Optional[str]:
    """Ends `status` the run a dead worker left RUNNING; returns its id if found."""
    run = find_job_run(uri, experiment, output_dir, since)
    if run is None:
        return None
    if run.status == RUNNING:
        RunStore(uri).end_run(run.run_id, status, {FAILURE_TAG: reason})
    return run.run_id


def end_orphaned_children(
    uri: str, parent_run_id: str, alive: Callable[[Optional[str]], bool], status: str, reason: str
) -> list[RunRecord]:
    """Ends `status` every child of a sweep's parent run left RUNNING by a process that is gone.

    Args:
        uri: the tracking URI.
        parent_run_id: the sweep's parent run.
        alive: whether the process named by a run's `rsx.process` tag still runs
            (`rsx.resume.is_alive`); a live one ends its own run.
        status: KILLED (resumable) or FAILED.
        reason: the one line recorded as the runs' `failure` tag.

    Returns:
        The runs it ended, as they were before.
    """
    store = RunStore(uri)
    orphans = [
        run for run in store.children(store.get(parent_run_id))
        if run.status == RUNNING and not alive(run.tags.get(PROCESS_TAG))
    ]
    for run in orphans:
        store.end_run(run.run_id, status, {FAILURE_TAG: reason})
    return orphans


def finished_job(uri: str, experiment: str, job_key: str) -> Optional[RunRecord]:
    """The newest FINISHED run of the job with key `job_key` in `experiment`, if any."""
    store = RunStore(uri)
    experiment_id = store.experiment_id(experiment)
    return None if experiment_id is None else store.finished_job(experiment_id, job_key)


def where_line(uri: str, experiment: str, run_id: Optional[str], status: str, enabled: bool = True) -> str:
    """The last line a run prints: its id, status and the command that shows it."""
    if not enabled:
        return f"rsx: {status}; not recorded in MLflow (tracking.enabled=false)"
    if run_id is None:  # The job ended before its MLflow run opened (e.g. a config error).
        return f"rsx: {status}; no MLflow run was opened for it; runs of experiment '{experiment}': {ui_command(uri)}"
    return f"rsx: MLflow run {run_id} {status} in experiment '{experiment}'; view it: {ui_command(uri)}"

