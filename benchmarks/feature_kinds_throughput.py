"""Do multi-hot and sequence lookups slow training down? examples/s, ids only vs every kind.

On each backend (a fresh process each, with the backend's environment), two models of the
same MLP on ml-latest-small-shaped synthetic data (100k ratings, 610 users, 9.7k items):
  ids: user_id, item_id (the ranking tutorial's inputs);
  all kinds: + genres (multi_hot, 10 wide, weighted), tags (multi_hot, 20 wide),
  year (numeric), the user's history (sequence of 20 items, masked mean; shares the item table).
Reported: examples/s of the second epoch (the first compiles), and the ratio all/ids.

    python benchmarks/feature_kinds_throughput.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

BACKENDS = {
    "cpu_reference (tf)": ["backend=cpu_reference"],
    "cpu_reference (tf, jit_compile=false)": ["backend=cpu_reference", "backend.jit_compile=false"],
    "cpu_reference (jax)": ["backend=cpu_reference", "backend.keras_backend=jax"],
    "tf_sparsecore fallback (dense)": ["backend=tf_sparsecore"],
    "tf_sparsecore fallback (sparse_inputs)": ["backend=tf_sparsecore", "backend.sparse_inputs=true"],
}
BATCH = 256


def measure(overrides: list[str], rows: int) -> dict:
    from rsx.contract import plugin_config
    from rsx.discovery import discover
    from rsx.environment import apply_environment
    from rsx.testing.compose import compose_config

    cfg = compose_config(overrides)
    spec = discover().backend(cfg.backend.name)
    config = plugin_config(cfg.backend)
    apply_environment(spec.environment(config))

    import keras
    import numpy as np
    from keras import ops

    from rsx.contract import FeatureSpec, OptimizerSpec, TableSpec
    from rsx.engine.training import build_model

    rng = np.random.default_rng(0)
    users, items, genres, tags = 611, 9743, 21, 1600

    def padded(count, length, high):
        ids = rng.integers(1, high, (count, length)).astype(np.int32)
        ids[np.arange(length)[None, :] >= rng.integers(0, length + 1, count)[:, None]] = 0
        return ids

    user_rows = rng.integers(1, users, rows).astype(np.int32)
    item_rows = rng.integers(1, items, rows).astype(np.int32)
    item_genres, item_tags, history = padded(items, 10, genres), padded(items, 20, tags), padded(users, 20, items)
    columns = {
        "user_id": user_rows, "item_id": item_rows, "genres": item_genres[item_rows],
        "genre_weights": (item_genres[item_rows] > 0).astype(np.float32), "tags": item_tags[item_rows],
        "year": rng.standard_normal(rows).astype(np.float32), "history": history[user_rows],
        "label": rng.random(rows).astype(np.float32),
    }
    every = [
        FeatureSpec("user_id", "user"), FeatureSpec("item_id", "item"),
        FeatureSpec("genres", "genre", "multi_hot", 10, "genre_weights"), FeatureSpec("tags", "tag", "multi_hot", 20),
        FeatureSpec("year", kind="numeric"), FeatureSpec("history", "item", "sequence", 20),
    ]
    tables = [TableSpec("user", users, 32), TableSpec("item", items, 32), TableSpec("genre", genres, 32),
              TableSpec("tag", tags, 32, combiner="sqrtn")]

    class Model:
        def __init__(self, features):
            self.features = features

        def build(self, embeddings, global_batch_size):
            inputs = {n: keras.Input(shape=f.shape, dtype="float32" if n != f.name else f.dtype, name=n)
                      for f in self.features for n in f.inputs()}
            vectors = embeddings({k: v for k, v in inputs.items() if k != "year"})
            parts = [vectors[f.name] for f in self.features if f.kind in ("id", "multi_hot")]
            if "history" in inputs:
                mask = ops.expand_dims(ops.cast(ops.not_equal(inputs["history"], 0), "float32"), -1)
                parts.append(ops.sum(vectors["history"] * mask, 1) / ops.maximum(ops.sum(mask, 1), 1.0))
                parts.append(ops.expand_dims(inputs["year"], -1))
            x = keras.layers.Concatenate()(parts)
            for units in (256, 64):
                x = keras.layers.Dense(units, activation="relu")(x)
            return keras.Model(inputs, keras.layers.Dense(1)(x))

    report = {}
    for name, features in (("ids", every[:2]), ("all_kinds", every)):
        keras.utils.set_random_seed(0)
        backend = spec.load()(config)
        backend.setup()
        used = [t for t in tables if any(f.table == t.name for f in features)]
        names = [n for f in features for n in f.inputs()]
        with backend.scope():
            optimizer = backend.optimizer(OptimizerSpec("adagrad", 0.05), used)
            model = build_model(Model(features), backend.embeddings(used, features, BATCH), BATCH)
            model.compile(optimizer=optimizer, loss="mse", **backend.compile_options())
        data = backend.dataset(columns, names, "label", BATCH, training=True, shuffle=True, seed=0)

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                self.seconds = time.perf_counter() - self.start

        timer = Timer()
        model.fit(data, epochs=2, verbose=0, callbacks=[timer], shuffle=False)
        report[name] = round(rows / timer.seconds)
    report["ratio_all_kinds_to_ids"] = round(report["all_kinds"] / report["ids"], 3)
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--measure", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.rows)))
        return
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from harness import write_results

    results = {"rows": args.rows, "batch": BATCH, "examples_per_second": {}}
    for label, overrides in BACKENDS.items():
        out = subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--measure", *overrides],
                             capture_output=True, text=True, timeout=900)
        if out.returncode != 0:
            raise SystemExit(f"{label} failed:\n{out.stderr[-3000:]}")
        results["examples_per_second"][label] = json.loads(out.stdout.strip().splitlines()[-1])
        print(label, results["examples_per_second"][label], flush=True)
    reference = results["examples_per_second"]["cpu_reference (tf)"]["all_kinds"]
    results["all_kinds_vs_cpu_reference_tf"] = {
        k: round(v["all_kinds"] / reference, 3) for k, v in results["examples_per_second"].items()
    }
    print(json.dumps(results["all_kinds_vs_cpu_reference_tf"]))
    write_results("feature_kinds_throughput", results)


if __name__ == "__main__":
    main()
