"""Keras-side building blocks for plugins; importing this imports keras.

Import it only from a plugin's implementation module (never from its spec module), i.e.
after rsx has set the backend's environment.
"""

from rsx.engine.datasets import row_batches, steps_per_epoch, tf_dataset
from rsx.engine.embeddings import EmbeddingLookup
from rsx.engine.optimizers import TableRoutedOptimizer, make_optimizer, routed_optimizer, table_of

__all__ = [
    "EmbeddingLookup",
    "TableRoutedOptimizer",
    "make_optimizer",
    "routed_optimizer",
    "row_batches",
    "steps_per_epoch",
    "table_of",
    "tf_dataset",
]
