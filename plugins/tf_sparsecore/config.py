"""Config of the tf_sparsecore backend (`backend=tf_sparsecore`)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class TfSparseCoreConfig:
    # Plugin name; selects this backend.
    name: str = "tf_sparsecore"
    # Whether to use a TPU: "auto" uses one when found and otherwise falls back to
    # DistributedEmbedding with default_device placement (one warning, tagged tpu_fallback=true);
    # "required" fails without a TPU; "off" runs the fallback on purpose.
    tpu: str = "auto"
    # TPUClusterResolver's `tpu`: "local" (this TPU VM), a TPU name, or "grpc://host:port".
    tpu_name: str = "local"
    # SparseCore table stacking: "auto" stacks tables of the same width and optimizer into one
    # (fewer, larger lookups); "none" keeps every table separate.
    table_stacking: str = "auto"
    # Most ids of one table that one SparseCore partition takes in one step (TF's default: 256).
    # Raise it when TF warns about dropped ids: large global batches or very popular ids.
    max_ids_per_partition: int = 256
    # Most distinct ids of one table that one SparseCore partition takes in one step.
    max_unique_ids_per_partition: int = 256
    # XLA-compile the train step off TPU: "auto" lets Keras decide, or true/false.
    # (TPUStrategy always compiles.)
    jit_compile: str = "auto"
    # How multi-hot and sequence ids reach DistributedEmbedding: "auto" = as tf.SparseTensor
    # (padding dropped) on SparseCore and dense with 0-weighted padding on the default device;
    # "true"/"false" force one form (e.g. to check the sparse form on CPU).
    sparse_inputs: str = "auto"
