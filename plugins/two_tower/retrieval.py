"""Brute-force retrieval with a trained two-tower model: query/candidate vectors and top-k.

Metrics (recall@k, NDCG@k, ...) are rsx's shared retrieval evaluation
(`rsx.api.engine.evaluate_retrieval`), fed by `Towers.scorer()`.

Query and candidate vectors come from running the model's towers (`model.predict` on a
sub-model that shares the trained layers), in batches of exactly the global batch size: the
only shape some backends' embedding layers accept (SparseCore), and one that divides over
every data-parallel device. Nothing reads a table's variables directly.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import keras
import keras_rs
import numpy as np

from rsx.api import ITEM_ID, USER_ID
from rsx.api.engine import pair_matrix


class Towers:
    """The user and candidate vectors of a trained two-tower model.

    Args:
        model: the trained model; its layers `user_tower` and `candidate_tower` output the
            query and candidate vectors.
        user_tower: name of the layer whose output is the query vector.
        candidate_tower: name of the layer whose output is the candidate vector.
        num_movies: the movie table's rows; candidates are the ids 1 .. num_movies - 1.
        batch_size: rows per `predict` step (the global batch size).
        inputs: (user rows, item rows) -> the model's inputs for those pairs (ids and the side
            features of those users and items, e.g. `rsx.api.engine.entity_inputs`); None = ids only.
    """

    def __init__(self, model, user_tower: str, candidate_tower: str, num_movies: int, batch_size: int,
                 inputs: Optional[Callable[[np.ndarray, np.ndarray], dict]] = None):
        self.model = keras.Model(
            model.input,
            {"user": model.get_layer(user_tower).output, "candidate": model.get_layer(candidate_tower).output},
        )
        self.batch_size = batch_size
        self.inputs = inputs or (lambda users, items: {USER_ID: users, ITEM_ID: items})
        self.candidate_ids = np.arange(1, num_movies, dtype=np.int32)
        self._candidates: Optional[np.ndarray] = None

    def _run(self, user_ids: np.ndarray, item_ids: np.ndarray) -> dict[str, np.ndarray]:
        """Both towers on equally long id arrays, padded to whole batches."""
        rows = len(user_ids)
        padded = -(-rows // self.batch_size) * self.batch_size
        inputs = self.inputs(np.resize(user_ids.astype(np.int32), padded), np.resize(item_ids.astype(np.int32), padded))
        outputs = self.model.predict(inputs, batch_size=self.batch_size, verbose=0)
        return {name: np.asarray(value)[:rows] for name, value in outputs.items()}

    def candidates(self) -> np.ndarray:
        """(candidates, dim) vectors of every movie id, in `candidate_ids` order."""
        if self._candidates is None:
            ids = self.candidate_ids
            self._candidates = self._run(np.ones_like(ids), ids)["candidate"]
        return self._candidates

    def users(self, user_ids: np.ndarray) -> np.ndarray:
        """(users, dim) query vectors."""
        return self._run(user_ids, np.ones_like(user_ids))["user"]

    def scorer(self):
        """user ids (n,) -> (n, candidates) dot-product scores, a keras tensor (computed on
        the backend's device) for `rsx.api.engine.evaluate_retrieval`."""
        candidates = keras.ops.transpose(keras.ops.convert_to_tensor(self.candidates()))
        return lambda user_ids: keras.ops.matmul(keras.ops.convert_to_tensor(self.users(user_ids)), candidates)


@dataclasses.dataclass(frozen=True)
class Recommendations:
    """Each user's top-k candidates, best first."""

    users: np.ndarray  # (users,)
    item_ids: np.ndarray  # (users, k)
    scores: np.ndarray  # (users, k)
    seen_counts: np.ndarray  # (users,) movies each user rated in training


def recommend(towers: Towers, users: np.ndarray, k: int, seen_pairs=None) -> Recommendations:
    """Top-k movies for `users` by brute-force retrieval over every candidate.

    With `seen_pairs`, movies a user already rated are skipped: retrieval asks for
    k + the most any of these users rated, and drops the seen ones.
    """
    candidates = towers.candidates()
    users = np.asarray(users, dtype=np.int32)
    order = np.argsort(users, kind="stable")
    seen = np.empty((len(users), len(candidates)), dtype=bool)
    seen[order] = pair_matrix(users[order], seen_pairs, len(candidates) + 1)
    depth = min(len(candidates), k + int(seen.sum(axis=1).max(initial=0)))
    layer = keras_rs.layers.BruteForceRetrieval(
        candidate_embeddings=candidates, candidate_ids=towers.candidate_ids, k=depth, return_scores=True
    )
    scores, ids = (keras.ops.convert_to_numpy(x) for x in layer(towers.users(users)))
    top_ids = np.zeros((len(users), k), dtype=np.int32)
    top_scores = np.full((len(users), k), np.nan, dtype=np.float32)
    for row in range(len(users)):
        fresh = ~seen[row, ids[row] - 1]
        kept = ids[row][fresh][:k]
        top_ids[row, : len(kept)] = kept
        top_scores[row, : len(kept)] = scores[row][fresh][:k]
    return Recommendations(users, top_ids, top_scores, seen.sum(axis=1))


@dataclasses.dataclass
class RecommendationReport:
    """Recommendations with titles, readable as text and as JSON.

    Args:
        top: the recommendations.
        titles: movie id -> title.
        k: how many per user.
        exclude_seen: whether movies rated in training were left out.
    """

    top: Recommendations
    titles: np.ndarray
    k: int
    exclude_seen: bool

    def _title(self, item_id: int) -> str:
        title = str(self.titles[item_id]) if 0 < item_id < len(self.titles) else ""
        return title or f"movie {item_id}"

    def as_json(self) -> dict:
        return {
            "k": self.k,
            "exclude_seen": self.exclude_seen,
            "users": [
                {
                    "user_id": int(user),
                    "rated_in_training": int(self.top.seen_counts[row]),
                    "top": [
                        {"rank": rank + 1, "item_id": int(movie), "title": self._title(int(movie)), "score": float(score)}
                        for rank, (movie, score) in enumerate(zip(self.top.item_ids[row], self.top.scores[row]))
                        if movie > 0
                    ],
                }
                for row, user in enumerate(self.top.users)
            ],
        }

    def text(self) -> str:
        left_out = ", movies rated in training left out" if self.exclude_seen else ""
        lines = [f"Top {self.k} movies by brute-force retrieval{left_out}", ""]
        for user in self.as_json()["users"]:
            lines.append(f"user {user['user_id']} (rated {user['rated_in_training']} movies in training)")
            lines += [f"  {m['rank']:>2}. {m['title']:<50} {m['score']:.3f}" for m in user["top"]]
            lines.append("")
        return "\n".join(lines)
