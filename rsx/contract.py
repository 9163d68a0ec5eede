"""The plugin contract: what a model declares and what a backend realizes.

A *model plugin* says what it needs, in framework-free terms: its input features, the
embedding tables behind them (vocabulary, dimension, the table's own optimizer, combiner),
and, once Keras is importable, its dense part, loss and metrics. A *backend plugin* decides
how that is realized: plain `keras.layers.Embedding`, tables sharded over devices, or
SparseCore; the device/strategy set-up; the optimizers; and the input pipeline's shape
constraints. Models never branch on the backend; backends never know which model runs.

Each plugin is announced by a light *spec* (`BackendSpec`, `ModelSpec`) published through
an entry point (`rsx.backends` / `rsx.models`). A spec holds the config dataclass and the
dotted path of the implementation, which is imported only after the backend's environment
(KERAS_BACKEND, XLA_FLAGS, TPU variables) is set: Keras fixes its backend at import.

Plugin authors import from `rsx.api` only. This module imports no framework.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import importlib
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

from rsx.errors import PluginError

if TYPE_CHECKING:  # Only for type checkers: importing these at run time fixes Keras' backend.
    import keras
    import numpy as np

    from rsx.data.prepared import PreparedData


# --------------------------------------------------------------------------- declarations


@dataclasses.dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer by Keras name and learning rate, resolved by the backend.

    Args:
        name: a `keras.optimizers.get` identifier ("adam", "adagrad", "sgd", ...).
        learning_rate: the learning rate.
    """

    name: str = "adagrad"
    learning_rate: float = 0.001

    @classmethod
    def from_config(cls, config: Any) -> Optional["OptimizerSpec"]:
        """The spec of an `OptimizerConfig` node; None stays None ("no own optimizer")."""
        return None if config is None else cls(str(config.name), float(config.learning_rate))


@dataclasses.dataclass(frozen=True)
class TableSpec:
    """An embedding table a model needs; the backend decides where and how it lives.

    Args:
        name: unique table name; backends name the table's layer/variables after it.
        vocabulary_size: number of rows (largest id + 1).
        embedding_dim: width of each row.
        optimizer: the table's own optimizer; None trains the table with the dense optimizer.
        combiner: how several ids of one example are reduced ("mean", "sum", "sqrtn").
        initializer: how rows start, as `keras.initializers.get` takes it: a name
            ("uniform") or a serialized initializer ({"class_name": "VarianceScaling",
            "config": {"mode": "fan_out"}}, keras-rs' `TableConfig` default).
    """

    name: str
    vocabulary_size: int
    embedding_dim: int
    optimizer: Optional[OptimizerSpec] = None
    combiner: str = "mean"
    initializer: Any = "uniform"


#: What a `FeatureSpec` can be; see its docstring for shapes.
FEATURE_KINDS = ("id", "multi_hot", "numeric", "sequence")
#: The kinds looked up in a table (everything but "numeric").
TABLE_KINDS = ("id", "multi_hot", "sequence")


@dataclasses.dataclass(frozen=True)
class FeatureSpec:
    """An input of the model: a column of the prepared data, and the table it is looked up in.

    Every kind has a static shape, so every backend (SparseCore included) sees fixed shapes.
    Variable-length id lists are padded to `max_length` with 0, torchrec's jagged batch laid
    out densely; 0 is never a real id (row 0 is the out-of-vocabulary/padding row):

        kind       input the model gets        embeddings(...) gives
        id         (batch,) int32              (batch, dim)
        multi_hot  (batch, max_length) int32   (batch, dim): the non-zero ids reduced by the
                                                table's combiner (mean | sum | sqrtn), scaled by
                                                `weights` if given; an all-padding row -> zeros
        numeric    (batch,) float32            - (no table: the model reads the input itself)
        sequence   (batch, max_length) int32   (batch, max_length, dim), unreduced, oldest
                                                first; padding positions are zero vectors, so
                                                the model masks with `ids != 0`

    For example, genres of a batch of three movies with `max_length=3`:

        ids                   weights (optional)      lengths
        [[4, 9, 0],           [[1.0, 0.5, 0.0],       2
         [6, 0, 0],            [1.0, 0.0, 0.0],       1
         [0, 0, 0]]            [0.0, 0.0, 0.0]]       0  (no genre: a zero vector)

    Several features may share one table (e.g. `item_id` and `history`, a sequence of items).

    Args:
        name: the input key: a column `PreparedData.columns()` returns ("user_id", "genres").
        table: the `TableSpec` the ids are looked up in; None (only) for numeric features.
        kind: one of `FEATURE_KINDS`.
        max_length: padded width of a multi_hot or sequence feature; 1 otherwise. Data rows
            with more ids are truncated (with a logged count) or rejected, by
            `trainer.feature_overflow`.
        weights: multi_hot only: the column of per-id float32 weights, shaped like the ids
            (0 at padding), that the combiner applies; None weighs every id 1.

    Raises:
        PluginError: an unknown kind, or a field that does not fit the kind; names the feature.
    """

    name: str
    table: Optional[str] = None
    kind: str = "id"
    max_length: int = 1
    weights: Optional[str] = None

    def __post_init__(self):
        problem = self._problem()
        if problem:
            raise PluginError(f"model feature '{self.name}' {problem[0]}", problem[1])

    def _problem(self) -> Optional[tuple[str, str]]:
        if self.kind not in FEATURE_KINDS:
            return f"has unknown kind '{self.kind}'", f"use one of: {', '.join(FEATURE_KINDS)}"
        if self.kind == "numeric" and self.table is not None:
            return f"is numeric but names table '{self.table}'", "drop the table: numeric inputs are read directly"
        if self.kind != "numeric" and not self.table:
            return f"of kind '{self.kind}' names no table", "set FeatureSpec.table"
        if self.kind in ("multi_hot", "sequence"):
            if self.max_length < 1:
                return f"has max_length={self.max_length}", "use the padded width (>= 1)"
        elif self.max_length != 1:
            return f"of kind '{self.kind}' has max_length={self.max_length}", "only multi_hot/sequence take max_length"
        if self.weights is not None and self.kind != "multi_hot":
            return f"of kind '{self.kind}' has weights", "only multi_hot features take weights"
        return None

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one example's input: () or (max_length,)."""
        return (self.max_length,) if self.kind in ("multi_hot", "sequence") else ()

    @property
    def dtype(self) -> str:
        """Dtype of the input: "float32" for numeric, else "int32"."""
        return "float32" if self.kind == "numeric" else "int32"

    def inputs(self) -> list[str]:
        """The data columns this feature reads: its ids/values, and its weights if any."""
        return [self.name] + ([self.weights] if self.weights else [])


@dataclasses.dataclass(frozen=True)
class RuntimeInfo:
    """What a backend actually set up; recorded as MLflow tags.

    Args:
        keras_backend: the Keras backend in use ("tensorflow", "jax", "torch").
        device_kind: e.g. "cpu", "TPU v6e", "gpu".
        device_count: devices the model is replicated or sharded over.
        replicas: data-parallel replicas; global batch = per-replica batch x replicas.
        process_count: processes taking part (multi-host); 1 on a single machine.
        process_index: this process's index; only process 0 records to MLflow.
        tags: further backend-specific tags, e.g. the embedding placement actually used.
    """

    keras_backend: str
    device_kind: str
    device_count: int = 1
    replicas: int = 1
    process_count: int = 1
    process_index: int = 0
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)


# --------------------------------------------------------------------------- plugins


class ModelPlugin(abc.ABC):
    """A recommender model: declares its needs, builds its Keras graph on what a backend gives.

    Created after the backend's environment is set, so methods may import keras.

    Args:
        config: this plugin's config, an instance of its config dataclass (`ModelSpec.config`).
        data: the prepared data; use it for vocabulary sizes, the schema of side features
            (`data.schema`) and titles, not to train.
    """

    def __init__(self, config: Any, data: "PreparedData"):
        self.config = config
        self.data = data

    @abc.abstractmethod
    def features(self) -> list[FeatureSpec]:
        """The inputs, in the order the model reads them (see `FeatureSpec` for shapes).

        rsx reads their columns with `data.columns(split, names)` (weights columns included),
        checks them against the declared kinds, tables and lengths, and feeds them by name.
        """

    @abc.abstractmethod
    def tables(self) -> list[TableSpec]:
        """The embedding tables behind `features()`; several features may share one."""

    @abc.abstractmethod
    def build(self, embeddings: "keras.layers.Layer", global_batch_size: int) -> "keras.Model":
        """Returns the Keras model.

        Args:
            embeddings: a layer from the backend mapping {feature name: ids} for every feature
                with a table (plus {weights column: weights} for weighted multi_hot features)
                to {feature name: vectors}, shaped per kind as `FeatureSpec` says; call it on
                the dict of inputs. Built once; reuse it for every lookup (e.g. candidates).
            global_batch_size: examples per step over all replicas, which the embeddings were
                made for. Run lookups outside fit/evaluate (e.g. over all candidates) in
                batches of exactly this size: some backends (SparseCore) accept no other.
        """

    def optimizer(self) -> OptimizerSpec:
        """The optimizer of the dense part (and of tables declaring none)."""
        return OptimizerSpec()

    def loss(self) -> Any:
        """A Keras loss identifier or instance."""
        return "mean_squared_error"

    def metrics(self) -> list[Any]:
        """Keras metrics compiled into the model; their names become MLflow metric names."""
        return []

    def label(self) -> str:
        """The column of the prepared data the model is trained to predict."""
        return "label"

    def evaluate_extra(self, model: "keras.Model", data: "PreparedData") -> dict[str, float]:
        """Further test metrics beyond Keras' evaluate (e.g. recall@k); prefixed by nothing."""
        return {}

    def artifacts(self, model: "keras.Model", data: "PreparedData") -> dict[str, Any]:
        """Files to attach to the run: file name -> str (text) or JSON-serializable object."""
        return {}


class BackendPlugin(abc.ABC):
    """Realizes a model's declarations on some devices with some Keras backend.

    Created after the environment from `BackendSpec.environment` is applied, so methods may
    import keras and the framework.

    Args:
        config: this plugin's config, an instance of its config dataclass (`BackendSpec.config`).
    """

    #: The `FeatureSpec` kinds `embeddings()` realizes. A v1 backend (written before kinds
    #: existed) realizes ids only; a model needing more fails in one line naming the feature.
    feature_kinds: tuple[str, ...] = ("id", "numeric")

    def __init__(self, config: Any):
        self.config = config

    @abc.abstractmethod
    def setup(self) -> RuntimeInfo:
        """Initializes devices/strategy/distribution once; says what it set up."""

    def scope(self) -> contextlib.AbstractContextManager:
        """Context in which the model and optimizers are created (e.g. `strategy.scope()`)."""
        return contextlib.nullcontext()

    @abc.abstractmethod
    def embeddings(
        self, tables: list[TableSpec], features: list[FeatureSpec], global_batch_size: int
    ) -> "keras.layers.Layer":
        """A layer mapping {feature: ids} -> {feature: vectors} for the declared tables.

        It must realize every kind in `TABLE_KINDS` with the shapes `FeatureSpec` gives, take
        a weighted multi_hot feature's weights under the weights column's name in the same
        dict, accept any subset of the features (e.g. only candidates' `item_id`), and
        round-trip through `.keras` saving. `features` holds numeric features too; skip them.

        Called after `optimizer()`, inside `scope()`.
        """

    @abc.abstractmethod
    def optimizer(self, dense: OptimizerSpec, tables: list[TableSpec]) -> "keras.optimizers.Optimizer":
        """The compile optimizer; it must honour each table's own optimizer where given.

        Called before `embeddings()`, so a backend that fixes each table's optimizer when it
        creates the table can train tables without one with `dense`.
        """

    @abc.abstractmethod
    def dataset(
        self,
        columns: Mapping[str, "np.ndarray"],
        features: list[str],
        label: str,
        global_batch_size: int,
        training: bool,
        shuffle: bool,
        seed: int,
    ) -> Any:
        """What `model.fit`/`evaluate` consume: batches of ({feature: ids}, label).

        Args:
            columns: the split's model inputs and label, one row per example, checked and
                shaped as `FeatureSpec` says: (rows,) or (rows, max_length), int32 ids or
                float32 values/weights.
            features: which columns are model inputs (weights columns included).
            label: which column is the target.
            global_batch_size: per-replica batch x replicas.
            training: the training split (static shapes may drop a short last batch there).
            shuffle: reshuffle rows every epoch (`trainer.shuffle`, training split only).
            seed: shuffle seed; the same seed gives the same batch order.
        """

    def compile_options(self) -> dict[str, Any]:
        """Extra `model.compile` keyword arguments (jit_compile, steps_per_execution...)."""
        return {}

    def inference_scope(self) -> contextlib.AbstractContextManager:
        """Context in which a trained model runs outside fit/evaluate (`evaluate_extra`,
        `artifacts`): where `model.predict` needs a different set-up than training, e.g. on
        several processes, whose outputs must come back whole to every process."""
        return contextlib.nullcontext()


# --------------------------------------------------------------------------- specs


def plugin_config(node: Any) -> Any:
    """A plugin's config as plugins receive it: an instance of its config dataclass.

    Composed configs are OmegaConf nodes; `OmegaConf.to_object` turns a node made from a
    dataclass schema back into that dataclass (nested dataclasses too). Anything else (a
    dataclass instance already, or a placeholder of a broken plugin) is returned unchanged.
    """
    from omegaconf import OmegaConf  # Light; keeps this module free of it at import.

    return OmegaConf.to_object(node) if OmegaConf.is_config(node) else node


def _load_object(dotted: str) -> Any:
    module_name, _, attribute = dotted.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


@dataclasses.dataclass(frozen=True)
class BackendSpec:
    """What an `rsx.backends` entry point resolves to; importing it must stay cheap.

    Args:
        name: the name users select with `backend=<name>`.
        config: the plugin's config dataclass; its `name` field defaults to `name`.
        implementation: "module:Class" of the `BackendPlugin`, imported after `environment`.
        environment: config -> environment variables to set before the first framework
            import. Must include KERAS_BACKEND. Pure: imports no framework.
        description: one line shown in plugin listings and `--help`.
        process_index: config -> this process's index in a multi-process job (0 when there
            is one process), known before any framework starts; only process 0 opens an
            MLflow run. Pure, like `environment`.
        check: config -> None, raising `ConfigError` (one line naming the key) for values
            the config's types cannot reject (free-text choices, ranges, combinations).
            Called before `environment`, before any framework import; `environment` and the
            plugin may then trust the config.

    Every callable here and the plugin itself receive the config as an instance of `config`
    (the dataclass), never an OmegaConf node.
    """

    name: str
    config: type
    implementation: str
    environment: Callable[[Any], Mapping[str, str]]
    description: str = ""
    process_index: Callable[[Any], int] = lambda config: 0
    check: Optional[Callable[[Any], None]] = None

    def load(self) -> type[BackendPlugin]:
        """Imports the implementation; call only after `environment` is applied."""
        return _load_object(self.implementation)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What an `rsx.models` entry point resolves to; importing it must stay cheap.

    Args:
        name: the name users select with `model=<name>`.
        config: the plugin's config dataclass; its `name` field defaults to `name`.
        implementation: "module:Class" of the `ModelPlugin`, imported after the environment.
        description: one line shown in plugin listings and `--help`.
        main_metric: the final metric that ranks runs of this model (sweeps, Optuna, reports).
        greater_is_better: whether a larger `main_metric` is better.
        check: config -> None, raising `ConfigError` for values the config's types cannot
            reject (e.g. two towers of different widths); called before any framework import,
            so a bad value fails in one line before data is prepared or Keras starts.
    """

    name: str
    config: type
    implementation: str
    description: str = ""
    main_metric: str = "test_loss"
    greater_is_better: bool = False
    check: Optional[Callable[[Any], None]] = None

    def load(self) -> type[ModelPlugin]:
        return _load_object(self.implementation)
