"""The ranking model's implementation (imports keras)."""

from __future__ import annotations

import keras
from omegaconf import OmegaConf

from rsx.api import ModelPlugin, OptimizerSpec, declare_inputs
from rsx.api.engine import feature_inputs, feature_vectors


class RankingModel(ModelPlugin):
    """Predicts a rating from a user and a movie: concatenated embeddings through an MLP.

    The tutorial's shape (dim 32; Dense 256 relu, 64 relu, 1; MSE; RMSE), every width and
    optimizer configurable. `model.features` adds side features of the data: their
    embeddings (ids, multi-hot, sequences averaged) or standardized values are concatenated
    after the user and item embeddings. Tables are declared, not built: the backend realizes
    them.
    """

    def __init__(self, config, data):
        super().__init__(config, data)
        initializer = config.embeddings_initializer
        if OmegaConf.is_config(initializer):
            initializer = OmegaConf.to_container(initializer)
        self.inputs = declare_inputs(
            data,
            list(config.features),
            config.embedding_dim,
            OptimizerSpec.from_config(config.table_optimizer),
            initializer,
        )

    def features(self):
        return list(self.inputs.features)

    def tables(self):
        return list(self.inputs.tables)

    def build(self, embeddings, global_batch_size):
        inputs = feature_inputs(self.inputs.features)
        vectors = feature_vectors(self.inputs.features, inputs, embeddings)
        x = keras.layers.Concatenate(name="concatenate")([vectors[f.name] for f in self.inputs.features])
        for i, units in enumerate(self.config.hidden_units):
            x = keras.layers.Dense(units, activation=self.config.activation, name=f"hidden_{i}")(x)
        # float32 whatever the dtype policy: a 16-bit rating would round it to ~3 digits (Keras'
        # mixed-precision guide: keep the model's output layer in float32).
        rating = keras.layers.Dense(1, name="rating", dtype="float32")(x)
        return keras.Model(inputs, rating, name="ranking")

    def optimizer(self):
        return OptimizerSpec.from_config(self.config.optimizer)

    def loss(self):
        return keras.losses.MeanSquaredError()

    def metrics(self):
        return [keras.metrics.RootMeanSquaredError(name="rmse")]
