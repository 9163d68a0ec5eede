"""Logging a job's trained model to its MLflow run, in a form `rsx.serving.load_model` reads.

The run gets a `model/` folder:

- `model.keras`: Keras' native format (architecture, weights, compile config), loadable on any
  Keras backend once the classes it uses are registered (rsx's and the plugins', which
  `rsx.serving` imports);
- `rsx_model.json`: what the model is (model and backend plugin, Keras backend, input
  features, label) and an example: inputs from the test split and the predictions the trained
  model made for them before it was saved, so any loader can check it gets the same.

Why not the `mlflow.keras` flavour: it logs through MLflow's fluent "active run" (rsx
addresses runs by id) and infers pip requirements by re-importing the model in a subprocess,
which costs tens of seconds per run; its pyfunc wrapper also knows nothing of the models'
dict inputs. A `.keras` file plus a 20-line loader serves MLflow users just as well.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from typing import Any, Callable, Mapping

import keras
import numpy as np

from rsx.serving import ARTIFACT_DIR, INFO_FILE, MODEL_FILE

log = logging.getLogger("rsx")
#: Rows of the example kept beside the model (at least the global batch on static-shape backends).
EXAMPLE_ROWS = 16


def example_inputs(columns: Mapping[str, np.ndarray], features: list[str], rows: int) -> dict[str, np.ndarray]:
    """The first `rows` test rows of each feature (cycled when the split is shorter); 2-D
    features (multi_hot, sequence) keep their width."""
    return {f: np.take(np.asarray(columns[f]), np.arange(rows) % len(columns[f]), axis=0) for f in features}


def to_json(value: Any) -> Any:
    """Nested predictions (arrays, dicts, lists) as plain JSON values."""
    if isinstance(value, Mapping):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return np.asarray(keras.ops.convert_to_numpy(value)).tolist()


def log_model(
    tracker,
    model: keras.Model,
    info: dict[str, Any],
    example: dict[str, np.ndarray],
    scope: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
    every_process: bool = False,
) -> None:
    """Saves `model` with its description and example predictions to the run's `model/`.

    Args:
        tracker: the job's tracker; nothing is logged when tracking is off.
        model: the trained model.
        info: what the model is (plugin names, features, label, ...), stored as JSON.
        example: feature -> ids the example predictions are made on.
        scope: context to predict in (the backend's inference scope).
        every_process: a multi-process job: predicting and saving touch every device, so every
            process does them, in step, though only process 0 has a run to log them to.
    """
    if getattr(tracker, "run_id", None) is None and not every_process:
        return
    rows = len(next(iter(example.values())))
    with scope():
        predictions = model.predict(example, batch_size=rows, verbose=0)
    description = {
        **info,
        "example": {
            "inputs": {k: v.tolist() for k, v in example.items()},
            "predictions": to_json(predictions),
        },
    }
    saved = f"{ARTIFACT_DIR}/{MODEL_FILE}"
    with tempfile.TemporaryDirectory(prefix="rsx-model-") as folder:
        try:
            model.save(os.path.join(folder, MODEL_FILE))
        except Exception as error:  # Keep the weights at least; say why the model is not loadable.
            saved = "weights only"
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(folder, MODEL_FILE))  # a half-written file loads nothing
            description["save_error"] = f"{type(error).__name__}: {error}"[:2000]
            log.warning("rsx: the model could not be saved as .keras (%s); logging its weights only", error)
            try:
                model.save_weights(os.path.join(folder, "model.weights.h5"))
            except Exception as weights_error:  # e.g. tables sharded over several processes
                description["save_error"] += f"; weights: {type(weights_error).__name__}: {weights_error}"[:2000]
                log.warning("rsx: the model's weights could not be saved either (%s); no model is logged", weights_error)
                saved = "not saved"
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(folder, "model.weights.h5"))
        with open(os.path.join(folder, INFO_FILE), "w") as f:
            json.dump(description, f, indent=1)
        for name in sorted(os.listdir(folder)):
            tracker.log_file(os.path.join(folder, name), ARTIFACT_DIR)
    tracker.set_tags({"rsx.model": saved})
