"""The KerasRS tutorial "DistributedEmbedding using TPU SparseCore and TensorFlow", as its own
code runs on a CPU: the yardstick for rsx's tf_sparsecore backend.

The tutorial's model, unchanged: a `keras.Model` subclass calling
`keras_rs.layers.DistributedEmbedding` (movie_table, user_table: dim 32, optimizer "adam",
TableConfig's default initializer) -> concatenate [user, movie] -> Dense 256 relu -> Dense 64
relu -> Dense 1; MSE, RootMeanSquaredError, compile optimizer "adagrad"; batches of 256
with drop_remainder, cached. Two things differ, both forced by the CPU:

- no TPUStrategy (there is no TPU): the default strategy;
- placement "auto" instead of "sparsecore" ("sparsecore" raises without a TPU; "auto"
  resolves to "default_device"). There the tables are plain variables, so model.compile's
  Adagrad trains them and their "adam" is silently unused: the behaviour rsx's
  tf_sparsecore fallback fixes.

Reads a PreparedData .npz (rsx's data cache format) instead of TFDS so that both sides train
on the same rows. Prints one JSON line: per-epoch training seconds and the test metrics.

    KERAS_BACKEND=tensorflow python benchmarks/sparsecore_tutorial_cpu.py prepared.npz --epochs 5
"""

import argparse
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import keras_rs  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

EMBEDDING_DIMENSION = 32


class EpochTimer(keras.callbacks.Callback):
    """Training seconds per epoch (the tutorial's fit has no validation to exclude)."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


class EmbeddingModel(keras.Model):
    """The tutorial's model: DistributedEmbedding, then a tower of dense layers."""

    def __init__(self, feature_configs):
        super().__init__()
        self.embedding_layer = keras_rs.layers.DistributedEmbedding(feature_configs=feature_configs)
        self.ratings = keras.Sequential(
            [
                keras.layers.Dense(256, activation="relu"),
                keras.layers.Dense(64, activation="relu"),
                keras.layers.Dense(1),
            ]
        )

    def call(self, features):
        embedding = self.embedding_layer(features)
        return self.ratings(keras.ops.concatenate([embedding["user_id"], embedding["item_id"]], axis=1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data", help="a PreparedData .npz (rsx's data cache format)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    batch = args.batch_size  # PER_REPLICA_BATCH_SIZE x 1 replica

    with np.load(args.data) as f:
        train = {k: f[f"train/{k}"] for k in ("user_id", "item_id", "label")}
        test = {k: f[f"test/{k}"] for k in ("user_id", "item_id", "label")}
        users_count, movies_count = int(f["vocab/user_id"]) - 1, int(f["vocab/item_id"]) - 1

    def ratings(columns):
        x = {"user_id": columns["user_id"], "item_id": columns["item_id"]}
        return tf.data.Dataset.from_tensor_slices((x, columns["label"])).batch(batch, drop_remainder=True).cache()

    movie_table = keras_rs.layers.TableConfig(
        name="movie_table", vocabulary_size=movies_count + 1, embedding_dim=EMBEDDING_DIMENSION,
        optimizer="adam", placement="auto",
    )
    user_table = keras_rs.layers.TableConfig(
        name="user_table", vocabulary_size=users_count + 1, embedding_dim=EMBEDDING_DIMENSION,
        optimizer="adam", placement="auto",
    )
    feature_configs = {
        "item_id": keras_rs.layers.FeatureConfig(
            name="movie", table=movie_table, input_shape=(batch,), output_shape=(batch, EMBEDDING_DIMENSION)
        ),
        "user_id": keras_rs.layers.FeatureConfig(
            name="user", table=user_table, input_shape=(batch,), output_shape=(batch, EMBEDDING_DIMENSION)
        ),
    }

    keras.utils.set_random_seed(42)
    model = EmbeddingModel(feature_configs)
    model.compile(
        loss=keras.losses.MeanSquaredError(),
        metrics=[keras.metrics.RootMeanSquaredError()],
        optimizer="adagrad",
    )
    timer = EpochTimer()
    model.fit(ratings(train), epochs=args.epochs, callbacks=[timer], verbose=0)
    evaluated = model.evaluate(ratings(test), return_dict=True, verbose=0)
    print(json.dumps({
        "epoch_seconds": timer.seconds,
        "test_loss": float(evaluated["loss"]),
        "test_rmse": float(evaluated["root_mean_squared_error"]),
        "placement": sorted(model.embedding_layer._placement_to_path_to_feature_config),
    }))


if __name__ == "__main__":
    main()
