"""Keras-side building blocks for plugins; importing this imports keras.

Import it only from a plugin's implementation module (never from its spec module), i.e.
after rsx has set the backend's environment.
"""

from rsx.engine.datasets import row_batches, steps_per_epoch, tf_dataset
from rsx.engine.embeddings import EmbeddingLookup
from rsx.engine.feature_vectors import MaskedMean, feature_inputs, feature_vectors
from rsx.engine.optimizers import TableRoutedOptimizer, make_optimizer, routed_optimizer, table_of
from rsx.engine.targets import TARGETS, binary_baseline, prediction_layer, target_loss, target_metrics

__all__ = [
    "EmbeddingLookup",
    "MaskedMean",
    "TARGETS",
    "TableRoutedOptimizer",
    "binary_baseline",
    "feature_inputs",
    "feature_vectors",
    "make_optimizer",
    "prediction_layer",
    "routed_optimizer",
    "row_batches",
    "steps_per_epoch",
    "table_of",
    "target_loss",
    "target_metrics",
    "tf_dataset",
]
