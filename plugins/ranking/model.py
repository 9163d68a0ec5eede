"""The ranking model's implementation (imports keras)."""

from __future__ import annotations

import keras

from rsx.api.engine import FeatureModel


class RankingModel(FeatureModel):
    """Predicts a rating from a user and a movie: concatenated embeddings through an MLP.

    The tutorial's shape (dim 32; Dense 256 relu, 64 relu, 1; MSE; RMSE), every width and
    optimizer configurable. `model.features` adds side features of the data: their
    embeddings (ids, multi-hot, sequences averaged) or standardized values are concatenated
    after the user and item embeddings. Tables are declared (`FeatureModel`), not built: the
    backend realizes them.
    """

    def build(self, embeddings, global_batch_size):
        inputs, vectors = self.input_vectors(embeddings)
        x = keras.layers.Concatenate(name="concatenate")([vectors[f.name] for f in self.inputs.features])
        for i, units in enumerate(self.config.hidden_units):
            x = keras.layers.Dense(units, activation=self.config.activation, name=f"hidden_{i}")(x)
        # float32 whatever the dtype policy: a 16-bit rating would round it to ~3 digits (Keras'
        # mixed-precision guide: keep the model's output layer in float32).
        rating = keras.layers.Dense(1, name="rating", dtype="float32")(x)
        return keras.Model(inputs, rating, name="ranking")

    def loss(self):
        return keras.losses.MeanSquaredError()

    def metrics(self):
        return [keras.metrics.RootMeanSquaredError(name="rmse")]
