"""The two_tower model's implementation (imports keras)."""

from __future__ import annotations

import keras
import numpy as np

from rsx.api import ITEM_ID, RATING, USER_ID, FeatureSpec, ModelPlugin, OptimizerSpec, TableSpec

from . import retrieval

#: Feature -> the table it is looked up in.
TABLES = {USER_ID: "user_table", ITEM_ID: "movie_table"}
#: Names of the layers whose outputs are the query and candidate vectors.
USER_TOWER = "user_tower"
CANDIDATE_TOWER = "candidate_tower"


def _tower(x, units: list[int], activation: str, name: str):
    """Dense layers on an embedding (the last one linear), ending in a layer named `name`."""
    for i, width in enumerate(units):
        last = i == len(units) - 1
        x = keras.layers.Dense(width, activation=None if last else activation, name=f"{name}_{i}")(x)
    return keras.layers.Identity(name=name)(x)


class TwoTowerModel(ModelPlugin):
    """Scores a (user, movie) pair by the dot product of a user and a candidate tower.

    The KerasRS data-parallel retrieval tutorial: embedding tables of width 32 (optionally
    Dense layers on top), score = user . candidate, MSE against the label (rating - 1) / 4,
    Adagrad 0.2. The Keras model maps {user_id, item_id} -> score, so it trains and
    evaluates like any rsx model on any backend. Retrieval (top-k over every movie) runs
    after training: candidate vectors are computed *through the candidate tower*, never read
    from a table's variables, so it also works where tables are not plain variables.
    """

    def features(self):
        return [FeatureSpec(feature, table) for feature, table in TABLES.items()]

    def tables(self):
        table_optimizer = OptimizerSpec.from_config(self.config.table_optimizer)
        return [
            TableSpec(
                name=table,
                vocabulary_size=self.data.vocabulary_sizes[feature],
                embedding_dim=self.config.embedding_dim,
                optimizer=table_optimizer,
            )
            for feature, table in TABLES.items()
        ]

    def build(self, embeddings, global_batch_size):
        self.global_batch_size = global_batch_size  # Candidate lookups after training use it.
        config = self.config  # Tower widths are checked by `spec.check` before this runs.
        inputs = {f.name: keras.Input(shape=(), dtype="int32", name=f.name) for f in self.features()}
        vectors = embeddings(inputs)
        user = _tower(vectors[USER_ID], list(config.user_layers), config.activation, USER_TOWER)
        candidate = _tower(vectors[ITEM_ID], list(config.candidate_layers), config.activation, CANDIDATE_TOWER)
        score = keras.layers.Dot(axes=1, name="score")([user, candidate])
        return keras.Model(inputs, score, name="two_tower")

    def optimizer(self):
        return OptimizerSpec.from_config(self.config.optimizer)

    def loss(self):
        return keras.losses.MeanSquaredError()

    # ----------------------------------------------------------------- retrieval

    def _towers(self, model) -> retrieval.Towers:
        return retrieval.Towers(
            model,
            user_tower=USER_TOWER,
            candidate_tower=CANDIDATE_TOWER,
            num_movies=self.data.vocabulary_sizes[ITEM_ID],
            batch_size=self.global_batch_size or 1024,
        )

    def evaluate_extra(self, model, data):
        """`test_recall_at_k` and `test_ndcg_at_k` of brute-force retrieval on the test split."""
        test, train = data.test, data.train
        relevant = test[RATING] >= self.config.relevant_rating
        seen = (train[USER_ID], train[ITEM_ID]) if self.config.exclude_seen else None
        quality = retrieval.retrieval_quality(
            self._towers(model),
            relevant_pairs=(test[USER_ID][relevant], test[ITEM_ID][relevant]),
            seen_pairs=seen,
            k=self.config.top_k,
        )
        k = self.config.top_k
        return {
            f"test_recall_at_{k}": quality.recall,
            f"test_ndcg_at_{k}": quality.ndcg,
            "test_retrieval_users": float(quality.users),
        }

    def artifacts(self, model, data):
        """The top-k titles for `sample_users`, as `top_<k>.txt` and `top_<k>.json`."""
        k = self.config.top_k
        num_users = data.vocabulary_sizes[USER_ID]
        wanted = dict.fromkeys(int(u) for u in self.config.sample_users if 0 < u < num_users)
        users = np.array(list(wanted), dtype=np.int32)
        if users.size == 0:
            return {}
        seen = (data.train[USER_ID], data.train[ITEM_ID]) if self.config.exclude_seen else None
        top = retrieval.recommend(self._towers(model), users, k=k, seen_pairs=seen)
        report = retrieval.RecommendationReport(top, titles=data.titles, k=k, exclude_seen=self.config.exclude_seen)
        return {f"top_{k}.txt": report.text(), f"top_{k}.json": report.as_json()}
