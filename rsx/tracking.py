"""Recording a job in MLflow: params, per-epoch metrics, artifacts, tags and final status.

`MlflowTracker` talks to MLflow through an explicit `MlflowClient` and run id rather than
the fluent API's global "active run", so the same code serves single runs, sweep children
and resumed runs without hidden state. `NullTracker` is its stand-in when
`tracking.enabled=false`.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Mapping, Optional

#: MLflow's own limits (mlflow.utils.validation); values past them are cut, never dropped.
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_KEY = 250
BATCH = 100

_URI_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api[_-]?key|credential)", re.I)


def redact(value: str) -> str:
    """Removes credentials from URIs inside `value` ("https://u:p@host" -> "https://***@host")."""
    return _URI_CREDENTIALS.sub("***@", value)


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts/lists -> {"a.b.0": value}, the dotted keys MLflow params use."""
    if isinstance(node, Mapping):
        items = node.items()
    elif isinstance(node, (list, tuple)):
        items = enumerate(node)
    else:
        return {prefix: node}
    flat: dict[str, Any] = {}
    for key, value in items:
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def params_from_config(container: Mapping[str, Any]) -> dict[str, str]:
    """MLflow params from a resolved config: dotted keys, credentials and secrets redacted."""
    params = {}
    for key, value in flatten(container).items():
        text = "null" if value is None else str(value)
        if _SECRET_KEY.search(key):
            text = "***"
        params[key[:MAX_KEY]] = redact(text)[:MAX_PARAM_VALUE]
    return params


class MlflowTracker:
    """One MLflow run, addressed by id.

    Args:
        uri: tracking URI (e.g. "sqlite:////abs/path/mlflow.db", "http://127.0.0.1:5000").
        experiment: experiment name; created if missing (safely when jobs race to create it).
    """

    def __init__(self, uri: str, experiment: str):
        import mlflow

        self.uri = uri
        self.client = mlflow.MlflowClient(tracking_uri=uri)
        self.experiment_id = self._experiment(experiment)
        self.run_id: Optional[str] = None

    def _experiment(self, name: str) -> str:
        from mlflow.exceptions import MlflowException

        found = self.client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        try:
            return self.client.create_experiment(name)
        except MlflowException:  # Another job created it between our two calls.
            found = self.client.get_experiment_by_name(name)
            if found is None:
                raise
            return found.experiment_id

    def start(self, run_name: str, tags: Mapping[str, str], run_id: Optional[str] = None) -> str:
        """Starts a new run, or resumes `run_id` (status back to RUNNING)."""
        if run_id is not None:
            self.client.update_run(run_id, status="RUNNING")
            self.run_id = run_id
        else:
            run = self.client.create_run(self.experiment_id, run_name=run_name, tags=dict(tags))
            self.run_id = run.info.run_id
        return self.run_id

    def log_params(self, params: Mapping[str, str]) -> None:
        from mlflow.entities import Param

        items = [Param(k, v) for k, v in params.items()]
        for i in range(0, len(items), BATCH):
            self.client.log_batch(self.run_id, params=items[i : i + BATCH])

    def log_metrics(self, metrics: Mapping[str, float], step: Optional[int] = None) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(k, float(v), now, step or 0) for k, v in metrics.items()]
        if items:
            self.client.log_batch(self.run_id, metrics=items)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(k[:MAX_KEY], redact(str(v))[:MAX_TAG_VALUE]) for k, v in tags.items()]
        for i in range(0, len(items), BATCH):
            self.client.log_batch(self.run_id, tags=items[i : i + BATCH])

    def log_text(self, text: str, name: str) -> None:
        self.client.log_text(self.run_id, text, name)

    def log_dict(self, obj: Any, name: str) -> None:
        self.client.log_text(self.run_id, json.dumps(obj, indent=2, default=str), name)

    def log_file(self, path: str, folder: Optional[str] = None) -> None:
        self.client.log_artifact(self.run_id, path, folder)

    def finish(self, status: str = "FINISHED") -> None:
        """Ends the run as FINISHED, FAILED or KILLED."""
        if self.run_id is not None:
            self.client.set_terminated(self.run_id, status=status)


class NullTracker:
    """Accepts everything a tracker does and records nothing (`tracking.enabled=false`)."""

    run_id = None

    def start(self, run_name, tags, run_id=None):
        return None

    def __getattr__(self, name):
        return lambda *args, **kwargs: None
