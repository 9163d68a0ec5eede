"""Runs in a fresh process (KERAS_BACKEND=tensorflow): exercises the tf_sparsecore
implementation without a TPU and prints one JSON report for test_tf_sparsecore_backend.py."""

import json
import logging

import keras
import numpy as np
import tensorflow as tf
from omegaconf import OmegaConf

import rsx_plugins.tf_sparsecore.backend as backend_module
from rsx.api import FeatureSpec, OptimizerSpec, RsxError, TableSpec
from rsx_plugins.tf_sparsecore.backend import TfSparseCoreBackend
from rsx_plugins.tf_sparsecore.config import TfSparseCoreConfig
from rsx_plugins.tf_sparsecore.tables import feature_configs
from rsx_plugins.tf_sparsecore.tpu import apply_sparsecore_limits

report = {}

# ---------------------------------------------------------------- conversion
tables = [
    TableSpec("user_table", 11, 4, OptimizerSpec("adam", 0.01), combiner="sum"),
    TableSpec("movie_table", 7, 6, None),
]
features = [
    FeatureSpec("user_id", "user_table"),
    FeatureSpec("item_id", "movie_table"),
    FeatureSpec("previous_item_id", "movie_table"),
]
configs = feature_configs(tables, features, 512, dense=OptimizerSpec("adagrad", 0.05), placement="sparsecore",
                          max_ids_per_partition=300, max_unique_ids_per_partition=200)
report["conversion"] = {
    name: {
        "feature": fc.name,
        "table": fc.table.name,
        "vocabulary_size": fc.table.vocabulary_size,
        "embedding_dim": fc.table.embedding_dim,
        "combiner": fc.table.combiner,
        "placement": fc.table.placement,
        "optimizer": type(fc.table.optimizer).__name__,
        "learning_rate": round(float(fc.table.optimizer.learning_rate), 6),
        "input_shape": list(fc.input_shape),
        "output_shape": list(fc.output_shape),
        "max_ids": fc.table.max_ids_per_partition,
        "max_unique_ids": fc.table.max_unique_ids_per_partition,
    }
    for name, fc in configs.items()
}
report["shared_table_is_one_object"] = configs["item_id"].table is configs["previous_item_id"].table

# What keras-rs hands TensorFlow's SparseCore API on a TPU with 2 replicas (runs on CPU too).
from keras_rs.src.layers.embedding.tensorflow import config_conversion  # noqa: E402

tpu_configs, sparsecore_config = config_conversion.keras_to_tf_tpu_configuration(configs, "auto", 2)
report["tpu_conversion"] = {
    name: {
        "table": fc.table.name,
        "optimizer": type(fc.table.optimizer).__name__,
        "learning_rate": round(float(fc.table.optimizer.learning_rate), 6),
        "per_replica_output_shape": list(fc.output_shape),
    }
    for name, fc in tpu_configs.items()
}
report["tpu_conversion_stacking_disabled"] = sparsecore_config.disable_table_stacking

# ---------------------------------------------------------------- strategy selection


class Resolver:
    """Stands in for TPUClusterResolver; `fail` says how it fails."""

    calls = []

    def __init__(self, fail):
        self.fail = fail

    def __call__(self, tpu):
        Resolver.calls.append(tpu)
        if self.fail == "resolve":
            raise ValueError("Please provide a TPU Name to connect to.")
        return tf.distribute.cluster_resolver.TPUClusterResolver(tpu="local")  # init fails on CPU


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        if record.name == "rsx":
            self.lines.append(record.getMessage())


capture = Capture()
logging.getLogger("rsx").addHandler(capture)
backend_module.wants_tpu = lambda config: True  # As on a TPU VM: the resolver is asked.


def select(mode, fail):
    Resolver.calls = []
    capture.lines = []
    backend = TfSparseCoreBackend(OmegaConf.structured(TfSparseCoreConfig(tpu=mode)))
    backend.resolver_factory = Resolver(fail)
    try:
        runtime = backend.setup()
    except RsxError as error:
        return {"error": str(error), "resolver_calls": Resolver.calls, "warnings": capture.lines}
    return {
        "device_kind": runtime.device_kind,
        "replicas": runtime.replicas,
        "tags": dict(runtime.tags),
        "strategy_is_default": backend.strategy is tf.distribute.get_strategy(),
        "resolver_calls": Resolver.calls,
        "warnings": capture.lines,
        "compile_options": {k: str(v) for k, v in backend.compile_options().items()},
    }


report["selection"] = {
    "auto_resolver_fails": select("auto", "resolve"),
    "auto_init_fails": select("auto", "initialize"),
    "required_resolver_fails": select("required", "resolve"),
    "off": select("off", "resolve"),
}

# ---------------------------------------------------------------- fallback training
# user_table has SGD(lr=1); movie_table has none, so it follows the dense SGD(lr=0).
keras.utils.set_random_seed(0)
backend = TfSparseCoreBackend(OmegaConf.structured(TfSparseCoreConfig(tpu="off")))
backend.setup()
train_tables = [TableSpec("user_table", 11, 4, OptimizerSpec("sgd", 1.0)), TableSpec("movie_table", 7, 4, None)]
train_features = [FeatureSpec("user_id", "user_table"), FeatureSpec("item_id", "movie_table")]
with backend.scope():
    optimizer = backend.optimizer(OptimizerSpec("sgd", 0.0), train_tables)
    layer = backend.embeddings(train_tables, train_features, 4)
    inputs = {f.name: keras.Input(shape=(), dtype="int32", name=f.name) for f in train_features}
    vectors = layer(inputs)
    output = keras.layers.Dense(1, name="dense")(keras.layers.Concatenate()([vectors["user_id"], vectors["item_id"]]))
    model = keras.Model(inputs, output)
    model.compile(optimizer=optimizer, loss="mse", **backend.compile_options())
columns = {
    "user_id": np.arange(1, 11, dtype="int32"),
    "item_id": (np.arange(1, 11) % 7).astype("int32"),
    "label": np.ones(10, "float32"),
}
train = backend.dataset(columns, ["user_id", "item_id"], "label", 4, training=True, shuffle=True, seed=1)
test = backend.dataset(columns, ["user_id", "item_id"], "label", 4, training=False, shuffle=False, seed=1)
before = {w.path: np.array(w) for w in model.trainable_weights}
history = model.fit(train, epochs=2, verbose=0)
report["fallback_training"] = {
    "symbolic_shapes": {k: list(v.shape) for k, v in vectors.items()},
    "moved": {w.path: bool(not np.allclose(before[w.path], np.array(w))) for w in model.trainable_weights},
    "optimizer": type(optimizer).__name__,
    "routed_tables": sorted(getattr(optimizer, "tables", {})),
    "train_batches": [int(b[1].shape[0]) for b in train],
    "test_batches": [int(b[1].shape[0]) for b in test],
    "test_rows_counted": [int(np.count_nonzero(b[2])) for b in test],  # rows of weight > 0
    "steps_run": int(optimizer.iterations),
    "subset_lookup_shape": list(layer({"item_id": np.arange(7, dtype="int32")})["item_id"].shape),
    "symbolic_subset_shape": list(layer.compute_output_shape({"item_id": (None,)})["item_id"]),
    "tables": {k: list(v.shape) for k, v in layer.get_embedding_tables().items()},
}

# ---------------------------------------------------------------- reshuffled epochs
rows = {"user_id": np.arange(1000, dtype="int32"), "item_id": np.zeros(1000, "int32"), "label": np.zeros(1000, "float32")}
reshuffled = backend.dataset(rows, ["user_id", "item_id"], "label", 64, training=True, shuffle=True, seed=3)
epochs = [np.concatenate([x["user_id"].numpy() for x, _ in reshuffled]) for _ in range(3)]
report["reshuffled"] = {
    "cardinality": int(reshuffled.cardinality()),
    "rows_per_epoch": [len(e) for e in epochs],
    "distinct_rows_per_epoch": [len(set(e.tolist())) for e in epochs],
    "epochs_differ": bool(not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])),
}

# ---------------------------------------------------------------- saving
import os  # noqa: E402
import tempfile  # noqa: E402

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "model.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
sample = {"user_id": np.array([1, 2, 3, 4], "int32"), "item_id": np.array([4, 5, 6, 1], "int32")}
report["saved_model_predicts_the_same"] = bool(
    np.allclose(model.predict(sample, verbose=0), loaded.predict(sample, verbose=0))
)

# ---------------------------------------------------------------- SparseCore buffer limits


class FakeTpuEmbedding:
    _stacked_table_to_tables = {"movie_table_user_table": ["movie_table", "user_table"], "big": ["big"]}
    _table_to_max_ids_per_sparse_core = {"movie_table_user_table": 256, "big": 256}
    _table_to_max_unique_ids_per_sparse_core = {"movie_table_user_table": 256, "big": 256}


class FakeLayer:
    _tpu_embedding = FakeTpuEmbedding()


apply_sparsecore_limits(FakeLayer(), 1000, 300)
apply_sparsecore_limits(layer.distributed, 1000, 300)  # No SparseCore here: must be a no-op.
report["limits"] = {
    "max_ids": FakeTpuEmbedding._table_to_max_ids_per_sparse_core,
    "max_unique_ids": FakeTpuEmbedding._table_to_max_unique_ids_per_sparse_core,
}
print(json.dumps(report))
