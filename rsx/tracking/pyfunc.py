"""The trained model as an MLflow model: a pyfunc wrapper around rsx's `.keras` file.

Logged as the run's model "model", so what MLflow users expect works:

    model = mlflow.pyfunc.load_model("runs:/<run id>/model")
    model.predict(pandas.DataFrame({"user_id": ["u1", "u2"], "item_id": [10, 193609]}))  # raw ids -> scores, (2,)

and the run shows it in the UI's Models column, and `mlflow.register_model` takes it. The
model folder holds MLflow's files (MLmodel, requirements) and, under `artifacts/`, the
`model.keras` and `rsx_model.json` that `rsx.serving` reads (the lean path, no MLflow model
loading). The wrapper is logged as code (`model_code.py`), not as a pickled object. Why a
hand-written wrapper rather than the `mlflow.keras` flavour: that one infers
pip requirements by re-importing the model in a subprocess (tens of seconds per run) and
knows nothing of the models' dict inputs; here the requirements are explicit and the
signature comes from the example predictions the job already made.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from typing import Any, Iterator, Mapping

import mlflow.pyfunc

#: Name of the logged model: `runs:/<run id>/model`.
MODEL_NAME = "model"


# MLflow warns, as it creates any PythonModel subclass, that `predict` has no type hints, and
# forces that warning on (its own `simplefilter("once")`), so a filter cannot hide it; recording
# the warnings of the class creation does. `predict` has no type hints on purpose (see there).
with warnings.catch_warnings(record=True):

    class KerasRecommender(mlflow.pyfunc.PythonModel):
        """Scores (query, item) rows with the run's Keras model, from raw ids.

        Input: a pandas DataFrame (or a dict of arrays) with the raw user and item ids as the data
        had them (strings or integers) and any interaction-level feature the model takes; user and
        item side features are gathered from the saved feature tables, and an id the training data
        never had becomes the out-of-vocabulary row 0 (`rsx.serving.IdMapper`, the same mapping
        `rsx.serving.load` uses). Output: a float32 numpy array of shape (rows,). Keras is imported
        on load, on the backend KERAS_BACKEND names (default TensorFlow).
        """

        def load_context(self, context):
            from rsx.serving import IdMapper, describe, load_folder, load_tables

            folder = os.path.dirname(context.artifacts["model"])
            self.info = describe(folder)
            self.mapper = IdMapper(load_tables(folder), self.info, unknown="oov")
            self.model = load_folder(folder)

        # No type hints on predict: MLflow would try to derive a schema from them.
        def predict(self, context, model_input, params=None):
            import numpy as np

            columns = model_input.columns if hasattr(model_input, "columns") else model_input.keys()
            inputs = {name: _array(model_input[name]) for name in columns}
            rows_in = self.mapper.encode(inputs)
            rows = len(next(iter(rows_in.values())))
            scores = self.model.predict(rows_in, batch_size=max(rows, 1), verbose=0)
            return np.asarray(scores, dtype="float32").reshape(rows, -1)[:, 0]


def _array(column: Any):
    """A column as a NumPy array; a column of lists (multi-hot rows) as a 2-D array."""
    import numpy as np

    values = np.asarray(column)
    if values.dtype == object and len(values) and isinstance(values[0], (list, tuple, np.ndarray)):
        return np.stack([np.asarray(v) for v in values])
    return values


def raw_example(folder: str, info: Mapping[str, Any], example: Mapping[str, Any]) -> "Any":
    """The example inputs as a caller of the pyfunc model passes them: raw user/item ids (the
    table rows mapped back through the saved vocabularies), features the model gathers from
    the feature tables left out, 2-D features as one list per row. A pandas DataFrame."""
    import numpy as np
    import pandas as pd

    from rsx.serving import IdMapper, load_tables

    mapper = IdMapper(load_tables(folder), dict(info), unknown="oov")
    gathered = set(mapper.parts["user_features"]) | set(mapper.parts["item_features"])
    frame = {}
    for name, values in example.items():
        values = np.asarray(values)
        if name in gathered:
            continue
        if name in mapper.parts["vocabularies"]:
            values = mapper.parts["vocabularies"][name][values]
        if values.ndim > 1:
            frame[name] = list(values.tolist())
        else:
            frame[name] = values.astype("int64") if values.dtype.kind in "iu" else values
    return pd.DataFrame(frame)


def requirements(info: Mapping[str, Any]) -> list[str]:
    """Explicit pip requirements of the saved model (no inference subprocess)."""
    from importlib import metadata

    wanted = ["rsx", "keras", "keras-rs", "numpy", "pandas", "mlflow"]
    wanted.append("jax" if info.get("keras_backend") == "jax" else "tensorflow")
    pins = []
    for name in wanted:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            if name == "tensorflow":  # the CPU wheel names itself tensorflow-cpu
                with contextlib.suppress(metadata.PackageNotFoundError):
                    pins.append(f"tensorflow-cpu=={metadata.version('tensorflow-cpu')}")
    return pins


def log_pyfunc(uri: str, run_id: str, folder: str, info: Mapping[str, Any], example: Mapping[str, Any], predictions: Any) -> None:
    """Logs `folder` (model.keras, rsx_model.json) as the run's MLflow model `MODEL_NAME`."""
    import numpy as np
    from mlflow.models import Model, infer_signature

    from rsx.serving import INFO_FILE, MODEL_FILE, TABLES_FILE

    # Raw ids, as callers pass them (integer ids as int64: what pandas makes of Python ints).
    frame = raw_example(folder, info, example)
    run = mlflow.MlflowClient(uri).get_run(run_id)
    with _fluent_context(uri, run.info.experiment_id):  # Its warning filter covers the signature too.
        if predictions is None:  # A model whose outputs are not one score per row: inputs only.
            signature = infer_signature(frame)
        else:
            signature = infer_signature(frame, np.asarray(predictions, dtype="float32").reshape(len(frame), -1)[:, 0])
        Model.log(
            artifact_path=None,
            name=MODEL_NAME,
            flavor=mlflow.pyfunc,
            run_id=run_id,
            python_model=os.path.join(os.path.dirname(__file__), "model_code.py"),
            artifacts={"model": os.path.join(folder, MODEL_FILE), "info": os.path.join(folder, INFO_FILE),
                       **({"tables": tables} if os.path.exists(tables := os.path.join(folder, TABLES_FILE)) else {})},
            pip_requirements=requirements(info),
            signature=signature,
        )


@contextlib.contextmanager
def _fluent_context(uri: str, experiment_id: str) -> Iterator[None]:
    """`Model.log` records the logged model through MLflow's global tracking URI and active
    experiment; point both at the run's, then put them back."""
    from mlflow.tracking import fluent
    from mlflow.tracking._tracking_service import utils

    previous_uri, previous_experiment = utils._tracking_uri, fluent._active_experiment_id
    progress = os.environ.get("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR")
    mlflow.set_tracking_uri(uri)
    fluent._active_experiment_id = experiment_id
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"  # No progress bars in the run's log.
    try:
        with warnings.catch_warnings():
            # "no input example" / "no type hints": the signature is given explicitly.
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        utils._tracking_uri, fluent._active_experiment_id = previous_uri, previous_experiment
        if progress is None:
            os.environ.pop("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", None)
        else:
            os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = progress
