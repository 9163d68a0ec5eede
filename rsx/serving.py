"""Loading a model that an rsx run logged to MLflow.

```python
from rsx.serving import load, load_model

served = load("<run id>")                           # MLflow at $MLFLOW_TRACKING_URI or ./mlflow.db
served.predict({"user_id": ["alice", "bob"], "item_id": [1, 193609]})   # raw ids, as in your files
load("<run id>", unknown="raise")                   # an unknown id is an error instead of row 0

model = load_model("<run id>")                      # the bare Keras model: table rows, not raw ids
model.predict({"user_id": np.array([1, 2]), "item_id": np.array([10, 20])})
```

`load` maps raw ids through the vocabularies saved with the model (`data_tables.npz`): an id
the training data never had becomes row 0, the out-of-vocabulary row, on every Keras backend,
instead of reading outside a table (NaN on JAX, the last row for -1, an InvalidArgumentError
on TensorFlow). User/item side features the model takes are looked up from the saved feature
tables by id.

The run's `model/model.keras` is downloaded and read by Keras after the classes it needs are
registered (the same folder is an MLflow pyfunc model, `mlflow.pyfunc.load_model("runs:/<run id>/model")`,
see `rsx.tracking.pyfunc`): rsx's own (tables, routed optimizer) and those of the model and backend plugins
that trained it (named in `model/rsx_model.json`). Importing this module imports no Keras;
`load_model` does, so set KERAS_BACKEND first if you want a particular one.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
from typing import Any, Optional

from rsx.errors import RsxError

log = logging.getLogger("rsx")

ARTIFACT_DIR = "model"
MODEL_FILE = "model.keras"
INFO_FILE = "rsx_model.json"
TABLES_FILE = "data_tables.npz"
#: What `load(..., unknown=)` does with an id the vocabulary lacks.
UNKNOWN = ("oov", "raise")


def default_tracking_uri() -> str:
    """$MLFLOW_TRACKING_URI, else rsx's default store: ./mlflow.db."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{os.path.abspath('mlflow.db')}"


def download(run_id: str, tracking_uri: Optional[str] = None, dst: Optional[str] = None) -> str:
    """Downloads a run's `model/` folder; returns the local folder."""
    from rsx.tracking import RunStore

    store = RunStore(tracking_uri or default_tracking_uri(), create=False)  # A reader: creates no store.
    try:
        return store.download(run_id, ARTIFACT_DIR, dst)
    except Exception as error:
        raise RsxError(
            f"run {run_id} has no logged model ({type(error).__name__}: {' '.join(str(error).split())[:200]})",
            "pass the id of a FINISHED rsx run and its tracking URI",
        ) from error


def _files(folder: str) -> str:
    """Where the rsx files are: under `artifacts/` in an MLflow model folder, else at the top."""
    inner = os.path.join(folder, "artifacts")
    return inner if os.path.exists(os.path.join(inner, INFO_FILE)) else folder


def describe(folder: str) -> dict[str, Any]:
    """`rsx_model.json` of a downloaded model folder."""
    with open(os.path.join(_files(folder), INFO_FILE)) as f:
        return json.load(f)


def register_classes(info: dict[str, Any]) -> None:
    """Imports the modules whose Keras classes the saved model refers to."""
    importlib.import_module("rsx.engine.embeddings")
    importlib.import_module("rsx.engine.optimizers")
    from rsx.discovery import discover

    registry = discover()
    for kind in ("model", "backend"):
        name = info.get(kind)
        if not name:
            continue
        try:
            registry.record(kind, name).spec.load()
        except Exception as error:  # A backend's module may need hardware-specific set-up.
            log.warning("rsx: could not import the %s plugin '%s' (%s)", kind, name, error)


def load_folder(folder: str, compile: bool = False):
    """Loads a downloaded `model/` folder as a Keras model."""
    info = describe(folder)
    if "save_error" in info:
        raise RsxError(
            f"the run logged only the model's weights: {info['save_error']}",
            "rebuild the model with its plugin and load model/model.weights.h5 into it",
        )
    register_classes(info)
    import keras

    return keras.saving.load_model(os.path.join(_files(folder), MODEL_FILE), compile=compile)


def load_model(run_id: str, tracking_uri: Optional[str] = None, compile: bool = False):
    """The Keras model an rsx run logged, ready to `predict`.

    Args:
        run_id: the MLflow run id.
        tracking_uri: where the run is; default $MLFLOW_TRACKING_URI or ./mlflow.db.
        compile: also restore the optimizer, loss and metrics (to continue training).
    """
    return load_folder(download(run_id, tracking_uri), compile=compile)


class IdMapper:
    """Raw ids -> table rows, with the vocabularies a run saved (framework-free).

    Args:
        tables: `data_tables.npz` contents (`vocabularies/<f>`, `user_features/<f>`,
            `item_features/<f>`; see `PreparedData.serving_tables`).
        info: `rsx_model.json` (features, vocabulary_sizes, schema).
        unknown: "oov" maps ids outside the vocabulary to row 0; "raise" raises `RsxError`
            naming the feature and the valid ids.
    """

    def __init__(self, tables: dict, info: dict[str, Any], unknown: str = "oov"):
        if unknown not in UNKNOWN:
            raise RsxError(f"unknown={unknown!r} is not an option", f"use one of {', '.join(UNKNOWN)}")
        self.unknown = unknown
        self.features = list(info.get("features") or [])
        self.sizes = dict(info.get("vocabulary_sizes") or {})
        schema = info.get("schema") or {}
        self.user, self.item = schema.get("user", "user_id"), schema.get("item", "item_id")
        self.parts: dict[str, dict[str, Any]] = {"vocabularies": {}, "user_features": {}, "item_features": {}}
        for key in tables:
            kind, _, name = key.partition("/")
            if kind in self.parts:
                self.parts[kind][name] = tables[key]

    def encode(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """Rows for every model input: ids mapped, side features gathered by the mapped ids."""
        import numpy as np

        rows = {}
        for name, values in inputs.items():
            values = np.asarray(values)
            if name in self.parts["vocabularies"]:
                rows[name] = self._lookup(name, values)
            elif name in (self.user, self.item) and name in self.sizes:
                rows[name] = self._check_range(name, values)
            else:
                rows[name] = values
        for name in self.features:
            if name in rows:
                continue
            for entity, id_column in (("user_features", self.user), ("item_features", self.item)):
                if name in self.parts[entity] and id_column in rows:
                    rows[name] = self.parts[entity][name][rows[id_column]]
        missing = [name for name in self.features if name not in rows]
        if missing:
            raise RsxError(f"model input '{missing[0]}' is missing", f"pass {', '.join(self.features)}")
        return rows

    def _lookup(self, name: str, values):
        import numpy as np
        import pandas as pd

        known = self.parts["vocabularies"][name][1:]  # row 0 holds a placeholder
        if known.dtype.kind == "U":
            query = values.astype(str)
        elif known.dtype.kind in "iu" and values.dtype.kind in "iu":
            query = values.astype(np.int64)
        else:
            query = values  # e.g. text ids against integer ids: all unknown
        found = pd.Index(known).get_indexer(query)
        unknown = found < 0
        if unknown.any() and self.unknown == "raise":
            span = f"{known.min()}..{known.max()}" if known.dtype.kind in "iuf" and len(known) else "see data_tables.npz"
            raise RsxError(f"feature '{name}': id {values[unknown][0].item()!r} is not in the vocabulary "
                           f"({len(known)} known ids, {span})",
                           "pass an id seen in training, or load with unknown='oov' (row 0)")
        return (found + 1).astype(np.int32)

    def _check_range(self, name: str, values):
        import numpy as np

        size = int(self.sizes[name])
        if values.dtype.kind not in "iu":
            raise RsxError(f"feature '{name}': ids must be integers 1..{size - 1}, got {values.dtype}",
                           "pass integer ids")
        outside = (values < 1) | (values >= size)
        if outside.any() and self.unknown == "raise":
            raise RsxError(f"feature '{name}': id {values[outside][0]} is outside 1..{size - 1}",
                           "pass an id the table has, or load with unknown='oov' (row 0)")
        return np.where(outside, 0, values).astype(np.int32)


class ServedModel:
    """A logged model that takes raw ids: `predict({"user_id": [...], "item_id": [...]})`.

    Args:
        model: the Keras model (`load_folder`).
        mapper: the run's `IdMapper`.
        info: `rsx_model.json`.
    """

    def __init__(self, model, mapper: IdMapper, info: dict[str, Any]):
        self.model, self.mapper, self.info = model, mapper, info

    def predict(self, inputs: dict[str, Any], **kwargs):
        """Model predictions for raw ids; keyword arguments go to `keras.Model.predict`."""
        rows = self.mapper.encode(inputs)
        kwargs.setdefault("verbose", 0)
        kwargs.setdefault("batch_size", max(len(next(iter(rows.values()))), 1))
        return self.model.predict(rows, **kwargs)


def load_tables(folder: str) -> dict:
    """`data_tables.npz` of a downloaded model folder ({} for runs logged before it existed)."""
    import numpy as np

    path = os.path.join(_files(folder), TABLES_FILE)
    if not os.path.exists(path):
        return {}
    with np.load(path, allow_pickle=False) as f:
        return {key: f[key] for key in f.files}


def load(run_id: str, tracking_uri: Optional[str] = None, unknown: str = "oov") -> ServedModel:
    """The model an rsx run logged, taking raw ids (see the module docstring).

    Args:
        run_id: the MLflow run id.
        tracking_uri: where the run is; default $MLFLOW_TRACKING_URI or ./mlflow.db.
        unknown: "oov" (ids the training data lacked -> row 0) or "raise".
    """
    folder = download(run_id, tracking_uri)
    info = describe(folder)
    mapper = IdMapper(load_tables(folder), info, unknown)
    return ServedModel(load_folder(folder), mapper, info)
