"""Loading a model that an rsx run logged to MLflow.

```python
from rsx.serving import load_model

model = load_model("<run id>")                      # MLflow at $MLFLOW_TRACKING_URI or ./mlflow.db
model.predict({"user_id": np.array([1, 2]), "item_id": np.array([10, 20])})
```

This is the lean path: the run's model folder is downloaded and its `model.keras` read by
Keras after the classes it needs are registered (the same folder is an MLflow pyfunc model,
`mlflow.pyfunc.load_model("runs:/<run id>/model")`, see `rsx.tracking.pyfunc`): rsx's own (tables, routed optimizer) and those of the model and backend plugins
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


def default_tracking_uri() -> str:
    """$MLFLOW_TRACKING_URI, else rsx's default store: ./mlflow.db."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{os.path.abspath('mlflow.db')}"


def download(run_id: str, tracking_uri: Optional[str] = None, dst: Optional[str] = None) -> str:
    """Downloads a run's `model/` folder; returns the local folder."""
    from rsx.tracking import RunStore

    try:
        return RunStore(tracking_uri or default_tracking_uri()).download(run_id, ARTIFACT_DIR, dst)
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
