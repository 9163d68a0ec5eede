"""The jax_dataparallel backend's implementation (imports keras and jax)."""

from __future__ import annotations

import contextlib
import dataclasses
import re

import jax
import keras

from rsx.api import FEATURE_KINDS, BackendPlugin, ConfigError, PluginError, RuntimeInfo, jit_compile_option
from rsx.api.engine import EmbeddingLookup, routed_optimizer

from .cluster import resolve_cluster
from .rendezvous import wait_for_processes
from .sharded_input import process_batches

#: The mesh axis the batch (and, with shard_tables, every table's rows) is split along.
BATCH_AXIS = "batch"
#: Name of the embeddings layer; table variables are "embeddings/<table>/embeddings".
EMBEDDINGS_LAYER = "embeddings"


class ReplicatedInputs(keras.distribution.DataParallel):
    """DataParallel whose inputs and outputs are whole on every device.

    Used for inference on several processes: each process feeds the whole batch and gets
    the whole result back, which `model.predict` needs to hand NumPy arrays to every
    process. Variables keep the layouts they were created with.
    """

    def get_data_layout(self, data_shape):
        return keras.distribution.TensorLayout([None] * len(data_shape), self.device_mesh)


class JaxDataParallelBackend(BackendPlugin):
    """Data parallelism with `keras.distribution` over a 1-D mesh of devices (or hosts).

    Every device holds a full replica of the model and sees 1/N of each global batch; XLA
    all-reduces the gradients. With `shard_tables`, `ModelParallel` and a `LayoutMap`
    instead split every embedding table's rows over the same devices, while the batch
    stays split as before.
    """

    feature_kinds = FEATURE_KINDS

    def setup(self) -> RuntimeInfo:
        config = self.config
        self.cluster = resolve_cluster(config)
        if self.cluster.multi_process:
            self._join_processes()
        devices = self._devices()
        self.mesh = keras.distribution.DeviceMesh((len(devices),), [BATCH_AXIS], devices)
        if config.shard_tables:
            # Filled with one entry per table in `embeddings()`, before any table exists.
            self.layout_map = keras.distribution.LayoutMap(self.mesh)
            distribution = keras.distribution.ModelParallel(
                layout_map=self.layout_map, batch_dim_name=BATCH_AXIS, auto_shard_dataset=False
            )
        else:
            # rsx shards the input itself (see `sharded_input`), so Keras must not.
            distribution = keras.distribution.DataParallel(device_mesh=self.mesh, auto_shard_dataset=False)
        keras.distribution.set_distribution(distribution)
        return RuntimeInfo(
            keras_backend=keras.config.backend(),
            device_kind=devices[0].device_kind.lower(),
            device_count=len(devices),
            replicas=len(devices),
            process_count=self.cluster.num_processes,
            process_index=self.cluster.process_id,
            tags={
                "distribution": type(distribution).__name__,
                "mesh": f"{BATCH_AXIS}:{len(devices)}",
                "embedding_placement": "sharded_over_devices" if config.shard_tables else "replicated",
            },
        )

    def _join_processes(self) -> None:
        cluster, timeout = self.cluster, self.config.coordinator_timeout_seconds
        wait_for_processes(cluster.coordinator_address, cluster.num_processes, cluster.process_id, timeout)
        jax.distributed.initialize(
            coordinator_address=cluster.coordinator_address,
            num_processes=cluster.num_processes,
            process_id=cluster.process_id,
            initialization_timeout=timeout,
        )

    def _devices(self) -> list:
        config, devices = self.config, jax.devices()
        if config.cpu_devices is not None and jax.local_device_count() != config.cpu_devices:
            raise PluginError(
                f"backend.cpu_devices={config.cpu_devices} but JAX started with "
                f"{jax.local_device_count()} devices in this process",
                "run each backend in a fresh process (python -m rsx ...)",
            )
        if config.devices is None:
            return devices
        if self.cluster.multi_process and config.devices != len(devices):
            raise ConfigError(
                f"backend.devices={config.devices} but a multi-process job spans all "
                f"{len(devices)} devices of its processes",
                "remove backend.devices (null) when backend.num_processes > 1",
            )
        if not 1 <= config.devices <= len(devices):
            raise ConfigError(
                f"backend.devices={config.devices} but JAX found {len(devices)} devices",
                f"choose 1..{len(devices)}, or null for all",
            )
        return devices[: config.devices]

    def embeddings(self, tables, features, global_batch_size):
        if self.config.shard_tables:
            tables = [self._shard(table) for table in tables]
        return EmbeddingLookup(tables, features, name=EMBEDDINGS_LAYER)

    def _shard(self, table):
        """Splits the table's rows over the mesh; rows are padded to a multiple of the devices
        (ids never reach the padding: the model's ids stay below its vocabulary size)."""
        shards = self.mesh.shape[0]
        rows = -(-table.vocabulary_size // shards) * shards
        path = f"{EMBEDDINGS_LAYER}/{re.escape(table.name)}/embeddings"
        if f"^{path}$" in list(self.layout_map):  # A table made again (another model): lay it out anew.
            del self.layout_map[f"^{path}$"]
        self.layout_map[f"^{path}$"] = (BATCH_AXIS, None)
        return dataclasses.replace(table, vocabulary_size=rows)

    def optimizer(self, dense, tables):
        return routed_optimizer(dense, tables)

    def dataset(self, columns, features, label, global_batch_size, training, shuffle, seed):
        return process_batches(
            columns,
            features,
            label,
            global_batch_size,
            shuffle=shuffle,
            seed=seed,
            num_devices=self.mesh.devices.size,
            num_processes=self.cluster.num_processes,
            process_id=self.cluster.process_id,
        )

    def compile_options(self):
        return {"jit_compile": jit_compile_option(self.config.jit_compile)}

    def inference_scope(self):
        if not self.cluster.multi_process:
            return contextlib.nullcontext()
        return ReplicatedInputs(device_mesh=self.mesh, auto_shard_dataset=False).scope()
