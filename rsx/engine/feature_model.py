"""The base of the models that read side features (ranking, dcn, dlrm): inputs from the config.

What those models share is how they get their inputs: the same config keys declare the same
features and tables, and every feature becomes one vector. What they do with the vectors
(an MLP, cross layers, dot interactions) is each model's own `build`.
"""

from __future__ import annotations

import keras
from omegaconf import OmegaConf

from rsx.contract import ModelPlugin, OptimizerSpec
from rsx.data.prepared import RATING
from rsx.engine.feature_vectors import feature_inputs, feature_vectors
from rsx.engine.targets import target_of
from rsx.model_inputs import declare_inputs


class FeatureModel(ModelPlugin):
    """A model over the user and item ids plus the side features its config names.

    Reads these keys of its config dataclass: `features` (schema names; None = every side
    feature of the data, [] = ids only), `embedding_dim` (every table's width),
    `embeddings_initializer` (a Keras initializer name or a serialized one),
    `table_optimizer` (the tables' own `OptimizerConfig`, or None) and `optimizer` (the dense
    part's). `self.inputs` holds the declared `ModelInputs`.

    Example:

        class MlpModel(FeatureModel):
            def build(self, embeddings, global_batch_size):
                inputs, vectors = self.input_vectors(embeddings)
                x = keras.layers.Concatenate()([vectors[f.name] for f in self.inputs.features])
                return keras.Model(inputs, keras.layers.Dense(1)(x))
    """

    def __init__(self, config, data):
        super().__init__(config, data)
        initializer = config.embeddings_initializer
        if OmegaConf.is_config(initializer):  # a serialized initializer given as a YAML mapping
            initializer = OmegaConf.to_container(initializer)
        features = None if config.features is None else list(config.features)
        table_optimizer = OptimizerSpec.from_config(config.table_optimizer)
        self.inputs = declare_inputs(data, features, config.embedding_dim, table_optimizer, initializer)

    def features(self):
        return list(self.inputs.features)

    def tables(self):
        return list(self.inputs.tables)

    def optimizer(self):
        return OptimizerSpec.from_config(self.config.optimizer)

    def input_vectors(self, embeddings: keras.layers.Layer) -> tuple[dict, dict]:
        """({feature: keras.Input}, {feature: (batch, width) vector}) of the declared features;
        see `feature_inputs` and `feature_vectors` for the shapes per kind."""
        inputs = feature_inputs(self.inputs.features)
        return inputs, feature_vectors(self.inputs.features, inputs, embeddings)


class TargetModel(FeatureModel):
    """A `FeatureModel` that predicts its config's `target` from the `rating` column.

    Also reads `target` ("regression" | "binary") and `threshold`; the loss, the metrics,
    the last layer (`self.prediction`) and the binary baseline come from that target
    (`rsx.engine.targets`), so a model only builds what lies between its vectors and it.
    """

    def __init__(self, config, data):
        super().__init__(config, data)
        self.target = target_of(config.target, config.threshold)

    def label(self):
        return RATING

    def prediction(self, x):
        """The one-unit last layer on `x` (batch, width): (batch, 1) float32 stars or P(liked)."""
        return self.target.prediction_layer(self.data.train[RATING])(x)

    def loss(self):
        return self.target.loss()

    def metrics(self):
        return self.target.metrics()

    def evaluate_extra(self, model, data):
        """Binary target: the positive-rate predictor's log-loss and AUC (the mean-rating
        baseline is logged by rsx for every model)."""
        return self.target.baseline(data.train[RATING], data.test[RATING])
