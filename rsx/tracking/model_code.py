"""The pyfunc model's code, as MLflow's "models from code" wants it: MLflow copies this file
into the logged model and runs it on load, instead of unpickling an object."""

import mlflow.models

from rsx.tracking.pyfunc import KerasRecommender

mlflow.models.set_model(KerasRecommender())
