"""Run under KERAS_BACKEND=jax (see test_two_tower_retrieval.py): builds two_tower on small
hand-made data, checks retrieval against NumPy, and prints what it found as one JSON line."""

import json
import math

import keras
import numpy as np
from omegaconf import OmegaConf

from rsx.api import PreparedData
from rsx.api.engine import EmbeddingLookup
from rsx_plugins.two_tower.config import TwoTowerConfig
from rsx_plugins.two_tower.model import TwoTowerModel
from rsx_plugins.two_tower.retrieval import RecommendationReport, recommend, retrieval_quality

rng = np.random.default_rng(0)
USERS, MOVIES, K = 12, 30, 5


def columns(rows):
    ratings = rng.integers(1, 6, rows).astype("float32")
    return {
        "user_id": rng.integers(1, USERS + 1, rows).astype("int32"),
        "item_id": rng.integers(1, MOVIES + 1, rows).astype("int32"),
        "label": (ratings - 1) / 4,
        "rating": ratings,
    }


titles = np.array([""] + [f"Movie {i}" for i in range(1, MOVIES + 1)])
data = PreparedData("probe", columns(200), columns(120), {"user_id": USERS + 1, "item_id": MOVIES + 1}, titles)
report = {}


def built(**overrides):
    keras.utils.set_random_seed(0)
    plugin = TwoTowerModel(OmegaConf.structured(TwoTowerConfig(top_k=K, **overrides)), data)
    # 7 is not a divisor of anything here: every lookup is padded.
    model = plugin.build(EmbeddingLookup(plugin.tables(), plugin.features(), name="embeddings"), 7)
    return plugin, model


plugin, model = built()
report["tables"] = [(t.name, t.vocabulary_size, t.embedding_dim, t.optimizer) for t in plugin.tables()]
report["features"] = [(f.name, f.table) for f in plugin.features()]
report["optimizer"] = [plugin.optimizer().name, plugin.optimizer().learning_rate]

# Without Dense layers the towers are the tables: what retrieval computes through the towers
# must be exactly the table rows.
towers = plugin._towers(model)
tables = model.get_layer("embeddings").tables
report["candidates_are_table_rows"] = bool(
    np.allclose(towers.candidates(), keras.ops.convert_to_numpy(tables["movie_table"].embeddings)[1:])
)
users = np.array([3, 1, 7], dtype="int32")
report["users_are_table_rows"] = bool(
    np.allclose(towers.users(users), keras.ops.convert_to_numpy(tables["user_table"].embeddings)[users])
)

# The score the model trains on is the dot product of the towers.
with_layers_plugin, with_layers = built(user_layers=[16, 8], candidate_layers=[8])
pairs = {"user_id": data.test["user_id"][:9], "item_id": data.test["item_id"][:9]}
score = keras.ops.convert_to_numpy(with_layers.predict(pairs, verbose=0))[:, 0]
deep = with_layers_plugin._towers(with_layers)
user_vectors = deep.users(pairs["user_id"])
candidate_vectors = deep.candidates()[pairs["item_id"] - 1]
report["score_is_tower_dot_product"] = bool(np.allclose(score, np.sum(user_vectors * candidate_vectors, axis=1), atol=1e-5))
report["tower_width"] = list(user_vectors.shape)

# recall@k and nDCG@k against a NumPy reference, seen items left out.
scores = towers.users(np.arange(1, USERS + 1, dtype="int32")) @ towers.candidates().T
relevant = np.zeros((USERS + 1, MOVIES + 1), bool)
seen = np.zeros((USERS + 1, MOVIES + 1), bool)
keep = data.test["rating"] >= 4
relevant[data.test["user_id"][keep], data.test["item_id"][keep]] = True
seen[data.train["user_id"], data.train["item_id"]] = True
recalls, ndcgs = [], []
for user in range(1, USERS + 1):
    wanted = relevant[user, 1:] & ~seen[user, 1:]
    if not wanted.any():
        continue
    order = [m for m in np.argsort(-scores[user - 1], kind="stable") if not seen[user, m + 1]][:K]
    hits = wanted[order]
    recalls.append(hits.sum() / wanted.sum())
    dcg = sum(1 / math.log2(rank + 2) for rank, hit in enumerate(hits) if hit)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(K, int(wanted.sum()))))
    ndcgs.append(dcg / ideal)
quality = retrieval_quality(
    towers,
    relevant_pairs=(data.test["user_id"][keep], data.test["item_id"][keep]),
    seen_pairs=(data.train["user_id"], data.train["item_id"]),
    k=K,
)
report["quality"] = {"recall": quality.recall, "ndcg": quality.ndcg, "users": quality.users}
report["numpy"] = {"recall": float(np.mean(recalls)), "ndcg": float(np.mean(ndcgs)), "users": len(recalls)}
report["extra"] = plugin.evaluate_extra(model, data)

# Top-k with BruteForceRetrieval, seen items left out, best first.
top = recommend(towers, np.array([2, 5], dtype="int32"), k=K, seen_pairs=(data.train["user_id"], data.train["item_id"]))
expected = []
for user in (2, 5):
    order = [int(m) + 1 for m in np.argsort(-scores[user - 1], kind="stable") if not seen[user, m + 1]][:K]
    expected.append(order)
report["top_ids"] = top.item_ids.tolist()
report["expected_top_ids"] = expected
report["top_sorted"] = bool(np.all(np.diff(top.scores, axis=1) <= 0))
report["top_unseen"] = bool(not any(seen[u, m] for u, row in zip((2, 5), top.item_ids) for m in row))
text_report = RecommendationReport(top, titles=titles, k=K, exclude_seen=True)
report["json"] = text_report.as_json()
report["text"] = text_report.text()

artifacts = plugin.artifacts(model, data)
report["artifact_names"] = sorted(artifacts)
report["artifact_users"] = [u["user_id"] for u in artifacts[f"top_{K}.json"]["users"]]
print(json.dumps(report, default=str))
