"""rsx: train and compare recommender models on any Keras backend, tracked in MLflow.

Importing rsx imports no Keras, TensorFlow or JAX: Keras fixes its backend at import, and
rsx sets each job's backend environment first. Plugin authors use `rsx.api`.
"""

__version__ = "0.1.0"
