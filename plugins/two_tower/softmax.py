"""In-batch (and sampled) softmax for two-tower retrieval: TFRS's `tasks.Retrieval` recipe on
keras-rs' retrieval layers.

Each query is scored against every candidate of its batch (and, for sampled softmax, a few
extra sampled candidates shared by the batch); the query's own item is the positive, every
other candidate a negative. In the order TFRS's `tasks.Retrieval` applies them:

    logits = query @ candidates.T / temperature                      (B, C)
    logits -= log q(candidate)        keras_rs SamplingProbabilityCorrection (logQ)
    logits[i, j] -> very negative where candidate j is row i's item but j != i (accidental hit)
    top num_hard_negatives negatives + the positive    keras_rs HardNegativeMining (optional)
    loss = mean over rows of -log softmax(logits)[positive]

q(candidate) is the candidate's expected count among a batch's candidates divided by the batch
size B: the item's share of the training rows for in-batch candidates, and num_negatives / B x
the sampler's probability for sampled ones (mixed negative sampling, Yang et al. 2020).

Why not keras_rs.layers.RemoveAccidentalHits: in keras-rs 0.4.0 it adds +1e-40 to the
accidental hits' logits (`smallest_normal / 100`), a no-op in float32; keras-team/keras-rs
PR #206 fixes it. `InBatchSoftmax` does what TFRS does (float32 min / 100).

Which negatives a query sees depends on the backend, not on this code: the loss is computed on
what one train step's loss function sees. Keras' JAX trainer computes the loss on the global
batch arrays (DataParallel shards them, XLA gathers what the matmul needs), so on
jax_dataparallel every query sees the whole global batch as negatives. Keras' TF trainer runs
the train step per replica under a `tf.distribute` strategy, so on tf_sparsecore with a TPU
the negatives are the replica's share (global batch / replicas); on CPU it has one replica.
"""

from __future__ import annotations

import keras
import keras_rs
import numpy as np
from keras import ops

#: What an accidental hit's logit is moved by (TFRS: float32 min / 100; finite, so no NaN).
ACCIDENTAL_HIT_OFFSET = float(np.finfo(np.float32).min) / 100.0


@keras.saving.register_keras_serializable(package="rsx_two_tower")
def positive_first_softmax_loss(y_true, y_pred):
    """-log softmax(logits)[:, 0] per row: the layer below puts the positive first.

    `y_true` (the label column) is not used: in-batch softmax's labels are the batch itself.
    """
    del y_true
    return -ops.log_softmax(y_pred, axis=-1)[:, 0]


@keras.saving.register_keras_serializable(package="rsx_two_tower")
class InBatchSoftmax(keras.layers.Layer):
    """Logits of each query against the batch's candidates, the positive in column 0.

    Args:
        item_probability: (num_items,) float, each item's share of the training rows (the
            in-batch sampling probability for logQ); None = no logQ correction.
        temperature: logits are divided by it.
        remove_hits: push down candidates equal to the row's positive item.
        num_hard_negatives: keep only this many highest negatives per row; 0 = all.
        sampler_probability: (num_items,) the extra negatives' sampling distribution (for
            their logQ); None when there are none.
        num_negatives: how many extra negatives a batch draws.

    Call args: query (B, d), candidate (B, d), item_ids (B,), and optionally
    negatives (N, d) and negative_ids (N,). Returns (B, 1 + C) logits: the positive's, then
    every candidate's with the row's own column and accidental hits pushed down to
    ACCIDENTAL_HIT_OFFSET (C = B + N); with hard negatives (B, 2 + num_hard_negatives).
    """

    def __init__(self, item_probability=None, temperature: float = 1.0, remove_hits: bool = True,
                 num_hard_negatives: int = 0, sampler_probability=None, num_negatives: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.temperature = float(temperature)
        self.remove_hits = bool(remove_hits)
        self.num_hard_negatives = int(num_hard_negatives)
        self.num_negatives = int(num_negatives)
        self.item_probability = None if item_probability is None else np.asarray(item_probability, np.float32)
        self.sampler_probability = None if sampler_probability is None else np.asarray(sampler_probability, np.float32)
        self.correction = keras_rs.layers.SamplingProbabilityCorrection()
        self.hard_negatives = (
            keras_rs.layers.HardNegativeMining(self.num_hard_negatives) if self.num_hard_negatives else None
        )

    def call(self, query, candidate, item_ids, negatives=None, negative_ids=None):
        # Every (B, C) op costs as much as the matmul at B = 1024 on a CPU, so the work is
        # arranged to touch the (B, C) logits as few times as possible: the temperature
        # scales the queries (B, d), logQ is a (1, C) row, the positive's logit is a row-wise
        # dot product (B,), and one `where` pushes down the positive's own column and its
        # accidental hits together (its true logit comes back first).
        batch = ops.shape(query)[0]
        query = query / self.temperature
        ids = ops.cast(item_ids, "int32")
        candidates = candidate
        if negatives is not None:
            candidates = ops.concatenate([candidate, negatives], axis=0)
            ids = ops.concatenate([ids, ops.cast(negative_ids, "int32")], axis=0)
        logits = ops.matmul(query, ops.transpose(candidates))  # (B, C)
        positive = ops.sum(query * candidate, axis=-1, keepdims=True)  # (B, 1): the diagonal
        if self.item_probability is not None:
            probability = ops.take(ops.convert_to_tensor(self.item_probability), ops.cast(item_ids, "int32"))
            if negatives is not None:
                sampled = ops.take(ops.convert_to_tensor(self.sampler_probability), ops.cast(negative_ids, "int32"))
                # Expected count among the batch's candidates, over B (see the module docstring).
                sampled = sampled * (self.num_negatives / ops.cast(batch, "float32"))
                probability = ops.concatenate([probability, sampled], axis=0)
            # keras-rs' layer broadcasts: a (1, C) row costs C logs, not B x C.
            logits = self.correction(logits, probability[None, :])
            positive = self.correction(positive, probability[:batch, None])
        columns = ops.arange(ops.shape(logits)[1])
        if self.remove_hits:
            # Row i's own column and every other column holding row i's item.
            pushed = ops.equal(ops.cast(item_ids, "int32")[:, None], ids[None, :])
        else:
            pushed = ops.equal(ops.arange(batch)[:, None], columns[None, :])
        negatives_only = ops.where(pushed, ACCIDENTAL_HIT_OFFSET, logits)
        logits = ops.concatenate([positive, negatives_only], axis=-1)  # (B, 1 + C), positive first
        if self.hard_negatives is not None:
            labels = ops.one_hot(ops.zeros((batch,), "int32"), ops.shape(logits)[1], dtype=logits.dtype)
            mined, labels = self.hard_negatives(logits, labels)
            positive = ops.sum(mined * labels, axis=-1, keepdims=True)
            logits = ops.concatenate([positive, ops.where(labels > 0, ACCIDENTAL_HIT_OFFSET, mined)], axis=-1)
        return logits

    def compute_output_shape(self, query_shape, *args, **kwargs):
        return (query_shape[0], None)

    def get_config(self):
        return {
            **super().get_config(),
            "item_probability": None if self.item_probability is None else self.item_probability.tolist(),
            "temperature": self.temperature,
            "remove_hits": self.remove_hits,
            "num_hard_negatives": self.num_hard_negatives,
            "sampler_probability": None if self.sampler_probability is None else self.sampler_probability.tolist(),
            "num_negatives": self.num_negatives,
        }


@keras.saving.register_keras_serializable(package="rsx_two_tower")
class NegativeSampler(keras.layers.Layer):
    """Draws `num_negatives` item ids per batch from `probability` (with replacement).

    Args:
        probability: (num_items,) sampling distribution; row 0 must be 0.
        num_negatives: ids drawn per call.
        seed: the draws' seed.

    Call args: item_ids (B,), only to tie the draw to the batch. Returns (N,) int32.
    """

    def __init__(self, probability, num_negatives: int, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.probability = np.asarray(probability, np.float32)
        self.num_negatives = int(num_negatives)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def call(self, item_ids):
        logits = ops.log(ops.convert_to_tensor(self.probability) + 1e-30)[None, :]
        draws = keras.random.categorical(logits, self.num_negatives, dtype="int32", seed=self.seed_generator)
        return ops.reshape(draws, (self.num_negatives,))

    def compute_output_shape(self, input_shape):
        return (self.num_negatives,)

    def get_config(self):
        return {**super().get_config(), "probability": self.probability.tolist(),
                "num_negatives": self.num_negatives, "seed": self.seed}
