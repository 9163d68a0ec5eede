"""The trained model as an MLflow model: a pyfunc wrapper around rsx's `.keras` file.

Logged as the run's model "model", so what MLflow users expect works:

    model = mlflow.pyfunc.load_model("runs:/<run id>/model")
    model.predict(pandas.DataFrame({"user_id": [1, 2], "item_id": [10, 20]}))  # -> scores, shape (2,)

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
from typing import Any, Iterator, Mapping

import mlflow.pyfunc

#: Name of the logged model: `runs:/<run id>/model`.
MODEL_NAME = "model"


class KerasRecommender(mlflow.pyfunc.PythonModel):
    """Scores (query, item) rows with the run's Keras model.

    Input: a pandas DataFrame (or a dict of arrays) with one column per input feature named in
    `rsx_model.json` ("features"), integer ids. Output: a float32 numpy array of shape (rows,).
    Keras is imported on load, on the backend KERAS_BACKEND names (default TensorFlow).
    """

    def load_context(self, context):
        from rsx.serving import describe, load_folder

        folder = os.path.dirname(context.artifacts["model"])
        self.info = describe(folder)
        self.model = load_folder(folder)

    # No type hints on predict: MLflow would try to derive a schema from them.
    def predict(self, context, model_input, params=None):
        import numpy as np

        inputs = {}
        for feature in self.info["features"]:
            column = np.asarray(model_input[feature])
            inputs[feature] = column.astype("int32") if column.dtype.kind in "iu" else column
        rows = len(next(iter(inputs.values())))
        scores = self.model.predict(inputs, batch_size=max(rows, 1), verbose=0)
        return np.asarray(scores, dtype="float32").reshape(rows, -1)[:, 0]


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
    import pandas as pd
    from mlflow.models import Model, infer_signature

    from rsx.serving import INFO_FILE, MODEL_FILE

    # Ids as int64 in the signature: what pandas makes of Python ints (the wrapper casts to int32).
    frame = pd.DataFrame({k: np.asarray(v).astype("int64") if np.asarray(v).dtype.kind in "iu" else np.asarray(v)
                          for k, v in example.items()})
    if predictions is None:  # A model whose outputs are not one score per row: inputs only.
        signature = infer_signature(frame)
    else:
        signature = infer_signature(frame, np.asarray(predictions, dtype="float32").reshape(len(frame), -1)[:, 0])
    run = mlflow.MlflowClient(uri).get_run(run_id)
    with _fluent_context(uri, run.info.experiment_id):
        Model.log(
            artifact_path=None,
            name=MODEL_NAME,
            flavor=mlflow.pyfunc,
            run_id=run_id,
            python_model=os.path.join(os.path.dirname(__file__), "model_code.py"),
            artifacts={"model": os.path.join(folder, MODEL_FILE), "info": os.path.join(folder, INFO_FILE)},
            pip_requirements=requirements(info),
            signature=signature,
        )


@contextlib.contextmanager
def _fluent_context(uri: str, experiment_id: str) -> Iterator[None]:
    """`Model.log` records the logged model through MLflow's global tracking URI and active
    experiment; point both at the run's, then put them back."""
    from mlflow.tracking import fluent
    from mlflow.tracking._tracking_service import utils

    import warnings

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
