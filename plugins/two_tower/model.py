"""The two_tower model's implementation (imports keras)."""

from __future__ import annotations

import dataclasses
import logging

import keras
import numpy as np

from rsx.api import ITEM_ID, RATING, USER_ID, ConfigError, ModelPlugin, OptimizerSpec, declare_inputs
from rsx.api.engine import RetrievalEvaluation, RetrievalValidation, entity_inputs, evaluate_retrieval
from rsx.api.engine import feature_inputs, feature_vectors, popularity_baseline, relevant_pairs, seen_pairs

from . import retrieval
from .config import check_config
from .softmax import InBatchSoftmax, NegativeSampler, positive_first_softmax_loss

#: Names of the layers whose outputs are the query and candidate vectors.
USER_TOWER = "user_tower"
CANDIDATE_TOWER = "candidate_tower"


def _tower_layers(units: list[int], activation: str, normalize: bool, name: str) -> list:
    """Dense layers (the last one linear), optional L2 normalization, ending in a layer named
    `name` whose output is the tower's vector."""
    layers = [
        keras.layers.Dense(width, activation=None if i == len(units) - 1 else activation, name=f"{name}_{i}")
        for i, width in enumerate(units)
    ]
    if normalize:
        layers.append(keras.layers.UnitNormalization(name=f"{name}_l2"))
    return layers + [keras.layers.Identity(name=name)]


def _tower_input(vectors: dict, id_feature: str, side: list[str], name: str, layers: list[int]):
    """What a tower's layers start from: the id's embedding (batch, dim), with side features.

    With Dense layers the side features' vectors are concatenated to the id's embedding and
    the layers mix them. Without, a linear projection of the side features to the
    embedding's width is added to it (id embedding + W [side vectors]): the tower keeps its
    width and the id path stays as without features (on ml-latest-small a Dense layer over
    the item embedding alone lowers validation recall@10 from 0.19 to 0.15,
    benchmarks/results/retrieval_side_features.json).
    """
    if not side:
        return vectors[id_feature]
    if layers:
        return keras.layers.Concatenate(name=name)([vectors[id_feature], *(vectors[f] for f in side)])
    mixed = vectors[side[0]] if len(side) == 1 else keras.layers.Concatenate(name=name)([vectors[f] for f in side])
    width = vectors[id_feature].shape[-1]
    projected = keras.layers.Dense(width, name=f"{name}_projection")(mixed)
    return keras.layers.Add(name=f"{name}_added")([vectors[id_feature], projected])


def _check_entity(data, entity: str, names: list[str]) -> None:
    """ConfigError naming model.<entity>_features for a name that is not a per-<entity> feature."""
    have = [f.name for f in data.schema.features if f.entity == entity]
    for name in names:
        if name not in have:
            raise ConfigError(
                f"model.{entity}_features names '{name}', which is not a per-{entity} side feature of "
                f"data '{data.name}' (it has: {', '.join(have) or 'none'})",
                # The users' history exists only when the data is asked for it.
                "set data.history_length=N (each user's latest N training items)"
                if (entity, name) == ("user", "history") else f"remove '{name}' from model.{entity}_features",
            )


def _apply(layers, x):
    for layer in layers:
        x = layer(x)
    return x


class TwoTowerModel(ModelPlugin):
    """Scores a (user, item) pair by the dot product of a user and a candidate tower.

    `model.loss=mse` is the KerasRS data-parallel retrieval tutorial: embedding tables of
    width 32 (optionally Dense layers on top), score = user . candidate, MSE against the label
    (rating - 1) / 4, Adagrad 0.2; the Keras model maps {user_id, item_id} -> score.
    `softmax` / `sampled_softmax` train retrieval as TFRS's `tasks.Retrieval` does: each
    user against the batch's candidates (see `softmax.py`); the Keras model then maps a batch
    to (batch, 1 + negatives) logits, the positive first. `model.user_features` /
    `model.item_features` add per-user / per-item side features to a tower (see
    `_tower_input`); the model's inputs are then the ids plus those features.

    Retrieval (top-k over every item) runs after training and at each validation: candidate
    vectors are computed *through the candidate tower*, never read from a table's variables,
    so it also works where tables are not plain variables.
    """

    def __init__(self, config, data):
        super().__init__(config, data)
        check_config(config)
        self.evaluation = RetrievalEvaluation.from_config(config)
        if data.schema.target == "implicit" and self.evaluation.relevance == "rating_at_least":
            # Implicit data has no ratings to threshold: every held-out interaction is relevant.
            self.evaluation = dataclasses.replace(self.evaluation, relevance="all")
            logging.getLogger("rsx").warning(
                "rsx: data '%s' is implicit: model.relevance=rating_at_least becomes all "
                "(every held-out interaction is relevant)", data.name)
        num_items = data.vocabulary_sizes[ITEM_ID]
        self.evaluation.check(num_items - 1)
        if config.top_k > num_items - 1:
            raise ConfigError(
                f"model.top_k={config.top_k} but the catalogue has {num_items - 1} items",
                f"use model.top_k between 1 and {num_items - 1}",
            )
        if config.top_k not in self.evaluation.metrics_k:  # The main metric is recall at top_k.
            ks = tuple(sorted({*self.evaluation.metrics_k, int(config.top_k)}))
            self.evaluation = dataclasses.replace(self.evaluation, metrics_k=ks)
        if config.loss == "sampled_softmax" and config.num_negatives > num_items - 1:
            raise ConfigError(
                f"model.num_negatives={config.num_negatives} but the catalogue has {num_items - 1} items",
                f"use at most {num_items - 1} sampled negatives",
            )
        self.side = {"user": list(config.user_features), "item": list(config.item_features)}
        for entity, names in self.side.items():
            _check_entity(data, entity, names)
        # Sequences (e.g. a user's history of items) become bags: the towers have no order-aware part.
        self.inputs = declare_inputs(data, [*self.side["user"], *self.side["item"]], config.embedding_dim,
                                     OptimizerSpec.from_config(config.table_optimizer), sequences_as_bags=True)

    def features(self):
        return list(self.inputs.features)

    def tables(self):
        return list(self.inputs.tables)

    def train_rows(self, data):
        """The rows rated at least `model.train_min_rating` (None = all rows)."""
        if self.config.train_min_rating is None:
            return None
        keep = data.train[RATING] >= self.config.train_min_rating
        if not keep.any():
            raise ConfigError(
                f"model.train_min_rating={self.config.train_min_rating} keeps no training row",
                "lower it, or set it to null to train on every row",
            )
        return keep

    def _item_shares(self) -> np.ndarray:
        """(num_items,) each item's share of the rows trained on; row 0 is 0."""
        num_items = self.data.vocabulary_sizes[ITEM_ID]
        keep = self.train_rows(self.data)
        items = self.data.train[ITEM_ID] if keep is None else self.data.train[ITEM_ID][keep]
        counts = np.bincount(items, minlength=num_items)[:num_items].astype(np.float64)
        counts[0] = 0
        return (counts / max(counts.sum(), 1.0)).astype(np.float32)

    def _sampler_probability(self) -> np.ndarray:
        num_items = self.data.vocabulary_sizes[ITEM_ID]
        if self.config.negative_sampler == "popularity":
            return self._item_shares()
        uniform = np.full(num_items, 1.0 / (num_items - 1), dtype=np.float32)
        uniform[0] = 0
        return uniform

    def build(self, embeddings, global_batch_size):
        self.global_batch_size = global_batch_size  # Candidate lookups after training use it.
        config = self.config  # Tower widths are checked by `spec.check` before this runs.
        inputs = feature_inputs(self.inputs.features)
        vectors = feature_vectors(self.inputs.features, inputs, embeddings)
        user_tower = _tower_layers(list(config.user_layers), config.activation, config.normalize, USER_TOWER)
        candidate_tower = _tower_layers(
            list(config.candidate_layers), config.activation, config.normalize, CANDIDATE_TOWER
        )
        user_input = _tower_input(vectors, USER_ID, self.side["user"], "user_features", config.user_layers)
        user = _apply(user_tower, user_input)
        item_input = _tower_input(vectors, ITEM_ID, self.side["item"], "item_features", config.candidate_layers)
        candidate = _apply(candidate_tower, item_input)
        if config.loss == "mse":
            # float32 whatever the dtype policy (Keras' mixed-precision guide: the output layer).
            score = keras.layers.Dot(axes=1, name="score", dtype="float32")([user, candidate])
            return keras.Model(inputs, score, name="two_tower")
        sampled = config.loss == "sampled_softmax" and config.num_negatives > 0
        negatives = negative_ids = None
        if sampled:
            negative_ids = NegativeSampler(
                self._sampler_probability(), config.num_negatives, name="negative_sampler"
            )(inputs[ITEM_ID])
            negatives = _apply(candidate_tower, embeddings({ITEM_ID: negative_ids})[ITEM_ID])
        logits = InBatchSoftmax(
            item_probability=self._item_shares() if config.logq_correction else None,
            temperature=config.temperature,
            remove_hits=config.remove_accidental_hits,
            num_hard_negatives=config.num_hard_negatives,
            sampler_probability=self._sampler_probability() if sampled else None,
            num_negatives=config.num_negatives if sampled else 0,
            name="in_batch_logits",
        )(user, candidate, inputs[ITEM_ID], negatives, negative_ids)
        return keras.Model(inputs, logits, name="two_tower")

    def optimizer(self):
        return OptimizerSpec.from_config(self.config.optimizer)

    def loss(self):
        if self.config.loss == "mse":
            return keras.losses.MeanSquaredError()
        return positive_first_softmax_loss

    # ----------------------------------------------------------------- retrieval

    def _towers(self, model, data=None) -> retrieval.Towers:
        data = self.data if data is None else data
        return retrieval.Towers(
            model,
            user_tower=USER_TOWER,
            candidate_tower=CANDIDATE_TOWER,
            num_movies=data.vocabulary_sizes[ITEM_ID],
            batch_size=self.global_batch_size or 1024,
            inputs=lambda users, items: entity_inputs(data, self.inputs.features, users, items),
        )

    def callbacks(self, data, validation_freq):
        """`val_recall_at_k` etc. every trainer.validation_freq epochs (see rsx retrieval_eval)."""
        return [RetrievalValidation(lambda m: self._towers(m, data).scorer(), data, self.evaluation, validation_freq)]

    def evaluate_extra(self, model, data, split="test"):
        """Full-catalogue retrieval metrics on `split` (`test_*`, or `val_*` for validation)
        and the most-popular baseline's under the same code (`baseline_test_*` / `baseline_val_*`)."""
        metrics = evaluate_retrieval(
            self._towers(model, data).scorer(),
            data.vocabulary_sizes[ITEM_ID],
            relevant_pairs(data.split(split), self.evaluation),
            seen_pairs(data, split),
            self.evaluation,
            prefix="val_" if split == "validation" else "test_",
            users=data.split(split)[USER_ID],
        )
        metrics.update(popularity_baseline(data, self.evaluation, split))
        return metrics

    def artifacts(self, model, data):
        """The top-k titles for `sample_users`, as `top_<k>.txt` and `top_<k>.json`."""
        k = self.config.top_k
        num_users = data.vocabulary_sizes[USER_ID]
        wanted = dict.fromkeys(int(u) for u in self.config.sample_users if 0 < u < num_users)
        users = np.array(list(wanted), dtype=np.int32)
        if users.size == 0:
            return {}
        seen = seen_pairs(data, "test") if self.config.exclude_seen else None
        top = retrieval.recommend(self._towers(model, data), users, k=k, seen_pairs=seen)
        report = retrieval.RecommendationReport(top, titles=data.titles, k=k, exclude_seen=self.config.exclude_seen)
        return {f"top_{k}.txt": report.text(), f"top_{k}.json": report.as_json()}
