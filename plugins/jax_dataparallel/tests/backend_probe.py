"""Run with the environment of `backend.cpu_devices=2` (see test_jax_dataparallel_backend.py):
exercises the backend on 2 virtual CPU devices and prints what it saw as one JSON line."""

import json
import sys

import jax
import keras
import numpy as np
from omegaconf import OmegaConf

from rsx.api import ConfigError, FeatureSpec, OptimizerSpec, TableSpec
from rsx.api.engine import tf_dataset
from rsx_plugins.jax_dataparallel import JaxDataParallelConfig
from rsx_plugins.jax_dataparallel.backend import JaxDataParallelBackend
from rsx_plugins.jax_dataparallel.sharded_input import process_batches

report = {}


def spec_of(variable):
    return [axis for axis in variable.value.sharding.spec] + [None] * (len(variable.shape) - len(variable.value.sharding.spec))


def train(shard_tables: bool, user_rows: int, movie_rows: int):
    """A tiny model on the backend: the user table has its own Adagrad(lr=1), the dense
    optimizer has lr 0; returns the backend, model, optimizer and losses."""
    keras.utils.set_random_seed(0)
    keras.distribution.set_distribution(None)
    backend = JaxDataParallelBackend(OmegaConf.structured(JaxDataParallelConfig(cpu_devices=2, shard_tables=shard_tables)))
    runtime = backend.setup()
    tables = [TableSpec("user_table", user_rows, 4, OptimizerSpec("adagrad", 1.0)), TableSpec("movie_table", movie_rows, 4)]
    features = [FeatureSpec("user_id", "user_table"), FeatureSpec("item_id", "movie_table")]
    optimizer = backend.optimizer(OptimizerSpec("sgd", 0.0), tables)
    inputs = {f.name: keras.Input(shape=(), dtype="int32", name=f.name) for f in features}
    vectors = backend.embeddings(tables, features, 8)(inputs)
    output = keras.layers.Dense(1, name="dense")(keras.layers.Concatenate()([vectors["user_id"], vectors["item_id"]]))
    model = keras.Model(inputs, output)
    model.compile(optimizer=optimizer, loss="mse", **backend.compile_options())
    before = {w.path: keras.ops.convert_to_numpy(w) for w in model.trainable_weights}
    rng = np.random.default_rng(0)
    columns = {
        "user_id": rng.integers(1, 8, 40).astype("int32"),
        "item_id": rng.integers(1, 5, 40).astype("int32"),
        "label": rng.random(40).astype("float32"),
    }
    data = backend.dataset(columns, ["user_id", "item_id"], "label", 8, training=True, shuffle=True, seed=1)
    history = model.fit(data, epochs=2, verbose=0)
    moved = {w.path: bool(not np.allclose(before[w.path], keras.ops.convert_to_numpy(w))) for w in model.trainable_weights}
    return backend, runtime, model, optimizer, history.history["loss"], moved


# --- DataParallel: replicas, replicated variables, per-table optimizers.
backend, runtime, model, optimizer, dp_loss, moved = train(shard_tables=False, user_rows=8, movie_rows=6)
report["runtime"] = {"replicas": runtime.replicas, "device_count": runtime.device_count,
                     "keras_backend": runtime.keras_backend, "tags": dict(runtime.tags)}
report["distribution"] = type(keras.distribution.distribution()).__name__
report["dp_moved"] = moved
report["dp_table_spec"] = spec_of(model.get_layer("embeddings").tables["user_table"].embeddings)
report["iterations"] = int(optimizer.iterations)
report["inference_scope"] = type(backend.inference_scope()).__name__

# --- shard_tables: the same tables split by rows over the 2 devices; same training.
backend, runtime, model, optimizer, sharded_loss, moved = train(shard_tables=True, user_rows=8, movie_rows=6)
table = model.get_layer("embeddings").tables["user_table"].embeddings
report["sharded"] = {
    "distribution": type(keras.distribution.distribution()).__name__,
    "table_spec": spec_of(table),
    "slot_specs": sorted({str(spec_of(v)) for v in optimizer.variables if len(v.shape) == 2}),
    "dense_spec": spec_of(model.get_layer("dense").kernel),
    "moved": moved,
    "losses": sharded_loss,
    "dp_losses": dp_loss,
    "tags": dict(runtime.tags),
}
# An odd vocabulary is padded to a multiple of the devices.
backend, runtime, model, *_ = train(shard_tables=True, user_rows=9, movie_rows=7)
report["padded_rows"] = [model.get_layer("embeddings").tables[t].embeddings.shape[0] for t in ("user_table", "movie_table")]

# --- Input: two processes' parts of each batch make up the single-process batch.
keras.distribution.set_distribution(None)
count = 103  # 12 batches of 8 and a short one of 7, cut to 6 for 2 devices
columns = {"u": np.arange(count, dtype=np.int32), "y": np.arange(count, dtype=np.float32)}
# A multi-hot column (rows, 3): each row's ids are its row number, twice it and padding 0.
columns["g"] = np.stack([columns["u"], 2 * columns["u"], np.zeros(count, np.int32)], axis=1)


def batches(**kwargs):
    found = list(process_batches(columns, ["u", "g"], "y", 8, seed=3, num_devices=2, **kwargs))
    report.setdefault("two_d_rows_follow_their_ids", True)
    for features, _ in found:
        g, u = features["g"].numpy(), features["u"].numpy()
        report["two_d_rows_follow_their_ids"] &= g.shape == (len(u), 3) and bool((g == np.stack([u, 2 * u, 0 * u], 1)).all())
    return [b[0]["u"].numpy().tolist() for b in found]


for shuffle in (False, True):
    whole = batches(shuffle=shuffle)
    parts = [batches(shuffle=shuffle, num_processes=2, process_id=p) for p in (0, 1)]
    reference = [b[0]["u"].numpy().tolist() for b in tf_dataset(columns, ["u"], "y", 8, shuffle=shuffle, seed=3)]
    report[f"input_shuffle_{shuffle}"] = {
        "sizes": [len(b) for b in whole],
        "parts_make_whole": [p0 + p1 for p0, p1 in zip(*parts)] == whole,
        "part_sizes": sorted({len(b) for part in parts for b in part}),
        "same_as_tf_dataset": whole == [b[: len(w)] for b, w in zip(reference, whole)] and len(reference) == len(whole),
        "cardinality": int(process_batches(columns, ["u"], "y", 8, shuffle=shuffle, seed=3, num_devices=2).cardinality()),
    }
# --- backend.devices: a mesh of the first N devices, checked against what JAX found.
keras.distribution.set_distribution(None)
one = JaxDataParallelBackend(OmegaConf.structured(JaxDataParallelConfig(cpu_devices=2, devices=1))).setup()
report["devices_1"] = [one.replicas, one.device_count, one.tags["mesh"]]
try:
    JaxDataParallelBackend(OmegaConf.structured(JaxDataParallelConfig(cpu_devices=2, devices=3))).setup()
except ConfigError as error:
    report["devices_3_error"] = str(error)
report["devices"] = len(jax.devices())
print(json.dumps(report))
sys.stdout.flush()
