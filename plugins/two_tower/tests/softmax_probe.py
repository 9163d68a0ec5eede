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

# Early stopping watches the recall the retrieval validation writes into each epoch's logs
# (mode max), not val_loss: rsx's own helper picks the monitor, the stopper reads the logs.
from rsx.engine.training import early_stopping  # noqa: E402
from rsx_plugins.two_tower import spec  # noqa: E402


class Tags:
    tags: dict = {}

    def set_tags(self, tags):
        self.tags.update(tags)


keras.utils.set_random_seed(0)
plugin = plugin_with(loss="softmax")
model = plugin.build(EmbeddingLookup(plugin.tables(), plugin.features(), name="embeddings"), 8)
model.compile(optimizer=keras.optimizers.Adam(0.05), loss=plugin.loss())
callbacks = plugin.callbacks(data, 1)
stopper = early_stopping(OmegaConf.create({"early_stopping_patience": 1}), spec, plugin.config, [], callbacks, Tags())
seen = []
watch = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(logs.get("val_recall_at_5")))
x_test = {"user_id": test["user_id"], "item_id": test["item_id"]}
model.fit({"user_id": train["user_id"], "item_id": train["item_id"]}, train["label"], batch_size=8, epochs=4,
          validation_data=(x_test, test["label"]), callbacks=[*callbacks, stopper, watch],
          verbose=0)
report["early_stopping"] = {"monitor": stopper.monitor, "mode": stopper.mode, "tags": Tags.tags,
                            "best": float(stopper.best), "recalls": seen}

# Side features in the towers: the user's history (a sequence, read as a bag of items), the
# item's genres (multi_hot) and year (numeric). Retrieval feeds each user's and item's rows of
# the data's feature tables: changing item 3's genres moves item 3's candidate vector only.
from rsx.api import Schema, SideFeature  # noqa: E402
from rsx.engine.inputs import model_columns  # noqa: E402

history = rng.integers(0, ITEMS + 1, (USERS + 1, 3)).astype("int32")
genres = rng.integers(0, 4, (ITEMS + 1, 2)).astype("int32")
year = rng.normal(size=ITEMS + 1).astype("float32")
schema = Schema(features=(SideFeature("history", "sequence", "user", ITEMS + 1, 3),
                          SideFeature("genres", "multi_hot", "item", 4, 2), SideFeature("year", "numeric", "item")))
featured = PreparedData("probe_features", train, test, {"user_id": USERS + 1, "item_id": ITEMS + 1}, data.titles,
                        schema=schema, user_features={"history": history},
                        item_features={"genres": genres, "year": year})
# The user tower concatenates (it has layers), the candidate tower projects and adds (it has none).
towers_config = dict(metrics_k=[5], top_k=5, loss="softmax", user_features=["history"],
                     item_features=["genres", "year"], embedding_dim=8, user_layers=[8])
keras.utils.set_random_seed(0)
plugin = TwoTowerModel(OmegaConf.structured(TwoTowerConfig(**towers_config)), featured)
model = plugin.build(EmbeddingLookup(plugin.tables(), plugin.features(), name="embeddings"), 8)
model.compile(optimizer="adam", loss=plugin.loss())
columns = model_columns(plugin.features(), plugin.tables(), featured, "train", "label", "error")
model.fit({f.name: columns[f.name] for f in plugin.features()}, columns["label"], batch_size=8, epochs=1, verbose=0)
candidates = plugin._towers(model).candidates()
queries = plugin._towers(model).users(np.array([1, 2, 3], "int32"))
featured.item_features["genres"][3] = [3, 0] if genres[3, 0] != 3 else [1, 0]
featured.user_features["history"][2] = [0, 0, 0] if history[2].any() else [1, 2, 3]
report["side_features"] = {
    "kinds": {f.name: f.kind for f in plugin.features()},
    "candidates_changed": np.flatnonzero(np.abs(plugin._towers(model).candidates() - candidates).max(axis=1) > 0)
    .tolist(),
    "queries_changed": np.flatnonzero(
        np.abs(plugin._towers(model).users(np.array([1, 2, 3], "int32")) - queries).max(axis=1) > 0).tolist(),
    "extra": plugin.evaluate_extra(model, featured),
}
for name, overrides in {"entity": {"user_features": ["genres"]},
                        "sampled": {"loss": "sampled_softmax", "num_negatives": 2}}.items():
    config = OmegaConf.structured(TwoTowerConfig(**{**towers_config, **overrides}))
    try:
        spec.check(config)
        TwoTowerModel(config, featured)
        report[f"error_side_{name}"] = None
    except ConfigError as error:
        report[f"error_side_{name}"] = str(error)
print(json.dumps(report))
