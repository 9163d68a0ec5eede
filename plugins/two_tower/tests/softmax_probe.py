"""Run under KERAS_BACKEND=jax with 2 virtual CPU devices (see test_two_tower_softmax.py):
the in-batch softmax loss on tiny batches against NumPy, the negatives under DataParallel,
and the bad inputs. Prints one JSON line."""

import json

import keras
import numpy as np
from omegaconf import OmegaConf

from rsx.api import ConfigError, PreparedData
from rsx.api.engine import EmbeddingLookup
from rsx_plugins.two_tower.config import TwoTowerConfig
from rsx_plugins.two_tower.model import TwoTowerModel
from rsx_plugins.two_tower.softmax import InBatchSoftmax, positive_first_softmax_loss

rng = np.random.default_rng(0)
report = {}


def numpy_loss(q, c, ids, log_q, temperature, num_hard=0):
    """Mean over rows of -log softmax; accidental hits (same id, other column) left out."""
    logits = q @ c.T / temperature - log_q[None, :]
    losses = []
    for i in range(len(q)):
        keep = [j for j in range(len(ids)) if j == i or ids[j] != ids[i]]
        negatives = sorted((logits[i, j] for j in keep if j != i), reverse=True)
        if num_hard:
            negatives = negatives[:num_hard]
        row = np.array([logits[i, i], *negatives])
        losses.append(np.log(np.exp(row - row.max()).sum()) + row.max() - logits[i, i])
    return float(np.mean(losses))


def layer_loss(layer, *args):
    return float(np.mean(keras.ops.convert_to_numpy(positive_first_softmax_loss(None, layer(*args)))))


# A batch of 4 whose rows 0 and 2 share item 5 (an accidental hit each way).
q = rng.normal(size=(4, 3)).astype("float32")
c = rng.normal(size=(4, 3)).astype("float32")
ids = np.array([5, 7, 5, 9], dtype="int32")
share = np.zeros(10, dtype="float32")
share[[5, 7, 9]] = [0.5, 0.3, 0.2]
t = 0.5
report["in_batch"] = [
    layer_loss(InBatchSoftmax(share, temperature=t), q, c, ids),
    numpy_loss(q, c, ids, np.log(share[ids]), t),
]
report["no_hit_removal_differs"] = layer_loss(InBatchSoftmax(share, temperature=t, remove_hits=False), q, c, ids)
report["no_logq"] = [layer_loss(InBatchSoftmax(None, temperature=t), q, c, ids), numpy_loss(q, c, ids, np.zeros(4), t)]
report["hard"] = [
    layer_loss(InBatchSoftmax(share, temperature=t, num_hard_negatives=1), q, c, ids),
    numpy_loss(q, c, ids, np.log(share[ids]), t, num_hard=1),
]
# Two sampled negatives (ids 7 and 3): their logQ is num_negatives / B x the sampler's probability.
negatives = rng.normal(size=(2, 3)).astype("float32")
negative_ids = np.array([7, 3], dtype="int32")
sampler = np.full(10, 0.1, dtype="float32")
all_ids = np.concatenate([ids, negative_ids])
log_q = np.log(np.concatenate([share[ids], sampler[negative_ids] * 2 / 4]))
report["sampled"] = [
    layer_loss(InBatchSoftmax(share, temperature=t, sampler_probability=sampler, num_negatives=2),
               q, c, ids, negatives, negative_ids),
    numpy_loss(q, np.concatenate([c, negatives]), all_ids, log_q, t),
]

# The model on tiny data: under DataParallel over 2 devices, is a query's set of negatives
# the global batch of 8 or its device's 4 rows?
USERS, ITEMS = 6, 12
train = {"user_id": rng.integers(1, USERS + 1, 40).astype("int32"),
         "item_id": rng.integers(1, ITEMS + 1, 40).astype("int32")}
train["rating"] = rng.integers(1, 6, 40).astype("float32")
train["label"] = (train["rating"] - 1) / 4
test = {"user_id": rng.integers(1, USERS + 1, 30).astype("int32"),
        "item_id": rng.integers(1, ITEMS + 1, 30).astype("int32"), "rating": np.full(30, 5.0, "float32")}
test["label"] = (test["rating"] - 1) / 4
data = PreparedData("probe", train, test, {"user_id": USERS + 1, "item_id": ITEMS + 1},
                    np.array([""] + [f"Item {i}" for i in range(1, ITEMS + 1)]))


def plugin_with(**overrides):
    return TwoTowerModel(OmegaConf.structured(TwoTowerConfig(**{"metrics_k": [5], "top_k": 5, **overrides})), data)


devices = keras.distribution.list_devices("cpu")
keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices[:2]))
keras.utils.set_random_seed(0)
plugin = plugin_with(loss="softmax", temperature=0.7, logq_correction=False, remove_accidental_hits=False)
model = plugin.build(EmbeddingLookup(plugin.tables(), plugin.features(), name="embeddings"), 8)
model.compile(optimizer="sgd", loss=plugin.loss())
x = {"user_id": train["user_id"][:8], "item_id": train["item_id"][:8]}
keras_loss = model.evaluate(x, train["label"][:8], batch_size=8, verbose=0)
towers = plugin._towers(model)
uq = towers.users(x["user_id"])
ic = towers.candidates()[x["item_id"] - 1]
report["data_parallel"] = {
    "devices": len(devices[:2]),
    "keras": float(keras_loss),
    "global_batch": numpy_loss(uq, ic, np.arange(8), np.zeros(8), 0.7),
    "per_device": float(np.mean([numpy_loss(uq[s], ic[s], np.arange(4), np.zeros(4), 0.7)
                                 for s in (slice(0, 4), slice(4, 8))])),
}
keras.distribution.set_distribution(None)

# Bad input: one line naming the key.
for name, overrides in {
    "top_k": {"top_k": ITEMS + 1},
    "metrics_k": {"metrics_k": [5, ITEMS + 1]},
    "num_negatives": {"loss": "sampled_softmax", "num_negatives": ITEMS + 1},
    "loss": {"loss": "bpr"},
}.items():
    try:
        plugin_with(**overrides)
        report[f"error_{name}"] = None
    except ConfigError as error:
        report[f"error_{name}"] = str(error)

# sampled_softmax trains (popularity sampler, hard negatives) and gives finite metrics.
keras.utils.set_random_seed(0)
plugin = plugin_with(loss="sampled_softmax", num_negatives=3, negative_sampler="popularity",
                     num_hard_negatives=2, normalize=True, temperature=0.1)
model = plugin.build(EmbeddingLookup(plugin.tables(), plugin.features(), name="embeddings"), 8)
model.compile(optimizer="adam", loss=plugin.loss())
history = model.fit({"user_id": train["user_id"], "item_id": train["item_id"]}, train["label"],
                    batch_size=8, epochs=2, verbose=0)
report["sampled_losses"] = [float(v) for v in history.history["loss"]]
report["sampled_extra"] = plugin.evaluate_extra(model, data)
print(json.dumps(report))
