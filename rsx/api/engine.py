"""Keras-side building blocks for plugins; importing this imports keras.

Import it only from a plugin's implementation module (never from its spec module), i.e.
after rsx has set the backend's environment.
"""

from rsx.engine.datasets import SAMPLE_WEIGHT, padded_for_evaluation, row_batches, steps_per_epoch, tf_dataset
from rsx.engine.devices import DeviceReport, check_accelerator
from rsx.engine.embeddings import EmbeddingLookup
from rsx.engine.feature_model import FeatureModel, TargetModel
from rsx.engine.feature_vectors import MaskedMean, feature_inputs, feature_vectors
from rsx.engine.optimizers import TableRoutedOptimizer, make_optimizer, routed_optimizer, table_of
from rsx.engine.retrieval_eval import (
    RetrievalEvaluation,
    RetrievalValidation,
    entity_inputs,
    evaluate_retrieval,
    pair_matrix,
    popularity_baseline,
    popularity_scorer,
    relevant_pairs,
    seen_pairs,
)

__all__ = [
    "DeviceReport",
    "EmbeddingLookup",
    "FeatureModel",
    "MaskedMean",
    "RetrievalEvaluation",
    "RetrievalValidation",
    "SAMPLE_WEIGHT",
    "TableRoutedOptimizer",
    "TargetModel",
    "check_accelerator",
    "entity_inputs",
    "evaluate_retrieval",
    "feature_inputs",
    "feature_vectors",
    "make_optimizer",
    "padded_for_evaluation",
    "pair_matrix",
    "popularity_baseline",
    "popularity_scorer",
    "relevant_pairs",
    "routed_optimizer",
    "row_batches",
    "seen_pairs",
    "steps_per_epoch",
    "table_of",
    "tf_dataset",
]
