"""Retrieval evaluation shared by every retrieval model: full ranking over the item catalogue.

A retrieval model hands over a *scorer*: user ids (n,) -> scores (n, num_candidates) for every
candidate item (item rows 1 .. num_items - 1; row 0 is out-of-vocabulary and never ranked).
This module ranks the whole catalogue for each evaluated user, drops the items the user was
seen with in training (option), and scores the top k with keras-rs' ranking metrics:

    recall@k     keras_rs.metrics.RecallAtK      hits in the top k / the user's relevant items
    ndcg@k       keras_rs.metrics.NDCG           binary gain, log2 discount, ideal = sorted labels
    mrr@k        keras_rs.metrics.MeanReciprocalRank   1 / rank of the first hit in the top k
    precision@k  keras_rs.metrics.PrecisionAtK   hits in the top k / k
    hit_rate@k   own (keras-rs has none): share of users with at least one hit in the top k

Each metric is the mean over the users who have at least one relevant item left after the
seen ones are removed (RecBole's convention); users without one are excluded and counted
(`<split>_retrieval_users_excluded`), never scored as zero. Ties in score are broken by item
row (the lower row first), the same on every backend (see `ranked_lists`); seen items are
pushed to the bottom by their score.

Memory: users are scored in chunks (`user_chunk` x num_candidates floats at a time), so no
users x items matrix exists beyond one chunk; the scores are keras tensors, on the backend's
devices.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from typing import Any, Callable, Iterable, Optional

import keras
import keras_rs
import numpy as np

from rsx.data.prepared import ITEM_ID, RATING, USER_ID, PreparedData
from rsx.errors import ConfigError, DataError

log = logging.getLogger("rsx")

#: Relevance rules: `rating_at_least` (rated >= threshold) | `all` (every held-out interaction).
RELEVANCE_RULES = ("rating_at_least", "all")
#: Metric names, in the order they are reported.
METRICS = ("recall", "ndcg", "mrr", "precision", "hit_rate")
#: Users scored per chunk.
USER_CHUNK = 1024
#: Score given to excluded (seen) items: below any real score, above -inf (keeps top_k exact).
EXCLUDED_SCORE = -1e30

#: user ids (n,) int32 -> scores (n, num_candidates) over item rows 1 .. num_items - 1.
Scorer = Callable[[np.ndarray], "keras.KerasTensor"]


@dataclasses.dataclass(frozen=True)
class RetrievalEvaluation:
    """How retrieval is judged.

    Args:
        metrics_k: the cut-offs k; each must be at most the number of candidate items.
        relevance: `rating_at_least` or `all` (RecBole's: every held-out interaction).
        relevant_rating: the threshold of `rating_at_least` (original rating scale).
        exclude_seen: drop each user's training items from their ranking.
        user_chunk: users scored at once (memory: user_chunk x num_items float32).
    """

    metrics_k: tuple[int, ...] = (10, 20, 50)
    relevance: str = "rating_at_least"
    relevant_rating: float = 4.0
    exclude_seen: bool = True
    user_chunk: int = USER_CHUNK

    @classmethod
    def from_config(cls, config) -> "RetrievalEvaluation":
        """From a model config with keys metrics_k, relevance, relevant_rating, exclude_seen."""
        return cls(
            metrics_k=tuple(int(k) for k in config.metrics_k),
            relevance=str(config.relevance),
            relevant_rating=float(config.relevant_rating),
            exclude_seen=bool(config.exclude_seen),
        )

    def check(self, num_candidates: int) -> None:
        """ConfigError for a k past the catalogue or an unknown relevance rule."""
        if self.relevance not in RELEVANCE_RULES:
            raise ConfigError(
                f"model.relevance={self.relevance!r} is not a relevance rule",
                f"use one of: {', '.join(RELEVANCE_RULES)}",
            )
        if not self.metrics_k:
            raise ConfigError("model.metrics_k is empty", "give at least one cut-off, e.g. [10, 20, 50]")
        for k in self.metrics_k:
            if not 1 <= k <= num_candidates:
                raise ConfigError(
                    f"model.metrics_k has k={k} but the catalogue has {num_candidates} items",
                    f"use cut-offs between 1 and {num_candidates}, e.g. 'model.metrics_k=["
                    f"{','.join(str(k) for k in sorted({min(5, num_candidates), min(10, num_candidates)}))}]'",
                )


def relevant_pairs(split: dict, evaluation: RetrievalEvaluation) -> tuple[np.ndarray, np.ndarray]:
    """(user ids, item ids) of the split's relevant interactions under `evaluation.relevance`."""
    users, items = split[USER_ID], split[ITEM_ID]
    if evaluation.relevance == "all":
        return users, items
    keep = split[RATING] >= evaluation.relevant_rating
    return users[keep], items[keep]


def seen_pairs(data: PreparedData, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The interactions known before `split`: training rows for validation; training and
    validation rows (everything but the test split) for test."""
    parts = [data.train]
    if split == "test" and not data.validation_is_test:
        parts.append(data.validation)
    return (np.concatenate([p[USER_ID] for p in parts]), np.concatenate([p[ITEM_ID] for p in parts]))


def pair_matrix(users: np.ndarray, pairs, num_items: int) -> np.ndarray:
    """bool (len(users), num_items - 1): True where (user, item) is among `pairs`.

    `users` is sorted and unique; column j is item row j + 1.
    """
    matrix = np.zeros((len(users), num_items - 1), dtype=bool)
    if pairs is None or len(users) == 0:
        return matrix
    pair_users, pair_items = (np.asarray(p) for p in pairs)
    rows = np.minimum(np.searchsorted(users, pair_users), len(users) - 1)
    hit = (users[rows] == pair_users) & (pair_items >= 1) & (pair_items < num_items)
    matrix[rows[hit], pair_items[hit] - 1] = True
    return matrix


class _HitRate:
    """Share of users with at least one relevant item in the top k (keras-rs has no hit rate)."""

    def __init__(self, k: int):
        self.k, self.hits, self.users = k, 0.0, 0

    def update_state(self, ranked_labels: np.ndarray):
        self.hits += float((ranked_labels[:, : self.k] > 0).any(axis=1).sum())
        self.users += len(ranked_labels)

    def result(self):
        return self.hits / self.users


def _metric(name: str, k: int):
    if name == "hit_rate":
        return _HitRate(k)
    cls = {
        "recall": keras_rs.metrics.RecallAtK,
        "ndcg": keras_rs.metrics.NDCG,
        "mrr": keras_rs.metrics.MeanReciprocalRank,
        "precision": keras_rs.metrics.PrecisionAtK,
    }[name]
    return cls(k=k)


def ranked_lists(scores, labels: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """What keras-rs' metrics are fed: each user's top `depth` labels in rank order, then the
    relevant items ranked below `depth` (so recall and the ideal DCG see every relevant item).

    keras-rs 0.4 shuffles tied scores randomly whatever `shuffle_ties` says (its metrics always
    pass a mask, and a mask turns shuffling on), so rsx ranks with `keras.ops.top_k` (stable:
    the lower item row first on JAX and TensorFlow) and hands keras-rs strictly decreasing
    scores. Only (users, depth) indices leave the device.

    Args:
        scores: (n, items) float tensor.
        labels: (n, items) bool, relevant and unseen.
        depth: the largest k.
    Returns:
        labels (n, L) float32 (1 relevant, 0 not, -1 padding that keras-rs masks out) and
        scores (n, L) float32, L = depth + the most relevant items any user has below depth.
    """
    _, top = keras.ops.top_k(scores, k=depth, sorted=True)
    top_labels = np.take_along_axis(labels, keras.ops.convert_to_numpy(top), axis=1).astype(np.float32)
    missing = labels.sum(axis=1) - top_labels.sum(axis=1)
    tail = np.where(np.arange(int(missing.max()))[None, :] < missing[:, None], 1.0, -1.0).astype(np.float32)
    ranked = np.concatenate([top_labels, tail], axis=1)
    order = np.broadcast_to(-np.arange(ranked.shape[1], dtype=np.float32), ranked.shape)
    return ranked, order


def entity_inputs(data: PreparedData, features, users: np.ndarray, items: np.ndarray) -> dict[str, np.ndarray]:
    """A retrieval model's inputs for (user, item) rows, read from the data's entity tables.

    Scoring the whole catalogue runs the towers on rows that are no interaction of any split,
    so their side features come from `data.user_features` / `data.item_features` (indexed by
    the dense id row), never from a split's columns.

    Args:
        data: the prepared data.
        features: the model's `FeatureSpec`s: `user_id`, `item_id` and per-user or per-item
            side features.
        users: (n,) int user rows; items: (n,) int item rows.
    Returns:
        feature -> (n,) int32 ids, (n, max_length) int32 padded ids, or (n,) float32 values.
    Raises:
        DataError: a feature that is neither an id nor a user or item feature of the data.
    """
    rows = {USER_ID: np.asarray(users, np.int32), ITEM_ID: np.asarray(items, np.int32)}
    out = {}
    for feature in features:
        if feature.name in rows:
            out[feature.name] = rows[feature.name]
            continue
        for entity, tables in ((USER_ID, data.user_features), (ITEM_ID, data.item_features)):
            if feature.name in tables:
                values = np.asarray(tables[feature.name])[rows[entity]]
                break
        else:
            raise DataError(
                f"model feature '{feature.name}' is not a user or item feature of data '{data.name}'",
                "give a retrieval tower only per-user or per-item side features",
            )
        if feature.kind == "numeric":
            out[feature.name] = values.astype(np.float32)
        elif feature.kind == "id":
            out[feature.name] = values.astype(np.int32)
        else:
            out[feature.name] = values.astype(np.int32).reshape(len(values), feature.max_length)
    return out


def evaluate_retrieval(
    scorer: Scorer,
    num_items: int,
    relevant: tuple[np.ndarray, np.ndarray],
    seen: Optional[tuple[np.ndarray, np.ndarray]],
    evaluation: RetrievalEvaluation,
    prefix: str,
    users: Optional[np.ndarray] = None,
) -> dict[str, float]:
    """Full-catalogue ranking metrics for every user with a relevant item.

    Args:
        scorer: user ids (n,) int32 -> (n, num_items - 1) float scores (keras tensor or array).
        num_items: the item table's rows (row 0 = out of vocabulary, not a candidate).
        relevant: (user ids, item ids) of the relevant held-out interactions.
        seen: (user ids, item ids) left out of each user's ranking, or None.
        evaluation: cut-offs and rules; `exclude_seen=False` ignores `seen`.
        prefix: metric name prefix, e.g. "val_" or "test_" or "baseline_test_".
        users: the users of the held-out split (the denominator of the excluded count);
            None = the users of `relevant`.

    Returns:
        `{prefix}{metric}_at_{k}` for every metric and k, `{prefix}retrieval_users` (users
        scored) and `{prefix}retrieval_users_excluded` (users of the split without a relevant
        unseen item). With no user to score, only the two counts come back and a
        warning says why: a metric is missing, never NaN.
    """
    evaluation.check(num_items - 1)
    if not evaluation.exclude_seen:
        seen = None
    metrics = {(name, k): _metric(name, k) for k in evaluation.metrics_k for name in METRICS}
    all_users = np.unique(relevant[0] if users is None else np.concatenate([users, relevant[0]]))
    users = np.unique(relevant[0]).astype(np.int32)
    scored = 0
    for start in range(0, len(users), evaluation.user_chunk):
        chunk = users[start : start + evaluation.user_chunk]
        labels = pair_matrix(chunk, relevant, num_items)
        excluded = pair_matrix(chunk, seen, num_items)
        labels &= ~excluded  # A relevant item seen in training is not there to be retrieved.
        keep = labels.any(axis=1)
        if not keep.any():
            continue
        chunk, labels, excluded = chunk[keep], labels[keep], excluded[keep]
        scores = keras.ops.convert_to_tensor(scorer(chunk), dtype="float32")
        scores = keras.ops.where(keras.ops.convert_to_tensor(excluded), EXCLUDED_SCORE, scores)
        ranked, order = ranked_lists(scores, labels, max(evaluation.metrics_k))
        for metric in metrics.values():
            if isinstance(metric, _HitRate):
                metric.update_state(ranked)
            else:
                metric.update_state(ranked, order)
        scored += len(chunk)
    out = {f"{prefix}retrieval_users": float(scored), f"{prefix}retrieval_users_excluded": float(len(all_users) - scored)}
    if scored == 0:
        rule = (
            f"rating >= {evaluation.relevant_rating}" if evaluation.relevance == "rating_at_least" else "any interaction"
        )
        log.warning(
            "rsx: no user has a relevant (%s%s) item in this split; %s retrieval metrics are missing "
            "(fix: lower model.relevant_rating or use model.relevance=all)",
            rule,
            ", unseen in training" if seen is not None else "",
            prefix.rstrip("_") or "the",
        )
        return out
    for (name, k), metric in metrics.items():
        out[f"{prefix}{name}_at_{k}"] = float(metric.result())
    return out


def popularity_scorer(train_items: np.ndarray, num_items: int) -> Scorer:
    """Most-popular: every user gets each item's count of training interactions as its score."""
    counts = np.bincount(np.asarray(train_items), minlength=num_items)[1:num_items].astype(np.float32)
    row = keras.ops.convert_to_tensor(counts[None, :])
    return lambda users: keras.ops.broadcast_to(row, (len(users), num_items - 1))


def popularity_baseline(data: PreparedData, evaluation: RetrievalEvaluation, split: str = "test") -> dict[str, float]:
    """`baseline_test_*` (or `baseline_val_*`): the most-popular ranking, scored by the same
    code on the same split; popularity = interactions before `split` (see `seen_pairs`)."""
    num_items = data.vocabulary_sizes[ITEM_ID]
    known = seen_pairs(data, split)
    return evaluate_retrieval(
        popularity_scorer(known[1], num_items),
        num_items,
        relevant_pairs(data.split(split), evaluation),
        known,
        evaluation,
        prefix="baseline_val_" if split == "validation" else f"baseline_{split}_",
        users=data.split(split)[USER_ID],
    )


class RetrievalValidation(keras.callbacks.Callback):
    """Adds `val_<metric>_at_<k>` to the epoch's logs every `validation_freq` epochs.

    Put it before the callback that records the logs (rsx's EpochMetrics), so the numbers go
    to MLflow with the epoch's other metrics, and before early stopping, which may watch
    them (`logged_metrics` lists their names).

    Args:
        make_scorer: model -> Scorer, called after each validated epoch (the towers changed).
        data: the prepared data; relevant items come from its validation split.
        evaluation: cut-offs and rules.
        validation_freq: every how many epochs (trainer.validation_freq).
    """

    def __init__(self, make_scorer: Callable[[keras.Model], Scorer], data: PreparedData,
                 evaluation: RetrievalEvaluation, validation_freq: int):
        super().__init__()
        self.make_scorer = make_scorer
        self.num_items = data.vocabulary_sizes[ITEM_ID]
        self.relevant = relevant_pairs(data.validation, evaluation)
        self.seen = seen_pairs(data, "validation")
        self.users = data.validation[USER_ID]
        self.evaluation = evaluation
        self.validation_freq = validation_freq
        #: What it adds to the validated epochs' logs: early stopping may watch any of them.
        self.logged_metrics = tuple(metric_names("val_", evaluation.metrics_k))

    #: The backend's inference context (`BackendPlugin.inference_scope`), set by rsx before
    #: training: on several processes, towers run outside fit only inside it.
    scope: Callable[[], Any] = contextlib.nullcontext

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or (epoch + 1) % self.validation_freq:
            return
        with self.scope():
            logs.update(
                evaluate_retrieval(
                    self.make_scorer(self.model), self.num_items, self.relevant, self.seen, self.evaluation, "val_",
                    users=self.users,
                )
            )


def metric_names(prefix: str, ks: Iterable[int]) -> list[str]:
    """`{prefix}{metric}_at_{k}` in report order."""
    return [f"{prefix}{name}_at_{k}" for k in ks for name in METRICS]
