"""Finding the TPU and building the `TPUStrategy`, as the KerasRS SparseCore tutorial does."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class TpuSystem:
    """A connected, initialized TPU system and the strategy over all its cores.

    Args:
        strategy: `tf.distribute.TPUStrategy` over every core, one replica per core.
        cores: TPU cores (= replicas).
        workers: TPU hosts taking part.
        device_kind: what the TPU reports itself as, e.g. "TPU v6 lite", or "tpu".
        sparsecore: the TPU's embedding hardware: "v2" (SparseCore), "v1", or "unsupported".
    """

    strategy: Any
    cores: int
    workers: int
    device_kind: str
    sparsecore: str


class NoTpu(Exception):
    """No TPU could be connected; the message says why, in one line."""


def connect_tpu(
    tpu_name: str,
    resolver_factory: Optional[Callable[..., Any]] = None,
) -> TpuSystem:
    """Resolves `tpu_name`, initializes the TPU system and builds a `TPUStrategy` over all cores.

    Raises `NoTpu` (one line: what failed) when there is no TPU to use.

    Args:
        tpu_name: "local" for this TPU VM, a TPU name, or "grpc://host:port".
        resolver_factory: builds the resolver (tests pass a fake);
            `tf.distribute.cluster_resolver.TPUClusterResolver` by default.
    """
    factory = resolver_factory or tf.distribute.cluster_resolver.TPUClusterResolver
    try:
        resolver = factory(tpu=tpu_name)
        if tpu_name != "local":  # A remote TPU; the local TPU VM needs no connection (tutorial).
            tf.config.experimental_connect_to_cluster(resolver)
        topology = tf.tpu.experimental.initialize_tpu_system(resolver)
        metadata = resolver.get_tpu_system_metadata()
    except Exception as error:  # Resolver, metadata server, runtime: any of them means no TPU.
        raise NoTpu(_one_line(error)) from error
    if metadata.num_cores < 1:
        raise NoTpu(f"the TPU system '{tpu_name}' reports no cores")
    device_assignment = tf.tpu.experimental.DeviceAssignment.build(topology, num_replicas=metadata.num_cores)
    strategy = tf.distribute.TPUStrategy(resolver, experimental_device_assignment=device_assignment)
    return TpuSystem(
        strategy=strategy,
        cores=int(metadata.num_cores),
        workers=int(metadata.num_hosts),
        device_kind=_device_kind(),
        sparsecore=_embedding_feature(strategy),
    )


def _embedding_feature(strategy) -> str:
    feature = strategy.extended.tpu_hardware_feature.embedding_feature
    names = {
        tf.tpu.experimental.HardwareFeature.EmbeddingFeature.V2: "v2",
        tf.tpu.experimental.HardwareFeature.EmbeddingFeature.V1: "v1",
        tf.tpu.experimental.HardwareFeature.EmbeddingFeature.UNSUPPORTED: "unsupported",
    }
    return names.get(feature, str(feature))


def _device_kind() -> str:
    try:
        devices = tf.config.list_physical_devices("TPU")
        details = tf.config.experimental.get_device_details(devices[0]) if devices else {}
        return str(details.get("device_name") or "tpu")
    except Exception:  # Details are informative only; an older runtime may not give them.
        return "tpu"


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    text = text[:200] + ("..." if len(text) > 200 else "")
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def apply_sparsecore_limits(layer, max_ids: int, max_unique_ids: int) -> None:
    """Gives TensorFlow's SparseCore the per-table buffer limits from the backend config.

    keras-rs 0.4 forwards `TableConfig.max_ids_per_partition` to JAX only; on TensorFlow every
    (stacked) table gets TF's default of 256. TensorFlow reads the limits from these dicts
    when it builds the lookup, so setting them right after the layer is created takes
    effect. A stacked table takes the sum of its tables' limits. No-op off SparseCore v2.

    Args:
        layer: the `keras_rs.layers.DistributedEmbedding`.
        max_ids: per table, most ids per partition per step.
        max_unique_ids: per table, most distinct ids per partition per step.
    """
    embedding = getattr(layer, "_tpu_embedding", None)
    stacks = getattr(embedding, "_stacked_table_to_tables", None)
    if not stacks:
        return
    for stack, tables in stacks.items():
        embedding._table_to_max_ids_per_sparse_core[stack] = max_ids * len(tables)
        embedding._table_to_max_unique_ids_per_sparse_core[stack] = max_unique_ids * len(tables)
