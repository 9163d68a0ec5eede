"""The ranking model's implementation (imports keras)."""

from __future__ import annotations

import keras
from omegaconf import OmegaConf

from rsx.api import ITEM_ID, USER_ID, FeatureSpec, ModelPlugin, OptimizerSpec, TableSpec


#: Feature -> the table it is looked up in (the tutorial's names).
TABLES = {USER_ID: "user_table", ITEM_ID: "movie_table"}


class RankingModel(ModelPlugin):
    """Predicts a rating from a user and a movie: concatenated embeddings through an MLP.

    The tutorial's shape (dim 32; Dense 256 relu, 64 relu, 1; MSE; RMSE), every width and
    optimizer configurable. Tables are declared, not built: the backend realizes them.
    """

    def features(self):
        return [FeatureSpec(feature, table) for feature, table in TABLES.items()]

    def tables(self):
        table_optimizer = OptimizerSpec.from_config(self.config.table_optimizer)
        initializer = self.config.embeddings_initializer
        if OmegaConf.is_config(initializer):
            initializer = OmegaConf.to_container(initializer)
        return [
            TableSpec(
                name=table,
                vocabulary_size=self.data.vocabulary_sizes[feature],
                embedding_dim=self.config.embedding_dim,
                optimizer=table_optimizer,
                initializer=initializer,
            )
            for feature, table in TABLES.items()
        ]

    def build(self, embeddings, global_batch_size):
        inputs = {f.name: keras.Input(shape=(), dtype="int32", name=f.name) for f in self.features()}
        vectors = embeddings(inputs)
        x = keras.layers.Concatenate(name="concatenate")([vectors[USER_ID], vectors[ITEM_ID]])
        for i, units in enumerate(self.config.hidden_units):
            x = keras.layers.Dense(units, activation=self.config.activation, name=f"hidden_{i}")(x)
        rating = keras.layers.Dense(1, name="rating")(x)
        return keras.Model(inputs, rating, name="ranking")

    def optimizer(self):
        return OptimizerSpec.from_config(self.config.optimizer)

    def loss(self):
        return keras.losses.MeanSquaredError()

    def metrics(self):
        return [keras.metrics.RootMeanSquaredError(name="rmse")]
