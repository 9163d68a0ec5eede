"""The KerasRS data-parallel retrieval tutorial in plain Keras on JAX, with no rsx.

The tutorial's code, with its data read from a prepared file instead of TFDS: user and
candidate Embedding(dim 32) tables, `keras_rs.layers.BruteForceRetrieval(k=10)` over the
candidate table for prediction, MSE between the rating label and the dot product, Adagrad
0.2, `keras.distribution.DataParallel` over every JAX device, batch(1000).cache() input.
Prints one JSON line with the per-epoch training seconds, measured like rsx measures them
(from the start of an epoch to the start of its validation).

    XLA_FLAGS=--xla_force_host_platform_device_count=2 JAX_PLATFORMS=cpu KERAS_BACKEND=jax \\
        python benchmarks/retrieval_plain_keras.py prepared.npz --epochs 5
"""

import argparse
import json
import time

import jax
import keras
import keras_rs
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


class RetrievalModel(keras.Model):
    """The tutorial's model: returns user embeddings, and the top-10 movies when not training."""

    def __init__(self, num_users, num_candidates, embedding_dimension=32, **kwargs):
        super().__init__(**kwargs)
        self.user_embedding = keras.layers.Embedding(num_users, embedding_dimension)
        self.candidate_embedding = keras.layers.Embedding(num_candidates, embedding_dimension)
        self.retrieval = keras_rs.layers.BruteForceRetrieval(k=10, return_scores=False)
        self.loss_fn = keras.losses.MeanSquaredError()

    def build(self, input_shape):
        self.user_embedding.build(input_shape)
        self.candidate_embedding.build(input_shape)
        # The candidates are the candidate table itself.
        self.retrieval.candidate_embeddings = self.candidate_embedding.embeddings
        self.retrieval.build(input_shape)
        super().build(input_shape)

    def call(self, inputs, training=False):
        user_embeddings = self.user_embedding(inputs)
        result = {"user_embeddings": user_embeddings}
        if not training:
            result["predictions"] = self.retrieval(user_embeddings)
        return result

    def compute_loss(self, x, y, y_pred, sample_weight, training=True):
        candidate_id, rating = y["item_id"], y["rating"]
        user_embeddings = y_pred["user_embeddings"]
        candidate_embeddings = self.candidate_embedding(candidate_id)
        labels = keras.ops.expand_dims(rating, -1)
        scores = keras.ops.sum(keras.ops.multiply(user_embeddings, candidate_embeddings), axis=1, keepdims=True)
        return self.loss_fn(labels, scores, sample_weight)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data", help="a PreparedData .npz (rsx's data cache format)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--validation-freq", type=int, default=5)
    args = parser.parse_args()

    with np.load(args.data) as f:
        train = {k: f[f"train/{k}"] for k in ("user_id", "item_id", "label")}
        test = {k: f[f"test/{k}"] for k in ("user_id", "item_id", "label")}
        users, movies = int(f["vocab/user_id"]), int(f["vocab/item_id"])

    devices = jax.devices()
    mesh = keras.distribution.DeviceMesh(shape=(len(devices),), axis_names=["data"], devices=devices)
    keras.distribution.set_distribution(keras.distribution.DataParallel(device_mesh=mesh))

    def dataset(columns):
        targets = {"item_id": columns["item_id"], "rating": columns["label"]}
        return tf.data.Dataset.from_tensor_slices((columns["user_id"], targets)).batch(args.batch_size).cache()

    keras.utils.set_random_seed(42)
    model = RetrievalModel(users, movies)
    model.compile(optimizer=keras.optimizers.Adagrad(learning_rate=0.2))
    timer = EpochTimer()
    history = model.fit(
        dataset(train),
        validation_data=dataset(test),
        validation_freq=args.validation_freq,
        epochs=args.epochs,
        callbacks=[timer],
        verbose=0,
    )
    print(json.dumps({
        "epoch_seconds": timer.seconds,
        "examples": len(train["label"]),
        "devices": len(devices),
        "loss": history.history["loss"][-1],
        "val_loss": history.history.get("val_loss", [None])[-1],
    }))


if __name__ == "__main__":
    main()
