"""Run under a given KERAS_BACKEND: trains a tiny model whose user table has its own SGD
(lr 1) while the dense optimizer has lr 0, and prints which variables moved as JSON."""

import json

import keras
import numpy as np

from rsx.contract import FeatureSpec, OptimizerSpec, TableSpec
from rsx.engine.embeddings import EmbeddingLookup
from rsx.engine.optimizers import routed_optimizer

keras.utils.set_random_seed(0)
tables = [TableSpec("user_table", 11, 4, OptimizerSpec("sgd", 1.0)), TableSpec("movie_table", 7, 4, None)]
features = [FeatureSpec("user_id", "user_table"), FeatureSpec("item_id", "movie_table")]
inputs = {f.name: keras.Input(shape=(), dtype="int32", name=f.name) for f in features}
vectors = EmbeddingLookup(tables, features, name="embeddings")(inputs)
output = keras.layers.Dense(1, name="dense")(keras.layers.Concatenate()([vectors["user_id"], vectors["item_id"]]))
model = keras.Model(inputs, output)
optimizer = routed_optimizer(OptimizerSpec("sgd", 0.0), tables)
model.compile(optimizer=optimizer, loss="mse")
before = {w.path: np.array(w) for w in model.trainable_weights}
x = {"user_id": np.arange(1, 11, dtype="int32"), "item_id": np.arange(1, 11, dtype="int32") % 7}
model.fit(x, np.ones(10, "float32"), epochs=2, batch_size=5, verbose=0)
moved = {w.path: bool(not np.allclose(before[w.path], np.array(w))) for w in model.trainable_weights}
print(json.dumps({
    "backend": keras.config.backend(),
    "moved": moved,
    "iterations": int(optimizer.iterations),
    "inner_iterations": [int(o.iterations) for o in (optimizer.dense, *optimizer.tables.values())],
}))
