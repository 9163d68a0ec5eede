"""The public surface plugin authors import; nothing here imports a framework.

A backend plugin publishes a `BackendSpec` and implements `BackendPlugin`; a model plugin
publishes a `ModelSpec` and implements `ModelPlugin`. Keras-side building blocks that
backends share (plain embedding tables, per-table optimizers, tf.data input) live in
`rsx.api.engine`, to be imported only from a plugin's implementation module.
"""

from rsx.contract import (
    FEATURE_KINDS,
    BackendPlugin,
    BackendSpec,
    FeatureSpec,
    ModelPlugin,
    ModelSpec,
    OptimizerSpec,
    RuntimeInfo,
    TableSpec,
)
from rsx.data.prepared import ITEM_ID, LABEL, RATING, TIMESTAMP, USER_ID, PreparedData
from rsx.data.schema import Schema, SideFeature
from rsx.errors import ConfigError, DataError, PluginError, RsxError
from rsx.model_inputs import ModelInputs, check_target, declare_inputs
from rsx.options import OptimizerConfig, jit_compile_option

__all__ = [
    "FEATURE_KINDS",
    "BackendPlugin",
    "BackendSpec",
    "ConfigError",
    "DataError",
    "FeatureSpec",
    "LABEL",
    "ITEM_ID",
    "ModelInputs",
    "ModelPlugin",
    "ModelSpec",
    "OptimizerConfig",
    "OptimizerSpec",
    "PluginError",
    "PreparedData",
    "RATING",
    "RsxError",
    "RuntimeInfo",
    "Schema",
    "SideFeature",
    "TIMESTAMP",
    "TableSpec",
    "USER_ID",
    "check_target",
    "declare_inputs",
    "jit_compile_option",
]
