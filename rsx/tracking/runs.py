"""Reading runs back from MLflow: every search rsx makes, as `RunStore` methods.

MLflow's filter strings cannot escape a quote (its parser strips the outer quotes and keeps
the rest verbatim), so a value rsx did not write itself (a path, a run name, a user's tag)
never goes into one: searches filter on values rsx generates (hex job keys, run ids, fixed
tag values) and compare everything else in Python. A launch directory such as
`/home/o'brien/x` or a tag value `50% "off" \\o/` therefore matches exactly like any other.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import sys
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

from rsx.tracking.store import TrackingError, experiment_id, open_client, sqlite_path
from rsx.tracking.vocabulary import FINISHED, JOB_KEY_TAG, OUTPUT_DIR_TAG, PARENT_TAG, ROLE_TAG, SWEEP_ROLE

if TYPE_CHECKING:
    from mlflow.entities import Run

#: Values that can stand in a filter string verbatim: no quote, no backslash.
_PLAIN = re.compile(r"^[^'\"\\]*$")
#: Searches return at most this many runs (MLflow's own page limit for one call).
MAX_RESULTS = 50_000


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """One MLflow run as rsx reads it (no MLflow type leaves `rsx.tracking`).

    Args:
        run_id: MLflow run id.
        name: run name.
        status: RUNNING, FINISHED, FAILED or KILLED.
        experiment_id: the run's experiment.
        start_time: milliseconds since the epoch; None when unknown.
        end_time: milliseconds since the epoch; None while running.
        tags, params: as recorded (strings).
        metrics: each metric's last value.
    """

    run_id: str
    name: str
    status: str
    experiment_id: str
    start_time: Optional[int]
    end_time: Optional[int]
    tags: Mapping[str, str]
    metrics: Mapping[str, float]
    params: Mapping[str, str]

    @classmethod
    def of(cls, run: "Run") -> "RunRecord":
        info, data = run.info, run.data
        return cls(
            run_id=info.run_id, name=info.run_name or "", status=info.status, experiment_id=info.experiment_id,
            start_time=info.start_time, end_time=info.end_time,
            tags=dict(data.tags), metrics={k: _restored(v) for k, v in data.metrics.items()}, params=dict(data.params),
        )


def _restored(value: float) -> float:
    """MLflow stores +-inf as +-sys.float_info.max; give it back as the infinity it was."""
    return math.copysign(math.inf, value) if abs(value) >= sys.float_info.max else value


def literal(value: str) -> str:
    """`value` quoted for an MLflow filter string; ValueError when no quoting can hold it."""
    if not _PLAIN.match(value):
        raise ValueError(f"{value!r} cannot be written in an MLflow filter string")
    return f"'{value}'"


class RunStore:
    """The runs of one tracking URI.

    Args:
        uri: MLflow tracking URI; the store is opened (created if needed) safely.
        create: False for a reader (`rsx.compare`, `rsx.serving`): a SQLite store that does
            not exist is a `TrackingError` in one line, not an empty `mlflow.db` left behind.
    """

    def __init__(self, uri: str, create: bool = True):
        self.uri = uri
        path = sqlite_path(uri)
        if not create and path is not None and not os.path.exists(path):
            raise TrackingError(
                f"no MLflow store at {path}: no rsx run was recorded there",
                "run this where rsx recorded its runs (its mlflow.db), or give the store's tracking URI "
                "(rsx.compare --tracking-uri URI)",
            )
        self.client = open_client(uri)

    # ------------------------------------------------------------------ experiments, runs

    def experiment_id(self, name: str, create: bool = False) -> Optional[str]:
        """The active experiment's id (None when missing and not `create`); see `store.experiment_id`."""
        return experiment_id(self.client, name, create=create)

    def get(self, run_id: str) -> RunRecord:
        try:
            return RunRecord.of(self.client.get_run(run_id))
        except Exception as error:
            raise TrackingError(f"no MLflow run '{run_id}' ({type(error).__name__})", "check the run id and the tracking URI") from error

    def search(
        self,
        experiment_ids: Sequence[str],
        tags: Mapping[str, str] | None = None,
        statuses: Sequence[str] = (),
        since_ms: Optional[int] = None,
        newest_first: bool = True,
        max_results: Optional[int] = None,
    ) -> list[RunRecord]:
        """Runs carrying every tag in `tags` (exact values), with one of `statuses`, started at or
        after `since_ms`. Values that cannot be quoted are matched in Python (module docstring)."""
        tags = dict(tags or {})
        clauses, later = [], {}
        for key, value in tags.items():
            try:
                clauses.append(f"tags.`{key}` = {literal(str(value))}")
            except ValueError:
                later[key] = str(value)
        if len(statuses) == 1:
            clauses.append(f"attributes.status = {literal(statuses[0])}")
        if since_ms is not None:
            clauses.append(f"attributes.start_time >= {int(since_ms)}")
        exact = not later and len(statuses) <= 1
        found = self.client.search_runs(
            list(experiment_ids),
            filter_string=" AND ".join(clauses),
            order_by=[f"attributes.start_time {'DESC' if newest_first else 'ASC'}"],
            max_results=max_results if exact and max_results else MAX_RESULTS,
        )
        records = [RunRecord.of(run) for run in found]
        records = [
            r for r in records
            if all(r.tags.get(k) == v for k, v in later.items()) and (not statuses or r.status in statuses)
        ]
        return records[:max_results] if max_results else records

    def metric_history(self, run_id: str, key: str) -> list[tuple[int, float]]:
        """(step, value) of every logged value of `key`, by step."""
        return sorted((m.step, _restored(m.value)) for m in self.client.get_metric_history(run_id, key))

    # ------------------------------------------------------------------ rsx's questions

    def finished_job(self, experiment: str, job_key: str) -> Optional[RunRecord]:
        """The newest FINISHED run of the job with key `job_key` (`tracking.skip_finished`)."""
        found = self.search([experiment], {JOB_KEY_TAG: job_key}, statuses=(FINISHED,), max_results=1)
        return found[0] if found else None

    def job_runs(self, experiment: str, job_key: str, statuses: Sequence[str] = ()) -> list[RunRecord]:
        """Runs of the job with key `job_key`, newest first."""
        return self.search([experiment], {JOB_KEY_TAG: job_key}, statuses=statuses)

    def run_in_output_dir(self, experiment: str, output_dir: str, since_ms: int) -> Optional[RunRecord]:
        """The newest run started since `since_ms` whose job wrote to `output_dir`."""
        found = self.search([experiment], {OUTPUT_DIR_TAG: output_dir}, since_ms=since_ms, max_results=1)
        return found[0] if found else None

    def latest_sweep(self, experiment: str) -> Optional[RunRecord]:
        found = self.search([experiment], {ROLE_TAG: SWEEP_ROLE}, max_results=1)
        return found[0] if found else None

    def children(self, parent: RunRecord) -> list[RunRecord]:
        """The child runs of a sweep's parent run, oldest first."""
        return self.search([parent.experiment_id], {PARENT_TAG: parent.run_id}, newest_first=False)

    def experiment_runs(self, experiment: str) -> list[RunRecord]:
        """Every run of an experiment, oldest first."""
        return self.search([experiment], newest_first=False)

    # ------------------------------------------------------------------ writes to existing runs

    def end_run(self, run_id: str, status: str, tags: Mapping[str, Any] | None = None) -> None:
        """Ends a run another process left open (e.g. a worker that died) with `status`."""
        from mlflow.entities import RunTag

        if tags:
            self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])
        self.client.set_terminated(run_id, status=status)

    def download(self, run_id: str, path: str, dst: Optional[str] = None) -> str:
        """Downloads a run's artifact (or logged model) `path`; returns the local path."""
        import mlflow

        # A logged model (MLflow 3) is not a run artifact: MLflow then looks it up through its
        # *global* tracking URI, not the one passed here, so from another folder the default
        # ./mlflow.db is searched. Point the global URI at this store for the call.
        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(self.uri)
        try:
            return mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path, tracking_uri=self.uri, dst_path=dst)
        finally:
            mlflow.set_tracking_uri(previous)

    def log_artifact(self, run_id: str, path: str, folder: Optional[str] = None) -> None:
        self.client.log_artifact(run_id, path, folder)
