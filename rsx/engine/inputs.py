"""A model's input columns, read from the prepared data and checked against its `FeatureSpec`s.

Every backend gets the same checked arrays: ids inside their table, id lists at the declared
`max_length` (padded with 0, or truncated with a logged count), no NaN among numeric values.
A bad column fails here in one line naming the feature, not deep inside a backend (a JAX
lookup past a table's end silently gives NaN rows; TensorFlow raises an InvalidArgumentError).

Framework-free: NumPy only.
"""

from __future__ import annotations

import logging
import numpy as np

from rsx.contract import BackendPlugin, FeatureSpec, ModelPlugin, TableSpec
from rsx.data.prepared import PreparedData
from rsx.errors import ConfigError, DataError, PluginError

log = logging.getLogger("rsx")

#: What `trainer.feature_overflow` may say about rows with more ids than `max_length`.
OVERFLOW = ("truncate", "error")


def input_names(features: list[FeatureSpec]) -> list[str]:
    """The columns the model is fed: each feature's ids/values, then its weights if any."""
    return [name for feature in features for name in feature.inputs()]


def check_backend_realizes(backend: BackendPlugin, name: str, plugin: ModelPlugin) -> None:
    """Fails in one line when the model needs a feature kind the backend does not realize."""
    for feature in plugin.features():
        if feature.kind not in backend.feature_kinds:
            raise PluginError(
                f"model feature '{feature.name}' is {feature.kind}, which backend '{name}' does not "
                f"realize (it declares feature_kinds={tuple(backend.feature_kinds)})",
                "use a backend that does (cpu_reference, jax_dataparallel, tf_sparsecore), or "
                "realize the kind in its embeddings() and add it to BackendPlugin.feature_kinds",
            )


def model_columns(
    features: list[FeatureSpec],
    tables: list[TableSpec],
    data: PreparedData,
    split: str,
    label: str,
    overflow: str = "truncate",
) -> dict[str, np.ndarray]:
    """The split's model inputs and label, shaped and typed as `FeatureSpec` says.

    Args:
        features: the model's features.
        tables: the model's tables (ids are checked against their sizes).
        data: the prepared data; columns come from `data.columns(split, ...)`, so user/item
            side features are gathered per interaction.
        split: "train", "validation" or "test".
        label: the target column, returned as float32 (rows,).
        overflow: "truncate" rows with more non-padding ids than `max_length` (a sequence
            keeps its latest ids, a multi_hot its first) and log how many, or "error".

    Returns:
        column -> array: (rows,) int32 ids, (rows, max_length) int32 padded ids and float32
        weights, (rows,) float32 numeric values and label.

    Raises:
        DataError: a feature missing from the data, an id outside its table, a row longer than
            `max_length` (overflow="error"), NaN/inf in a numeric feature or weights; one line
            naming the feature and the split.
        ConfigError: an unknown `overflow`.
    """
    if overflow not in OVERFLOW:
        raise ConfigError(f"trainer.feature_overflow={overflow!r} is not one of {OVERFLOW}",
                          "use trainer.feature_overflow=truncate or =error")
    sizes = {t.name: t.vocabulary_size for t in tables}
    out = {}
    for feature in features:
        if feature.table is not None and feature.table not in sizes:
            raise DataError(f"model feature '{feature.name}' names table '{feature.table}', which "
                            "the model does not declare", f"declare it in tables() (have: {', '.join(sizes)})")
        raw = _column(data, split, feature.name)
        if feature.kind == "numeric":
            out[feature.name] = _finite(raw, feature.name, split, "model feature")
            continue
        ids = _ids(raw, feature, split)
        keep = None
        if feature.kind != "id":
            ids, keep = _fit_width(ids, feature, split, overflow)
        _check_range(ids, feature, sizes[feature.table], split)
        out[feature.name] = ids
        if feature.weights:
            weights = _finite(_column(data, split, feature.weights), feature.weights, split, "weights column")
            if weights.shape != np.shape(raw) and weights.shape != ids.shape:
                raise DataError(
                    f"weights '{feature.weights}' of model feature '{feature.name}' have shape "
                    f"{weights.shape} in the {split} split, but the ids have {np.shape(raw)}",
                    "give one weight per id position (0 at padding)")
            out[feature.weights] = _apply_width(weights.reshape(len(ids), -1), keep, feature.max_length)
    out[label] = np.asarray(_column(data, split, label), dtype=np.float32)
    return out


def _column(data: PreparedData, split: str, name: str) -> np.ndarray:
    try:
        return data.columns(split, [name])[name]
    except DataError as error:
        raise DataError(f"model feature '{name}' is not in data '{data.name}'", error.fix) from None


def _finite(values, name: str, split: str, what: str) -> np.ndarray:
    values = np.asarray(values)
    if not np.issubdtype(values.dtype, np.number):
        raise DataError(f"{what} '{name}' has dtype {values.dtype} in the {split} split",
                        "give it float values")
    values = values.astype(np.float32)
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataError(f"{what} '{name}' has {int(bad.sum())} NaN/inf values in the {split} split",
                        "fill missing values (e.g. with the training mean) when preparing the data")
    return values


def _ids(raw, feature: FeatureSpec, split: str) -> np.ndarray:
    raw = np.asarray(raw)
    if not np.issubdtype(raw.dtype, np.integer):
        raise DataError(f"model feature '{feature.name}' ({feature.kind}) has dtype {raw.dtype} in the "
                        f"{split} split", "give it integer ids (0 = padding/out of vocabulary)")
    if feature.kind == "id":
        if raw.ndim == 2 and raw.shape[1] == 1:
            raw = raw[:, 0]
        if raw.ndim != 1:
            raise DataError(f"model feature '{feature.name}' is declared kind 'id' but its column has "
                            f"shape {raw.shape}", "declare it multi_hot or sequence with max_length")
    elif raw.ndim == 1:
        raw = raw[:, None]
    elif raw.ndim != 2:
        raise DataError(f"model feature '{feature.name}' ({feature.kind}) has shape {raw.shape}",
                        "give it (rows, max_length) ids padded with 0")
    return raw.astype(np.int32, copy=False)


def _fit_width(ids: np.ndarray, feature: FeatureSpec, split: str, overflow: str):
    """Pads or truncates (rows, width) ids to (rows, max_length); returns them and, when
    truncated, the kept positions (so weights follow the same cut)."""
    width = ids.shape[1]
    if width <= feature.max_length:
        return _apply_width(ids, None, feature.max_length), None
    lengths = np.count_nonzero(ids, axis=1)
    over = int(np.count_nonzero(lengths > feature.max_length))
    if over and overflow == "error":
        raise DataError(
            f"model feature '{feature.name}' has {over} rows in the {split} split with more than "
            f"max_length={feature.max_length} ids (up to {int(lengths.max())})",
            "raise the feature's max_length, or set trainer.feature_overflow=truncate")
    if over:
        kept = "latest" if feature.kind == "sequence" else "first"
        log.warning("rsx: model feature '%s': %d of %d %s rows have more than %d ids; kept the %s %d",
                    feature.name, over, len(ids), split, feature.max_length, kept, feature.max_length)
    # Ids are left-aligned (padding at the end); a sequence keeps its latest ids.
    start = np.zeros(len(ids), dtype=np.int64)
    if feature.kind == "sequence":
        start = np.maximum(lengths - feature.max_length, 0)
    keep = start[:, None] + np.arange(feature.max_length)[None, :]
    return _apply_width(ids, keep, feature.max_length), keep


def _apply_width(values: np.ndarray, keep, max_length: int) -> np.ndarray:
    if keep is not None:
        return np.take_along_axis(values, keep, axis=1)
    if values.shape[1] < max_length:
        return np.pad(values, ((0, 0), (0, max_length - values.shape[1])))
    return values


def _check_range(ids: np.ndarray, feature: FeatureSpec, size: int, split: str) -> None:
    if not ids.size:
        return
    low, high = int(ids.min()), int(ids.max())
    if low < 0 or high >= size:
        bad = low if low < 0 else high
        raise DataError(
            f"model feature '{feature.name}' has id {bad} in the {split} split, outside table "
            f"'{feature.table}' of {size} rows (valid ids 0..{size - 1})",
            "size the table from the data (largest id + 1) or fix the ids",
        )

