"""Evaluates one fixed model on small splits through a backend's own input pipeline.

    python -m rsx.testing.evaluation_probe backend=<name> [overrides...]

prints one JSON line: {split size: {metric: value}}. The model's outputs are known exactly
(one-hot embedding rows through one Dense unit whose weights are set), so `expected` gives
the metrics of evaluating every row exactly once, and every backend must reproduce them: a
row dropped, or a padding row counted, changes the mean. The conformance suite runs it in a
fresh process per backend (Keras fixes its backend at import).
"""

from __future__ import annotations

import json
import sys

import numpy as np

#: Rows per evaluated split: smaller than one global batch, one row, and a split that
#: leaves a short last batch.
SPLIT_SIZES = (3, 1, 11)
#: Examples per replica per step; the global batch is this x the backend's replicas.
PER_REPLICA_BATCH = 4
#: Ids per feature; tables are identity matrices, so a row is a one-hot vector.
VOCABULARY = 8


def split(rows: int) -> dict[str, np.ndarray]:
    """A split of `rows` rows with fixed ids and labels (the same on every backend)."""
    rng = np.random.default_rng(rows)
    return {
        "user_id": rng.integers(0, VOCABULARY, rows).astype(np.int32),
        "item_id": rng.integers(0, VOCABULARY, rows).astype(np.int32),
        "label": rng.random(rows).astype(np.float32),
    }


def dense_weights() -> tuple[np.ndarray, np.ndarray]:
    """Kernel (2 * VOCABULARY, 1) and bias (1,) of the output unit."""
    rng = np.random.default_rng(0)
    return rng.normal(size=(2 * VOCABULARY, 1)).astype(np.float32), np.array([0.25], np.float32)


def expected(rows: int) -> dict[str, float]:
    """The loss (MSE) and RMSE of the fixed model over every row of `split(rows)` once."""
    columns = split(rows)
    kernel, bias = dense_weights()
    prediction = kernel[columns["user_id"], 0] + kernel[VOCABULARY + columns["item_id"], 0] + bias[0]
    mse = float(np.mean(np.square(prediction - columns["label"])))
    return {"loss": mse, "rmse": mse**0.5}


def main(overrides: list[str]) -> None:
    from rsx.discovery import discover
    from rsx.environment import apply_environment
    from rsx.testing.compose import compose_config

    cfg = compose_config(overrides)
    spec = discover().backend(cfg.backend.name)
    apply_environment(spec.environment(cfg.backend))

    import keras

    from rsx.api import FeatureSpec, OptimizerSpec, TableSpec

    backend = spec.load()(cfg.backend)
    runtime = backend.setup()
    global_batch = PER_REPLICA_BATCH * runtime.replicas
    identity = {"class_name": "Identity", "config": {}}
    tables = [TableSpec(name, VOCABULARY, VOCABULARY, initializer=identity) for name in ("user_table", "movie_table")]
    features = [FeatureSpec("user_id", "user_table"), FeatureSpec("item_id", "movie_table")]
    with backend.scope():
        optimizer = backend.optimizer(OptimizerSpec("sgd", 0.1), tables)
        embeddings = backend.embeddings(tables, features, global_batch)
        inputs = {f.name: keras.Input(shape=(), dtype="int32", name=f.name) for f in features}
        vectors = embeddings(inputs)
        joined = keras.layers.Concatenate()([vectors["user_id"], vectors["item_id"]])
        output = keras.layers.Dense(1, name="output")(joined)
        model = keras.Model(inputs, output)
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.MeanSquaredError(),
            weighted_metrics=[keras.metrics.RootMeanSquaredError(name="rmse")],  # as rsx.engine.training
            **backend.compile_options(),
        )
        model.get_layer("output").set_weights(list(dense_weights()))
    found = {}
    for rows in SPLIT_SIZES:
        data = backend.dataset(
            split(rows), ["user_id", "item_id"], "label", global_batch, training=False, shuffle=False, seed=0
        )
        found[rows] = {k: float(v) for k, v in model.evaluate(data, return_dict=True, verbose=0).items()}
    print(json.dumps({"replicas": runtime.replicas, "global_batch": global_batch, "metrics": found}))


if __name__ == "__main__":
    main(sys.argv[1:])
