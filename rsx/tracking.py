"""Recording a job in MLflow: params, per-epoch metrics, artifacts, tags and final status.

`MlflowTracker` talks to MLflow through an explicit `MlflowClient` and run id rather than
the fluent API's global "active run", so the same code serves single runs, sweep children
and resumed runs without hidden state. `NullTracker` is its stand-in when
`tracking.enabled=false`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from typing import Any, Iterator, Mapping, Optional

#: MLflow's own limits (mlflow.utils.validation); values past them are cut, never dropped.
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_KEY = 250
BATCH = 100

#: "scheme://user:password@" (also "scheme:/..." once a path normalizer collapsed the "//").
_URI_CREDENTIALS = re.compile(r"(?<=[A-Za-z0-9+.-]:/)(/?)[^/@\s]+@")
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api[_-]?key|credential)", re.I)


#: Environment variables whose values are secrets wherever they turn up (an interpolation
#: such as `${oc.env:MLFLOW_TRACKING_TOKEN}`, an error message, a traceback).
_SECRET_ENV = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|CREDENTIAL|ACCESS_KEY)", re.I)
#: Shorter values are not scrubbed: replacing "1" or "true" everywhere would garble the logs.
_MIN_SECRET_LENGTH = 6


def _environment() -> dict[str, str]:
    """A snapshot of os.environ. Reading it while another thread sets or unsets a variable
    (MLflow's telemetry thread does) raises KeyError/RuntimeError: then read it again."""
    for _ in range(10):
        try:
            return dict(os.environ)
        except (KeyError, RuntimeError):
            continue
    return dict(os.environ)


def _secret_values() -> list[str]:
    values = {v for k, v in _environment().items() if _SECRET_ENV.search(k) and len(v) >= _MIN_SECRET_LENGTH}
    return sorted(values, key=len, reverse=True)


def redact(value: str) -> str:
    """Removes secrets from `value`: credentials in URIs ("https://u:p@host" ->
    "https://***@host") and the values of secret environment variables (names containing
    TOKEN, PASSWORD, SECRET, API_KEY, ...) wherever they appear."""
    value = _URI_CREDENTIALS.sub(r"\1***@", value)
    for secret in _secret_values():
        value = value.replace(secret, "***")
    return value


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


def connect(uri: str, experiment: str) -> "MlflowTracker":
    """An `MlflowTracker`, or an `RsxError` naming the URI (credentials hidden) within
    seconds when MLflow cannot be reached there."""
    from rsx.errors import RsxError

    try:
        return MlflowTracker(uri, experiment)
    except Exception as error:
        raise RsxError(
            f"cannot reach MLflow at tracking.uri={redact(uri)} "
            f"({type(error).__name__}: {redact(' '.join(str(error).split()))[:200]})",
            "start the server or fix tracking.uri, or set tracking.enabled=false",
        ) from error


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
        with _fail_fast():
            self.experiment_id = self._experiment(experiment)
        self.run_id: Optional[str] = None
        # (key, step) pairs and param keys the run already holds: a resumed run re-logs
        # neither an epoch it had recorded before it was killed nor its params.
        self._logged_steps: set[tuple[str, int]] = set()
        self._logged_params: set[str] = set()

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
        """Starts a new run, or resumes `run_id` (status back to RUNNING, tags updated).

        A resumed run remembers which metric steps and params it already holds, so logging
        them again is a no-op: nothing appears twice in its history.
        """
        if run_id is not None:
            self.run_id = run_id
            self._remember_logged()
            self.client.update_run(run_id, status="RUNNING")
            self.set_tags(tags)
        else:
            clean = {k: redact(str(v))[:MAX_TAG_VALUE] for k, v in tags.items()}
            run = self.client.create_run(self.experiment_id, run_name=redact(run_name), tags=clean)
            self.run_id = run.info.run_id
        return self.run_id

    def _remember_logged(self) -> None:
        run = self.client.get_run(self.run_id)
        self._logged_params = set(run.data.params)
        self._logged_steps = {
            (key, metric.step)
            for key in run.data.metrics
            for metric in self.client.get_metric_history(self.run_id, key)
        }

    def find_runs(self, tags: Mapping[str, str], statuses: tuple[str, ...] = ()) -> list[Any]:
        """Runs of this experiment carrying all `tags` (and one of `statuses`), newest first."""
        found = self.client.search_runs(
            [self.experiment_id],
            filter_string=" AND ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items()),
            order_by=["attributes.start_time DESC"],
        )
        return [run for run in found if not statuses or run.info.status in statuses]

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
        self.log_text(json.dumps(obj, indent=2, default=str), name)

    def log_file(self, path: str, folder: Optional[str] = None) -> None:
        self.client.log_artifact(self.run_id, path, folder)

    def finish(self, status: str = "FINISHED") -> None:
        """Ends the run as FINISHED, FAILED or KILLED."""
        if self.run_id is not None:
            self.client.set_terminated(self.run_id, status=status)


@contextlib.contextmanager
def _fail_fast() -> Iterator[None]:
    """MLflow's HTTP client retries an unreachable server for minutes by default; while
    rsx first contacts the server it should fail within seconds and say so. Later calls
    (a run of hours) keep MLflow's patient defaults."""
    quick = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
    saved = {k: os.environ.get(k) for k in quick}
    os.environ.update({k: v for k, v in quick.items() if saved[k] is None})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)


class NullTracker:
    """Accepts everything a tracker does and records nothing (`tracking.enabled=false`)."""

    run_id = None

    def start(self, run_name, tags, run_id=None):
        return None

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


# --------------------------------------------------------------------------- data provenance

#: MLflow's input tag naming what a dataset was used for, and the value per split.
DATASET_CONTEXT = "mlflow.data.context"
SPLIT_CONTEXTS = {"train": "training", "validation": "validation", "test": "test"}
_COLSPEC_TYPES = {"i": "long", "u": "long", "f": "double", "b": "boolean", "U": "string", "S": "string", "O": "string"}


def log_data_inputs(tracker: Any, data: Any) -> None:
    """Logs the prepared data as the run's MLflow dataset inputs, one per split.

    Each input (MLflow's `Dataset` entity, shown in the run's "Datasets used") has the data's
    name, its source (the path or TFDS name it was read from), a content digest of the
    split's arrays, the split's columns as an MLflow column schema, and a profile with row
    counts, id counts, side features and the digest of the whole prepared data (also the
    run's tag `rsx.data_digest`). Its input tag `mlflow.data.context` is training,
    validation or test. A split that is the test split (tutorial presets) is logged once,
    as test. Nothing is logged without a run (tracking off, processes other than 0).

    Args:
        tracker: the job's tracker (an `MlflowTracker`; anything without `client`/`run_id`
            is skipped).
        data: the job's `rsx.data.PreparedData`.
    """
    client, run_id = getattr(tracker, "client", None), getattr(tracker, "run_id", None)
    if client is None or run_id is None:
        return
    from mlflow.entities import Dataset, DatasetInput, InputTag

    digest = data.digest()
    source = data.source or f"rsx:{data.name}"
    source_type = "local" if os.path.exists(source) else "code"
    features = [{"name": f.name, "kind": f.kind, "entity": f.entity, "vocabulary_size": f.vocabulary_size,
                 "max_length": f.max_length} for f in data.schema.features]
    inputs = []
    for split, context in SPLIT_CONTEXTS.items():
        if split == "validation" and data.validation_is_test:
            continue
        columns = data.split(split)
        schema = {"mlflow_colspec": [
            {"name": name, "type": _COLSPEC_TYPES.get(values.dtype.kind, "string"), "required": True}
            for name, values in columns.items()]}
        profile = {"num_rows": int(len(next(iter(columns.values())))), "data_digest": digest,
                   "vocabulary_sizes": {k: int(v) for k, v in data.vocabulary_sizes.items()},
                   "side_features": features, "target": data.schema.target}
        entity = Dataset(name=data.name, digest=_split_digest(columns), source_type=source_type,
                         source=json.dumps({"uri": source}), schema=json.dumps(schema), profile=json.dumps(profile))
        inputs.append(DatasetInput(dataset=entity, tags=[InputTag(key=DATASET_CONTEXT, value=context)]))
    client.log_inputs(run_id, datasets=inputs)
    tracker.set_tags({"rsx.data_digest": digest})


def _split_digest(columns: Mapping[str, Any]) -> str:
    import hashlib

    import numpy as np

    h = hashlib.sha256()
    for name, values in sorted(columns.items()):
        h.update(name.encode())
        h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()[:16]
