"""The tf_sparsecore backend's implementation (imports TensorFlow, Keras and keras-rs)."""

from __future__ import annotations

import contextlib
import logging

import keras
import tensorflow as tf

from rsx.api import FEATURE_KINDS, BackendPlugin, PluginError, RsxError, RuntimeInfo, jit_compile_option
from rsx.api.engine import make_optimizer, routed_optimizer, tf_dataset

from . import wants_tpu
from .layer import DistributedLookup
from .tables import DEFAULT_DEVICE, SPARSECORE, feature_configs
from .tpu import NoTpu, TpuSystem, apply_sparsecore_limits, connect_tpu

log = logging.getLogger("rsx")


class TfSparseCoreBackend(BackendPlugin):
    """TPUStrategy + `DistributedEmbedding` on SparseCore; the default device without a TPU.

    Both paths build the same `keras_rs.layers.DistributedEmbedding` from the model's
    declarations and feed it batches of the same static global shape. On SparseCore each
    table is trained by the optimizer in its `TableConfig`; on the default device the tables
    are plain variables, so `TableRoutedOptimizer` gives each one its own optimizer there.
    """

    feature_kinds = FEATURE_KINDS
    #: Builds the TPU resolver; tests replace it with a fake.
    resolver_factory = None

    def __init__(self, config):
        super().__init__(config)
        self.tpu: TpuSystem | None = None
        self.fallback_reason = ""
        self._dense = None  # The dense optimizer's spec, once `optimizer()` was called.

    # ------------------------------------------------------------------ devices

    def setup(self) -> RuntimeInfo:
        mode = self.config.tpu
        if mode == "off":
            self.fallback_reason = "backend.tpu=off"
        elif not wants_tpu(self.config):
            self.fallback_reason = "no TPU runtime installed (libtpu is not importable)"
        else:
            try:
                self.tpu = connect_tpu(self.config.tpu_name, self.resolver_factory)
            except NoTpu as error:
                self.fallback_reason = f"no TPU at backend.tpu_name={self.config.tpu_name!r} ({error})"
        if self.tpu is None and mode == "required":
            raise RsxError(
                f"backend.tpu=required but {self.fallback_reason}",
                "run on a TPU VM (check backend.tpu_name), or set backend.tpu=auto to fall back",
            )
        if self.tpu is None and mode == "auto":
            log.warning(
                "rsx: tf_sparsecore runs WITHOUT a TPU: %s; DistributedEmbedding uses default_device "
                "placement under the default strategy on %s (tables keep their own optimizers); "
                "recorded as tag tpu_fallback=true",
                self.fallback_reason, self._local_device_kind(),
            )
        if self.tpu is not None and self.placement != SPARSECORE:
            # A TPU without SparseCore (e.g. v5e) still runs the model under TPUStrategy, with
            # the tables in the TensorCores' memory.
            log.warning(
                "rsx: tf_sparsecore: the TPU (%s) has no SparseCore; tables use default_device "
                "placement under TPUStrategy (tag embedding_placement=default_device)",
                self.tpu.device_kind,
            )
        return self.runtime_info()

    @property
    def placement(self) -> str:
        """Where the tables live: "sparsecore" on a TPU with SparseCore, else "default_device"."""
        if self.tpu is not None and self.tpu.sparsecore in ("v1", "v2"):
            return SPARSECORE
        return DEFAULT_DEVICE

    def runtime_info(self) -> RuntimeInfo:
        tags = {
            "embedding_placement": self.placement,
            "tpu_mode": self.config.tpu,
            "tpu_fallback": str(self.tpu is None).lower(),
            "strategy": type(self.strategy).__name__,
        }
        if self.tpu is None:
            tags["fallback_reason"] = self.fallback_reason
            return RuntimeInfo(
                keras_backend=keras.config.backend(),
                device_kind=self._local_device_kind(),
                device_count=1,
                replicas=1,
                tags=tags,
            )
        tags.update(
            {
                "tpu_name": self.config.tpu_name,
                "tpu_embedding_feature": self.tpu.sparsecore,
                "tpu_workers": str(self.tpu.workers),
                "table_stacking": str(self.config.table_stacking),
            }
        )
        return RuntimeInfo(
            keras_backend=keras.config.backend(),
            device_kind=self.tpu.device_kind,
            device_count=self.tpu.cores,
            replicas=self.tpu.cores,
            tags=tags,
        )

    @staticmethod
    def _local_device_kind() -> str:
        return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"

    @property
    def strategy(self):
        return self.tpu.strategy if self.tpu is not None else tf.distribute.get_strategy()

    @property
    def sparse_inputs(self) -> bool:
        """Whether padded ids reach DistributedEmbedding as tf.SparseTensors (`backend.sparse_inputs`)."""
        choice = str(self.config.sparse_inputs).lower()
        return self.placement == SPARSECORE if choice == "auto" else choice == "true"

    def scope(self):
        return self.tpu.strategy.scope() if self.tpu is not None else contextlib.nullcontext()

    def inference_scope(self):
        # SparseCore tables are read (lookups, `get_embedding_tables`) under their strategy.
        return self.scope()

    # ------------------------------------------------------------------ model parts

    def embeddings(self, tables, features, global_batch_size):
        if self._dense is None and any(t.optimizer is None for t in tables):
            raise PluginError(
                "tf_sparsecore needs the dense optimizer before the embeddings: a table without "
                "its own optimizer is trained by it, and SparseCore fixes a table's optimizer "
                "when the table is created",
                "call BackendPlugin.optimizer() before embeddings(), as rsx.engine.training does",
            )
        configs = feature_configs(
            tables,
            features,
            global_batch_size,
            dense=self._dense,
            placement=self.placement,
            max_ids_per_partition=self.config.max_ids_per_partition,
            max_unique_ids_per_partition=self.config.max_unique_ids_per_partition,
            sparse_inputs=self.sparse_inputs,
        )
        stacking = None if self.config.table_stacking == "none" else "auto"
        layer = DistributedLookup(
            configs, features, table_stacking=stacking, sparse_inputs=self.sparse_inputs, name="embeddings"
        )
        apply_sparsecore_limits(
            layer.distributed, self.config.max_ids_per_partition, self.config.max_unique_ids_per_partition
        )
        return layer

    def optimizer(self, dense, tables):
        self._dense = dense
        if self.placement == SPARSECORE:
            # SparseCore applies each table's optimizer itself; the compile optimizer only
            # ever sees the dense layers.
            return make_optimizer(dense)
        return routed_optimizer(dense, tables)

    def dataset(self, columns, features, label, global_batch_size, training, shuffle, seed):
        # Static shapes everywhere (as the tutorial: 312 train and 78 test steps on 80k/20k
        # at 256): SparseCore's lookups are compiled for exactly one global batch.
        data = tf_dataset(
            columns, features, label, global_batch_size, shuffle=shuffle, seed=seed, drop_remainder=True
        )
        if self.tpu is None:
            return data
        # On SparseCore the ids stay on the host, where the embedding enqueue reads them.
        options = tf.distribute.InputOptions(experimental_fetch_to_device=self.placement != SPARSECORE)
        return self.tpu.strategy.experimental_distribute_dataset(data, options=options)

    def compile_options(self):
        if self.tpu is not None:
            return {}
        return {"jit_compile": jit_compile_option(self.config.jit_compile)}
