"""The public surface plugin authors import; nothing here imports a framework.

A backend plugin publishes a `BackendSpec` and implements `BackendPlugin`; a model plugin
publishes a `ModelSpec` and implements `ModelPlugin`; a dataset plugin publishes a
`DatasetSpec` whose `prepare(config)` reads its source into `Interactions` and hands them to
`prepare_interactions` (the one pipeline: clean, split, vocabularies, feature tables). Keras-side building blocks that
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
from rsx.config import DatasetConfig, SplitConfig
from rsx.data.files import fingerprint, line_of, numeric_column, read_table, table_files
from rsx.data.pipeline import FeatureColumn, Interactions
from rsx.data.pipeline import prepare as prepare_interactions
from rsx.data.prepared import ITEM_ID, LABEL, RATING, TIMESTAMP, USER_ID, PreparedData
from rsx.data.schema import Schema, SideFeature
from rsx.data.spec import DatasetSpec
from rsx.errors import ConfigError, DataError, PluginError, RsxError
from rsx.model_inputs import ModelInputs, check_target, declare_inputs
from rsx.options import OptimizerConfig, jit_compile_option
from rsx.ranges import Range, at_least, between, one_of, or_null, ranged

__all__ = [
    "Range",
    "at_least",
    "between",
    "one_of",
    "or_null",
    "ranged",
    "FEATURE_KINDS",
    "BackendPlugin",
    "BackendSpec",
    "ConfigError",
    "DataError",
    "DatasetConfig",
    "DatasetSpec",
    "FeatureColumn",
    "Interactions",
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
    "SplitConfig",
    "TIMESTAMP",
    "TableSpec",
    "USER_ID",
    "check_target",
    "declare_inputs",
    "fingerprint",
    "jit_compile_option",
    "line_of",
    "numeric_column",
    "prepare_interactions",
    "read_table",
    "table_files",
]
