"""The one place rsx talks to MLflow.

- `vocabulary`: every tag name and run status rsx writes or reads;
- `store`: opening the store (safe under concurrent first use), experiments, tag-key checks;
- `runs`: every search, returning `RunRecord`s (no MLflow type leaves this package);
- `tracker`: `Tracker` (the Protocol a job writes through), `MlflowTracker`, `NullTracker`;
- `redaction`: config -> params without secrets;
- `datasets`: the prepared data as the run's MLflow dataset inputs;
- `pyfunc`: the trained model as an MLflow pyfunc model (imported only when one is logged).

Nothing outside `rsx.tracking` imports `mlflow`. Importing this package imports no MLflow
either: each function imports it when called.
"""

from rsx.tracking.datasets import log_data_inputs
from rsx.tracking.redaction import MAX_KEY, MAX_PARAM_VALUE, MAX_TAG_VALUE, flatten, params_from_config, redact
from rsx.tracking.runs import RunRecord, RunStore
from rsx.tracking.store import TrackingError, check_tag_keys, open_client, ui_command
from rsx.tracking.tracker import (
    MlflowTracker,
    NullTracker,
    Tracker,
    connect,
    end_orphaned_children,
    end_orphaned_run,
    find_job_run,
    finished_job,
    where_line,
)

__all__ = [
    "MAX_KEY", "MAX_PARAM_VALUE", "MAX_TAG_VALUE", "MlflowTracker", "NullTracker", "RunRecord", "RunStore", "Tracker",
    "TrackingError", "check_tag_keys", "connect", "end_orphaned_children", "end_orphaned_run", "find_job_run", "finished_job",
    "flatten",
    "log_data_inputs",
    "open_client", "params_from_config", "redact", "ui_command", "where_line",
]
