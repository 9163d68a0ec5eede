"""Keras inputs for declared features and one vector per feature for a model's dense part.

Shared by the models that read side features: what differs between ranking, DCN and DLRM
is what they do with the vectors, not how they get them.
"""

from __future__ import annotations

from typing import Sequence

import keras

from rsx.contract import FeatureSpec


def feature_inputs(features: Sequence[FeatureSpec]) -> dict[str, keras.KerasTensor]:
    """One `keras.Input` per feature, shaped and typed as the backends' datasets yield them.

    id: (batch,) int32; multi_hot and sequence: (batch, max_length) int32, 0-padded;
    numeric: (batch,) float32.
    """
    inputs = {}
    for f in features:
        if f.kind == "numeric":
            inputs[f.name] = keras.Input(shape=(), dtype="float32", name=f.name)
        elif f.kind in ("multi_hot", "sequence"):
            inputs[f.name] = keras.Input(shape=(f.max_length,), dtype="int32", name=f.name)
        else:
            inputs[f.name] = keras.Input(shape=(), dtype="int32", name=f.name)
    return inputs


def feature_vectors(
    features: Sequence[FeatureSpec], inputs: dict, embeddings: keras.layers.Layer
) -> dict[str, keras.KerasTensor]:
    """{feature: (batch, width)}: embeddings of table features, numeric values as (batch, 1).

    A sequence feature comes back from `embeddings` unreduced, (batch, max_length, dim); a
    model without an order-aware part averages its non-padding positions (all-padding rows
    give zeros), as a multi-hot feature's mean combiner does.

    Args:
        features: the model's declared features.
        inputs: their `feature_inputs`.
        embeddings: the backend's lookup layer ({feature: ids} -> {feature: vectors}).
    """
    looked_up = embeddings({f.name: inputs[f.name] for f in features if f.kind != "numeric"})
    vectors = {}
    for f in features:
        if f.kind == "numeric":
            vectors[f.name] = keras.layers.Reshape((1,), name=f"{f.name}_value")(inputs[f.name])
        elif f.kind == "sequence":
            vectors[f.name] = MaskedMean(name=f"{f.name}_mean")(looked_up[f.name], inputs[f.name])
        else:
            vectors[f.name] = looked_up[f.name]
    return vectors


@keras.saving.register_keras_serializable(package="rsx")
class MaskedMean(keras.layers.Layer):
    """Mean of a sequence's vectors over its non-padding positions (ids != 0).

    Call with vectors (batch, length, dim) float and ids (batch, length) int; returns
    (batch, dim); a row of only padding gives zeros.
    """

    def call(self, vectors, ids):
        mask = keras.ops.expand_dims(keras.ops.cast(keras.ops.not_equal(ids, 0), vectors.dtype), -1)
        total = keras.ops.sum(vectors * mask, axis=1)
        return total / keras.ops.maximum(keras.ops.sum(mask, axis=1), 1.0)

    def compute_output_shape(self, vectors_shape, ids_shape=None):
        return (vectors_shape[0], vectors_shape[2])
