"""The ranking model in plain Keras, with no rsx: the yardstick for rsx's overhead.

The tutorial's model (user and movie Embedding(dim 32) -> concat -> Dense 256 relu -> Dense 64
relu -> Dense 1, MSE, RMSE, Adagrad) on the tutorial's input pipeline (batch, cache). Prints
one JSON line with the per-epoch training seconds, measured like rsx measures them (from the
start of an epoch to the start of its validation).

    KERAS_BACKEND=tensorflow python benchmarks/ranking_plain_keras.py prepared.npz --epochs 4
"""

import argparse
import json
import time

import keras
import numpy as np
import tensorflow as tf


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start, self._end = time.perf_counter(), None

    def on_test_begin(self, logs=None):
        self._end = self._end or time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append((self._end or time.perf_counter()) - self._start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data", help="a PreparedData .npz (rsx's data cache format)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()

    with np.load(args.data) as f:
        train = {k: f[f"train/{k}"] for k in ("user_id", "item_id", "label")}
        test = {k: f[f"test/{k}"] for k in ("user_id", "item_id", "label")}
        users, movies = int(f["vocab/user_id"]), int(f["vocab/item_id"])

    def dataset(columns):
        x = {"user_id": columns["user_id"], "item_id": columns["item_id"]}
        return tf.data.Dataset.from_tensor_slices((x, columns["label"])).batch(args.batch_size).cache()

    keras.utils.set_random_seed(42)
    user = keras.Input(shape=(), dtype="int32", name="user_id")
    movie = keras.Input(shape=(), dtype="int32", name="item_id")
    x = keras.layers.Concatenate()([keras.layers.Embedding(users, 32)(user), keras.layers.Embedding(movies, 32)(movie)])
    x = keras.layers.Dense(256, activation="relu")(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    model = keras.Model({"user_id": user, "item_id": movie}, keras.layers.Dense(1)(x))
    model.compile(optimizer="adagrad", loss="mse", metrics=[keras.metrics.RootMeanSquaredError()])
    timer = EpochTimer()
    model.fit(dataset(train), epochs=args.epochs, validation_data=dataset(test), callbacks=[timer], verbose=0)
    print(json.dumps({"epoch_seconds": timer.seconds, "examples": len(train["label"])}))


if __name__ == "__main__":
    main()
