"""Checks that a backend realizes every feature kind; prints one JSON line of what it saw.

    python -m rsx.testing.feature_probe backend=<name> [backend.key=value ...]

Run it in a fresh process (it sets the backend's environment before Keras starts). It

1. trains `AllKindsModel` (id, multi_hot with weights, numeric, sequence; a table shared by
   `item_id` and `history`) for one epoch on the backend, saves it as `.keras`, reloads it and
   predicts again (`reload_max_diff`);
2. for each combiner, looks up id, weighted and unweighted multi-hot and sequence features of
   one table through the backend's `embeddings` layer and compares them with NumPy computed
   from the table's rows as the same layer returns them (`reference_max_diff`).

`rsx.testing.conformance.BackendConformance` runs it for every backend.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

import numpy as np

from rsx.contract import plugin_config
from rsx.discovery import discover
from rsx.environment import apply_environment
from rsx.testing.compose import compose_config

#: Examples per step over all replicas (divides over 1, 2, 4 and 8 devices).
GLOBAL_BATCH = 16
COMBINERS = ("mean", "sum", "sqrtn")


def reference(rows: np.ndarray, kind: str, ids: np.ndarray, weights, combiner: str) -> np.ndarray:
    """What a feature of `kind` must give for `ids` (batch, L) from table `rows` (V, dim)."""
    present = (ids != 0).astype(np.float64)
    vectors = rows[ids] * present[..., None]
    if kind == "sequence":
        return vectors
    w = present if weights is None else present * weights
    total = (vectors * w[..., None]).sum(1)
    if combiner == "sum":
        return total
    norm = w.sum(1) if combiner == "mean" else np.sqrt((w**2).sum(1))
    return np.divide(total, norm[:, None], out=np.zeros_like(total), where=norm[:, None] > 0)


def main(overrides: list[str]) -> dict:
    cfg = compose_config(overrides)
    spec = discover().backend(cfg.backend.name)
    config = plugin_config(cfg.backend)
    if spec.check is not None:
        spec.check(config)
    apply_environment(spec.environment(config))

    import keras

    from rsx.contract import FeatureSpec, OptimizerSpec, TableSpec
    from rsx.engine.inputs import input_names, model_columns
    from rsx.engine.training import build_model
    from rsx.testing.all_kinds import AllKindsConfig, AllKindsModel, all_kinds_data

    keras.utils.set_random_seed(0)
    backend = spec.load()(config)
    runtime = backend.setup()
    report = {"replicas": runtime.replicas, "keras_backend": runtime.keras_backend}

    # 1. Train, save, reload, predict the same.
    data = all_kinds_data()
    plugin = AllKindsModel(AllKindsConfig(), data)
    names = input_names(plugin.features())
    columns = {s: model_columns(plugin.features(), plugin.tables(), data, s, "label") for s in ("train", "test")}
    with backend.scope():
        optimizer = backend.optimizer(plugin.optimizer(), plugin.tables())
        embeddings = backend.embeddings(plugin.tables(), plugin.features(), GLOBAL_BATCH)
        model = build_model(plugin, embeddings, GLOBAL_BATCH)
        model.compile(optimizer=optimizer, loss="mse", **backend.compile_options())
    train = backend.dataset(columns["train"], names, "label", GLOBAL_BATCH, training=True, shuffle=True, seed=0)
    history = model.fit(train, epochs=1, verbose=0, shuffle=False)
    report["loss"] = float(history.history["loss"][-1])
    example = {n: columns["test"][n][:GLOBAL_BATCH] for n in names}
    with backend.inference_scope():
        before = np.asarray(model.predict(example, batch_size=GLOBAL_BATCH, verbose=0))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        with backend.inference_scope():
            after = np.asarray(keras.saving.load_model(path, compile=False).predict(example, batch_size=GLOBAL_BATCH, verbose=0))
    report["prediction_spread"] = float(np.ptp(before))
    report["reload_max_diff"] = float(np.max(np.abs(before - after)))

    # 2. Every kind and combiner against NumPy.
    rng = np.random.default_rng(1)
    vocabulary, length = GLOBAL_BATCH, 5
    bags = rng.integers(1, vocabulary, (GLOBAL_BATCH, length)).astype(np.int32)
    bags[np.arange(length)[None, :] >= rng.integers(0, length + 1, GLOBAL_BATCH)[:, None]] = 0
    weights = np.where(bags > 0, rng.uniform(0.1, 2.0, bags.shape), 0).astype(np.float32)
    inputs = {"row": np.arange(vocabulary, dtype=np.int32), "bag": bags, "bag_weights": weights,
              "plain": bags, "seq": bags}
    report["reference_max_diff"] = {}
    for combiner in COMBINERS:
        tables = [TableSpec("t", vocabulary, 4, combiner=combiner, initializer="normal")]
        features = [
            FeatureSpec("row", "t"),
            FeatureSpec("bag", "t", "multi_hot", length, "bag_weights"),
            FeatureSpec("plain", "t", "multi_hot", length),
            FeatureSpec("seq", "t", "sequence", length),
        ]
        with backend.scope():
            backend.optimizer(OptimizerSpec(), tables)
            layer = backend.embeddings(tables, features, GLOBAL_BATCH)
            symbolic = {
                n: keras.Input(shape=v.shape[1:], dtype=str(v.dtype), name=n) for n, v in inputs.items()
            }
            lookup = keras.Model(symbolic, layer(symbolic))
        with backend.inference_scope():
            got = {k: np.asarray(v, np.float64) for k, v in lookup.predict(inputs, batch_size=GLOBAL_BATCH, verbose=0).items()}
        rows = got["row"]
        report["reference_max_diff"][combiner] = {
            "multi_hot_weighted": _diff(got["bag"], reference(rows, "multi_hot", bags, weights, combiner)),
            "multi_hot": _diff(got["plain"], reference(rows, "multi_hot", bags, None, combiner)),
            "sequence": _diff(got["seq"], reference(rows, "sequence", bags, None, combiner)),
        }
    report["rows_spread"] = float(np.ptp(rows))
    return report


def _diff(got, want) -> float:
    if got.shape != want.shape:
        return float("inf")
    return float(np.max(np.abs(got - want)))


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
