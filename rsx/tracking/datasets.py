"""The prepared data as the run's MLflow dataset inputs (`mlflow.data`), one per split.

MLflow's UI shows them under "Datasets used"; the digest says whether two runs trained on the
same arrays, whatever paths or configs produced them.
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping

from rsx.tracking.vocabulary import DATA_DIGEST_TAG

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
    source = os.path.abspath(data.source) if data.source and os.path.exists(data.source) else (data.source or f"rsx:{data.name}")
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
        entity = Dataset(name=data.name, digest=_split_digest(columns, f"{source}|{digest}"), source_type=source_type,
                         source=json.dumps({"uri": source}), schema=json.dumps(schema), profile=json.dumps(profile))
        inputs.append(DatasetInput(dataset=entity, tags=[InputTag(key=DATASET_CONTEXT, value=context)]))
    client.log_inputs(run_id, datasets=inputs)
    tracker.set_tags({DATA_DIGEST_TAG: digest})


def _split_digest(columns: Mapping[str, Any], context: str = "") -> str:
    """A digest of the split's arrays and `context` (the source and the whole data's digest):
    MLflow keeps one dataset per (name, digest), so two sources or side-feature sets with the
    same interactions must not share one and show each other's source and profile."""
    import hashlib

    import numpy as np

    h = hashlib.sha256(context.encode())
    for name, values in sorted(columns.items()):
        h.update(name.encode())
        h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()[:16]
