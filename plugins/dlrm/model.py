"""The DLRM model's implementation (imports keras and keras-rs)."""

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


class DlrmModel(ModelPlugin):
    """DLRM (Naumov et al. 2019) over ids and side features.

    Numeric features (batch, n) go through the bottom MLP to one (batch, dim) vector; every
    table feature gives a (batch, dim) embedding (multi-hot reduced by its table's combiner,
    sequences averaged). `keras_rs.layers.DotInteraction` takes the pairwise dot products
    of all these vectors, (batch, k(k-1)/2); the top MLP reads [bottom output, products] and
    one unit predicts the rating in stars (regression) or the probability of
    `rating >= threshold` (binary). Without numeric features the top MLP reads the products
    alone. Trains on the `rating` column either way.
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
        interacting = [vectors[f.name] for f in self.inputs.embedded]
        top = []
        if self.inputs.numeric:
            numeric = [vectors[f.name] for f in self.inputs.numeric]
            bottom = numeric[0] if len(numeric) == 1 else keras.layers.Concatenate(name="numeric")(numeric)
            for i, units in enumerate([*config.bottom_units, config.embedding_dim]):
                bottom = keras.layers.Dense(units, activation=config.activation, name=f"bottom_{i}")(bottom)
            interacting.append(bottom)
            top.append(bottom)
        products = keras_rs.layers.DotInteraction(self_interaction=config.self_interaction, name="interaction")(
            interacting
        )
        x = products if not top else keras.layers.Concatenate(name="top_input")([*top, products])
        for i, units in enumerate(config.top_units):
            x = keras.layers.Dense(units, activation=config.activation, name=f"top_{i}")(x)
        prediction = prediction_layer(config.target, self.data.train[RATING], config.threshold)(x)
        return keras.Model(inputs, prediction, name="dlrm")

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
