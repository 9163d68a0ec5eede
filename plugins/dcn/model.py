"""The DCN-v2 model's implementation (imports keras and keras-rs)."""

from __future__ import annotations

import keras
import keras_rs
from omegaconf import OmegaConf

from rsx.api import RATING, ModelPlugin, OptimizerSpec, declare_inputs
from rsx.api.engine import (
    binary_baseline,
    feature_inputs,
    feature_vectors,
    prediction_layer,
    target_loss,
    target_metrics,
)


class DcnModel(ModelPlugin):
    """Deep & Cross Network v2 (Wang et al. 2021) over ids and side features.

    x0 = concat(user and item embeddings, side features' embeddings, numeric values), shape
    (batch, d). Cross layers (`keras_rs.layers.FeatureCross`) compute
    x_{l+1} = x0 * (W x_l + b) + x_l, explicit feature interactions of growing order, with
    W full rank or low rank (`projection_dim`). "stacked": deep Dense layers on top of the
    cross network; "parallel": cross network and deep layers both read x0, outputs
    concatenated. Then one unit: the rating in stars (regression) or the probability of
    `rating >= threshold` (binary). Trains on the `rating` column either way.
    """

    def __init__(self, config, data):
        super().__init__(config, data)
        initializer = config.embeddings_initializer
        if OmegaConf.is_config(initializer):
            initializer = OmegaConf.to_container(initializer)
        features = None if config.features is None else list(config.features)
        self.inputs = declare_inputs(
            data, features, config.embedding_dim, OptimizerSpec.from_config(config.table_optimizer), initializer
        )

    def features(self):
        return list(self.inputs.features)

    def tables(self):
        return list(self.inputs.tables)

    def label(self):
        return RATING

    def build(self, embeddings, global_batch_size):
        config = self.config
        inputs = feature_inputs(self.inputs.features)
        vectors = feature_vectors(self.inputs.features, inputs, embeddings)
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
        prediction = prediction_layer(config.target, self.data.train[RATING], config.threshold)(top)
        return keras.Model(inputs, prediction, name="dcn")

    def optimizer(self):
        return OptimizerSpec.from_config(self.config.optimizer)

    def loss(self):
        return target_loss(self.config.target, self.config.threshold)

    def metrics(self):
        return target_metrics(self.config.target, self.config.threshold)

    def evaluate_extra(self, model, data):
        """Binary target: the positive-rate predictor's log-loss and AUC (the mean-rating
        baseline is logged by rsx for every model)."""
        if self.config.target != "binary":
            return {}
        return binary_baseline(data.train[RATING], data.test[RATING], self.config.threshold)
