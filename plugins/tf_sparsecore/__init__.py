"""tf_sparsecore: TPUStrategy with embedding tables sharded over SparseCore, or an honest fallback.

On a TPU VM (v5p, v6e) the model's tables become `keras_rs.layers.DistributedEmbedding`
tables placed on SparseCore, each trained by its own optimizer, under `tf.distribute.
TPUStrategy` over all cores. Without a TPU (`backend.tpu=auto`, the default) the same layer
runs with `default_device` placement under the default strategy, the tables still trained by
their own optimizers; the run says so once on the console and in its MLflow tags
(`tpu_fallback=true`, `embedding_placement=default_device`).

This module is the framework-free spec: importing it, or calling `environment`, imports no
TensorFlow (its TPU variables only work when set before TensorFlow starts).
"""

from __future__ import annotations

import importlib.util

from rsx.api import BackendSpec, ConfigError, jit_compile_option

from .config import TfSparseCoreConfig

TPU_MODES = ("auto", "required", "off")
TABLE_STACKING = ("auto", "none")

#: How multi-hot/sequence ids reach DistributedEmbedding (see `layer.DistributedLookup`).
SPARSE_INPUTS = ("auto", "true", "false")
#: The MLIR bridge flags the KerasRS SparseCore tutorial sets before importing TensorFlow.
TF_XLA_FLAGS = (
    "--tf_mlir_enable_mlir_bridge=true "
    "--tf_mlir_enable_convert_control_to_data_outputs_pass=true "
    "--tf_mlir_enable_merge_control_flow_pass=true"
)


def check_config(config) -> None:
    """Rejects values OmegaConf's types cannot (free-text choices), naming the key
    (`BackendSpec.check`)."""
    if config.tpu not in TPU_MODES:
        raise ConfigError(f"backend.tpu={config.tpu!r} is not one of {', '.join(TPU_MODES)}", "set backend.tpu=auto")
    if str(config.table_stacking) not in TABLE_STACKING:
        raise ConfigError(
            f"backend.table_stacking={config.table_stacking!r} is not one of {', '.join(TABLE_STACKING)}",
            "set backend.table_stacking=auto (TensorFlow stacks automatically or not at all)",
        )
    jit_compile_option(config.jit_compile)
    if str(config.sparse_inputs).lower() not in SPARSE_INPUTS:
        raise ConfigError(
            f"backend.sparse_inputs={config.sparse_inputs!r} is not one of {', '.join(SPARSE_INPUTS)}",
            "set backend.sparse_inputs=auto (sparse on SparseCore, dense on the default device)",
        )
    for key in ("max_ids_per_partition", "max_unique_ids_per_partition"):
        if int(getattr(config, key)) < 1:
            raise ConfigError(f"backend.{key}={getattr(config, key)} must be positive", f"set backend.{key}=256")


def libtpu_installed() -> bool:
    """Whether the TPU runtime (the `libtpu` package) is importable; imports nothing."""
    return importlib.util.find_spec("libtpu") is not None


def wants_tpu(config) -> bool:
    """Whether this run sets up the TPU runtime: a TPU is allowed and plausibly present.

    A TPU is plausible when libtpu is installed (a TPU VM) or a remote TPU is named. The
    implementation probes the TPU only then, so a laptop never waits on a TPU resolver.
    """
    if config.tpu == "off":
        return False
    return libtpu_installed() or config.tpu_name not in ("local", "")


def environment(config) -> dict[str, str]:
    """KERAS_BACKEND=tensorflow, plus the TPU runtime variables when a TPU is to be used.

    Pure and framework-free: `libtpu` is located without importing TensorFlow.
    """
    env = {"KERAS_BACKEND": "tensorflow"}
    if config.tpu == "required" and not wants_tpu(config):
        raise ConfigError(
            "backend.tpu=required but no TPU runtime is installed (libtpu is not importable) "
            f"and backend.tpu_name={config.tpu_name!r} names no remote TPU",
            "on a TPU VM install rsx with the tpu extra (pip install 'rsx[tpu]'), "
            "or set backend.tpu=auto to fall back to CPU",
        )
    if wants_tpu(config) and libtpu_installed():
        import libtpu  # A small package of paths; it does not start TensorFlow.

        env.update(
            {
                "PJRT_DEVICE": "TPU",
                "NEXT_PLUGGABLE_DEVICE_USE_C_API": "true",
                "TF_PLUGGABLE_DEVICE_LIBRARY_PATH": libtpu.get_library_path(),
                "TF_XLA_FLAGS": TF_XLA_FLAGS,
            }
        )
    return env


spec = BackendSpec(
    name="tf_sparsecore",
    config=TfSparseCoreConfig,
    implementation="rsx_plugins.tf_sparsecore.backend:TfSparseCoreBackend",
    environment=environment,
    check=check_config,
    description="TensorFlow TPUStrategy, tables on SparseCore via keras-rs DistributedEmbedding (CPU fallback)",
)
