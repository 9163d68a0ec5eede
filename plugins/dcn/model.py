"""The DCN-v2 model's implementation (imports keras and keras-rs)."""

from __future__ import annotations

import keras
import keras_rs

from rsx.api.engine import TargetModel


class DcnModel(TargetModel):
    """Deep & Cross Network v2 (Wang et al. 2021) over ids and side features.

    x0 = concat(user and item embeddings, side features' embeddings, numeric values), shape
    (batch, d). Cross layers (`keras_rs.layers.FeatureCross`) compute
    x_{l+1} = x0 * (W x_l + b) + x_l, explicit feature interactions of growing order, with
    W full rank or low rank (`projection_dim`). "stacked": deep Dense layers on top of the
    cross network; "parallel": cross network and deep layers both read x0, outputs
    concatenated. Then one unit: the rating in stars (regression) or the probability of
    `rating >= threshold` (binary). Inputs, loss, metrics and the last layer: `TargetModel`.
    """

    def build(self, embeddings, global_batch_size):
        config = self.config
        inputs, vectors = self.input_vectors(embeddings)
        x0 = keras.layers.Concatenate(name="x0")([vectors[f.name] for f in self.inputs.features])
        cross = x0
        for i in range(config.cross_layers):
            cross = keras_rs.layers.FeatureCross(projection_dim=config.projection_dim, name=f"cross_{i}")(x0, cross)
        deep = cross if config.structure == "stacked" else x0
        for i, units in enumerate(config.deep_units):
            deep = keras.layers.Dense(units, activation=config.activation, name=f"deep_{i}")(deep)
            if config.dropout:
                deep = keras.layers.Dropout(config.dropout, name=f"dropout_{i}")(deep)
        top = deep if config.structure == "stacked" else keras.layers.Concatenate(name="cross_and_deep")([cross, deep])
        return keras.Model(inputs, self.prediction(top), name="dcn")
