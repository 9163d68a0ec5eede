"""The DLRM model's implementation (imports keras and keras-rs)."""

from __future__ import annotations

import keras
import keras_rs

from rsx.api.engine import TargetModel


class DlrmModel(TargetModel):
    """DLRM (Naumov et al. 2019) over ids and side features.

    Numeric features (batch, n) go through the bottom MLP to one (batch, dim) vector; every
    table feature gives a (batch, dim) embedding (multi-hot reduced by its table's combiner,
    sequences averaged). `keras_rs.layers.DotInteraction` takes the pairwise dot products
    of all these vectors, (batch, k(k-1)/2); the top MLP reads [bottom output, products] and
    one unit predicts the rating in stars (regression) or the probability of
    `rating >= threshold` (binary). Without numeric features the top MLP reads the products
    alone. Inputs, loss, metrics and the last layer: `TargetModel`.
    """

    def build(self, embeddings, global_batch_size):
        config = self.config
        inputs, vectors = self.input_vectors(embeddings)
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
        return keras.Model(inputs, self.prediction(x), name="dlrm")
