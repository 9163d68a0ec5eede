"""The one preparation pipeline every dataset plugin ends in: a pandas frame -> `PreparedData`.

    frame -> integrity.clean -> split.split_rows -> id vocabularies -> encoded id arrays
          -> user/item feature tables (statistics on train) -> users' histories (train)
          -> PreparedData

A reader (MovieLens files, a CSV, RecBole atomic files, a generator) only turns its source
into an `Interactions`: one row per interaction with raw ids of any type, optional user/item
tables indexed by raw id, and the side-feature columns with their kinds. Everything that can
leak or silently differ between datasets (what counts as train, which ids get rows, where
normalization statistics come from) happens here, once.

Vocabularies (`vocabulary: dense`): raw ids, sorted, become rows 1..n; 0 is out of
vocabulary (an id met only at serving time, or with `vocabulary_from: train` only in
validation/test). Which ids get rows is `vocabulary_from`: "all" (the default) takes the ids of
every interaction kept after cleaning, before the split: only the ids, never a label, so
nothing leaks, and an item first rated in the test split gets its own row and its own side
features instead of sharing row 0 (its embedding stays untrained: it is still counted as cold,
against the training rows). The user/item feature files' ids are not added: an item nobody
rated would only grow the tables. "train" takes the training rows' ids only.
`PreparedData.vocabularies[c]` holds the raw value of each row (row 0: a placeholder).
`vocabulary: raw` keeps integer ids as rows (the tutorial presets' exact tables).
Side-feature statistics (numeric mean/std, category and token vocabularies, multi-hot width)
come from the entities of the training rows in every case.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from rsx.data.history import HISTORY, user_histories
from rsx.data.prepared import ITEM_ID, LABEL, RATING, TIMESTAMP, USER_ID, PreparedData
from rsx.data.schema import Schema, SideFeature
from rsx.errors import ConfigError, DataError

if TYPE_CHECKING:
    import pandas as pd

from rsx.config import VOCABULARIES, VOCABULARY_FROM  # noqa: E402  (one list, beside the key)
from rsx.data.schema import TARGETS  # noqa: E402
#: Kinds a reader can declare for a side-feature column (sequence features are derived).
COLUMN_KINDS = ("categorical", "multi_hot", "numeric")
#: The largest row an int32 lookup can take.
_MAX_ROW = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class FeatureColumn:
    """A side-feature column as a reader hands it over.

    Args:
        name: the column's name in its frame, and the feature's name in the prepared data.
        kind: "categorical" (one value), "multi_hot" (a list: a Python list/array per cell,
            or one string with `separator` between tokens) or "numeric".
        entity: "user" / "item" (a property of the id: read from `Interactions.users` /
            `.items` when the column is there, else the last value per id in the
            interactions) or "interaction" (one value per interaction row).
        separator: multi_hot string cells: the token separator, e.g. "|" for genres.
        max_length: multi_hot: the padded width; 0 = the longest list in the training data
            (longer lists keep their first `max_length` tokens).
    """

    name: str
    kind: str
    entity: str = "item"
    separator: str = "|"
    max_length: int = 0

    def __post_init__(self):
        if self.kind not in COLUMN_KINDS:
            raise ConfigError(f"feature '{self.name}' has kind '{self.kind}'",
                              f"use one of: {', '.join(COLUMN_KINDS)}")
        if self.entity not in ("user", "item", "interaction"):
            raise ConfigError(f"feature '{self.name}' has entity '{self.entity}'",
                              "use one of: user, item, interaction")


@dataclasses.dataclass
class Interactions:
    """What a reader hands the pipeline.

    Args:
        frame: one row per interaction, in source order (the split depends on it): the `user`
            and `item` columns (raw ids, any dtype), optional `rating` / `label` /
            `timestamp` columns and side-feature columns.
        user, item: the id columns' names in `frame`.
        rating: explicit rating column, or None.
        label: a label column used as is (e.g. clicks 0/1), or None.
        timestamp: a time column (integer seconds or datetimes), or None.
        features: the side features to prepare.
        users: user table indexed by raw user id (columns: user features), or None.
        items: item table indexed by raw item id (columns: item features), or None.
        titles: raw item id -> display title, or None.
        rating_scale: (lowest, highest) rating; None = the training rows' (min, max).
        id_counts: `vocabulary: raw` only: (users, items) when ids are known to run 1..n, so
            tables have n + 1 rows even if the largest id happens not to occur.
        source: where the data came from (a path, "tfds:movielens/100k-ratings"), for provenance.
    """

    frame: "pd.DataFrame"
    user: str = USER_ID
    item: str = ITEM_ID
    rating: Optional[str] = None
    label: Optional[str] = None
    timestamp: Optional[str] = None
    features: tuple[FeatureColumn, ...] = ()
    users: Optional["pd.DataFrame"] = None
    items: Optional["pd.DataFrame"] = None
    titles: Optional["pd.Series"] = None
    rating_scale: Optional[tuple[float, float]] = None
    id_counts: Optional[tuple[int, int]] = None
    source: str = ""


def prepare(interactions: Interactions, cfg: Any, clean: bool = True) -> PreparedData:
    """Cleans, splits, encodes and packs `interactions` as `cfg` says.

    Args:
        interactions: the reader's output.
        cfg: the data config (an `rsx.config.DatasetConfig`): name, vocabulary, target and
            the split/integrity keys.
        clean: resolve duplicates and apply the filters (`rsx.data.integrity.clean`); False
            only for generated data whose repeated pairs are repeated observations.

    Raises:
        ConfigError: an option is out of range (the key is named).
        DataError: the data cannot be prepared (empty, every row filtered, ids that do not fit).
    """
    from rsx.data import integrity
    from rsx.data.split import split_rows

    _check(cfg)
    ia = interactions
    missing = [c for c in (ia.user, ia.item, ia.rating, ia.label, ia.timestamp) if c and c not in ia.frame.columns]
    if missing:
        raise DataError(f"data '{cfg.name}' has no column '{missing[0]}' (columns: {', '.join(map(str, ia.frame.columns))})",
                        "map an existing column in data.columns.*")
    if len(ia.frame) == 0:
        raise DataError(f"data '{cfg.name}' holds no interactions", "check data.path")
    if clean:
        frame, report = integrity.clean(ia.frame, cfg, ia.user, ia.item, ia.rating, ia.timestamp)
        report = dict(report)
    else:
        frame, report = ia.frame.reset_index(drop=True), {"rows_read": len(ia.frame), "rows": len(ia.frame)}
    users_raw = frame[ia.user].to_numpy()
    items_raw = frame[ia.item].to_numpy()
    timestamps = _timestamps(frame[ia.timestamp]) if ia.timestamp else None
    rows = split_rows(len(frame), cfg, users=users_raw, timestamps=timestamps)
    report.update(integrity.check_splits(rows, users_raw, items_raw, cfg.name))

    vocabulary_rows = rows.train if cfg.vocabulary_from == "train" else slice(None)
    if cfg.vocabulary == "raw":
        user_vocab = item_vocab = None
        user_ids = _raw_rows(users_raw, ia.user)
        item_ids = _raw_rows(items_raw, ia.item)
        known_users, known_items = ia.id_counts or (0, 0)
        sizes = {USER_ID: max(int(user_ids.max()), known_users) + 1,
                 ITEM_ID: max(int(item_ids.max()), known_items) + 1}
    else:
        user_vocab = _vocabulary(users_raw[vocabulary_rows])
        item_vocab = _vocabulary(items_raw[vocabulary_rows])
        user_ids = _encode(user_vocab, users_raw)
        item_ids = _encode(item_vocab, items_raw)
        sizes = {USER_ID: len(user_vocab) + 1, ITEM_ID: len(item_vocab) + 1}

    columns: dict[str, np.ndarray] = {USER_ID: user_ids, ITEM_ID: item_ids}
    rating, label, scale = _target(frame, ia, cfg, rows.train)
    columns[LABEL], columns[RATING] = label, rating
    if timestamps is not None:
        columns[TIMESTAMP] = timestamps

    vocabularies: dict[str, np.ndarray] = {}
    if user_vocab is not None:
        vocabularies[USER_ID] = _with_placeholder(user_vocab)
        vocabularies[ITEM_ID] = _with_placeholder(item_vocab)

    features: list[SideFeature] = []
    tables: dict[str, dict[str, np.ndarray]] = {"user": {}, "item": {}}
    train_mask = np.zeros(len(frame), bool)
    train_mask[rows.train] = True
    for column in ia.features:
        if column.entity == "interaction":
            values = frame[column.name]
            feature, encoded, vocab = _encode_feature(column, values, train_mask)
            columns[column.name] = encoded
        else:
            user = column.entity == "user"
            entity_values, in_train = _entity_values(column, ia, frame, user_vocab if user else item_vocab,
                                                     sizes[USER_ID if user else ITEM_ID],
                                                     (user_ids if user else item_ids)[rows.train])
            feature, encoded, vocab = _encode_feature(column, entity_values, in_train)
            tables[column.entity][column.name] = encoded
        if vocab is not None:
            vocabularies[column.name] = vocab
        features.append(feature)
    if cfg.history_length:
        if any(f.name == HISTORY for f in features):
            raise ConfigError(f"data.history_length is set and the data already has a feature '{HISTORY}'",
                              "rename that feature, or set data.history_length=0")
        tables["user"][HISTORY] = user_histories(user_ids[rows.train], item_ids[rows.train], rows.train,
                                                 None if timestamps is None else timestamps[rows.train],
                                                 sizes[USER_ID], cfg.history_length)
        features.append(SideFeature(HISTORY, "sequence", "user", vocabulary_size=sizes[ITEM_ID],
                                    max_length=cfg.history_length))

    titles = _titles(ia, item_vocab, sizes[ITEM_ID])
    schema = Schema(
        user=USER_ID, item=ITEM_ID, target=cfg.target, rating_scale=scale,
        timestamp=TIMESTAMP if timestamps is not None else None, features=tuple(features),
    )
    report.update({"users": sizes[USER_ID] - 1 if user_vocab is not None else int(len(np.unique(user_ids))),
                   "items": sizes[ITEM_ID] - 1 if item_vocab is not None else int(len(np.unique(item_ids)))})

    def take(index: np.ndarray) -> dict[str, np.ndarray]:
        return {name: values[index] for name, values in columns.items()}

    return PreparedData(
        name=cfg.name,
        train=take(rows.train),
        validation=None if rows.validation_is_test else take(rows.validation),
        test=take(rows.test),
        vocabulary_sizes=sizes,
        titles=titles,
        schema=schema,
        user_features=tables["user"],
        item_features=tables["item"],
        vocabularies=vocabularies,
        report={k: int(v) for k, v in report.items()},
        source=ia.source,
    )


# --------------------------------------------------------------------------- checks


def _check(cfg: Any) -> None:
    if cfg.vocabulary not in VOCABULARIES:
        raise ConfigError(f"data.vocabulary={cfg.vocabulary!r} is unknown",
                          "use data.vocabulary=dense (rows 1..n from the training ids) or raw")
    if cfg.vocabulary_from not in VOCABULARY_FROM:
        raise ConfigError(f"data.vocabulary_from={cfg.vocabulary_from!r} is unknown",
                          "use data.vocabulary_from=all (every interaction's ids) or train")
    if cfg.history_length < 0:
        raise ConfigError(f"data.history_length={cfg.history_length} is negative",
                          "use data.history_length=0 (off) or the number of latest items to keep, e.g. 50")
    if cfg.target not in TARGETS:
        raise ConfigError(f"data.target={cfg.target!r} is unknown", "use data.target=rating or implicit")


# --------------------------------------------------------------------------- ids


def _vocabulary(raw: np.ndarray) -> np.ndarray:
    """Sorted distinct raw values (missing ones dropped): row r + 1 holds value r."""
    import pandas as pd

    values = pd.unique(pd.Series(raw).dropna())
    try:
        return np.sort(np.asarray(values))
    except TypeError:  # mixed types: order by their text, still deterministic
        return np.asarray(sorted(values, key=str), dtype=object)


def _encode(vocabulary: np.ndarray, raw) -> np.ndarray:
    """Raw values -> int32 rows 1..n (0 for values not in `vocabulary`)."""
    import pandas as pd

    return (pd.Index(vocabulary).get_indexer(np.asarray(raw)) + 1).astype(np.int32)


def _with_placeholder(vocabulary: np.ndarray) -> np.ndarray:
    """The vocabulary as stored: row 0 first (0 / "" placeholder), then rows 1..n.

    Object arrays (strings) are stored as unicode so the `.npz` needs no pickle.
    """
    if vocabulary.dtype.kind in "iu":
        return np.concatenate([[0], vocabulary]).astype(np.int64)
    if vocabulary.dtype.kind == "f":
        return np.concatenate([[np.nan], vocabulary]).astype(np.float64)
    return np.array([""] + [str(v) for v in vocabulary], dtype=str)


def _raw_rows(raw: np.ndarray, column: str) -> np.ndarray:
    """`vocabulary: raw`: integer ids >= 1 are the rows."""
    if raw.dtype.kind not in "iu":
        raise DataError(f"column '{column}' holds non-integer ids ({raw.dtype}) and data.vocabulary=raw "
                        "uses ids as table rows", "use data.vocabulary=dense")
    if len(raw) and (raw.min() < 1 or raw.max() > _MAX_ROW):
        raise DataError(f"column '{column}' has ids outside 1..{_MAX_ROW} ({raw.min()}..{raw.max()}) "
                        "and data.vocabulary=raw uses them as rows", "use data.vocabulary=dense")
    return raw.astype(np.int32)


def _timestamps(values: "pd.Series") -> np.ndarray:
    """int64 seconds from integer or datetime columns."""
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(values):
        return (values.astype("datetime64[s]").astype("int64")).to_numpy()
    return values.to_numpy().astype(np.int64)


# --------------------------------------------------------------------------- target


def _target(frame, ia: Interactions, cfg, train: np.ndarray):
    """(rating float32, label float32, rating_scale) per interaction row."""
    if cfg.target == "implicit":
        label = (frame[ia.label].to_numpy(np.float32) if ia.label else np.ones(len(frame), np.float32))
        rating = frame[ia.rating].to_numpy(np.float32) if ia.rating else label.copy()
        return rating, label, None
    if ia.rating is None:
        if ia.label is None:
            raise ConfigError(f"data '{cfg.name}' has no rating column and data.target=rating",
                              "map a rating column (data.columns.rating) or set data.target=implicit")
        label = frame[ia.label].to_numpy(np.float32)
        return label.copy(), label, (0.0, 1.0)
    rating = frame[ia.rating].to_numpy(np.float32)
    if ia.rating_scale is not None:
        low, high = (float(v) for v in ia.rating_scale)
    else:
        low, high = float(rating[train].min()), float(rating[train].max())
    if ia.label:
        return rating, frame[ia.label].to_numpy(np.float32), (low, high)
    span = high - low if high > low else 1.0
    # For 1..5 stars this is the tutorials' float32 `(rating - 1.0) / 4.0`, bit for bit.
    return rating, (rating - np.float32(low)) / np.float32(span), (low, high)


# --------------------------------------------------------------------------- side features


def _entity_values(column: FeatureColumn, ia: Interactions, frame, vocabulary: Optional[np.ndarray],
                   size: int, train_rows: np.ndarray):
    """The feature's values laid out by entity row (0..size-1) and which rows are training ones.

    Args:
        train_rows: the entity row (user or item table row) of every training interaction.

    Returns (a pandas Series of length `size`, missing where unknown; bool mask of rows whose
    entity occurs in the training interactions, the only ones statistics may come from).
    """
    import pandas as pd

    id_column = ia.user if column.entity == "user" else ia.item
    table = ia.users if column.entity == "user" else ia.items
    if table is not None and column.name in table.columns:
        by_id = table[column.name]
        by_id = by_id[~by_id.index.duplicated(keep="last")]
    elif column.name in frame.columns:
        last = frame[[id_column, column.name]].drop_duplicates(id_column, keep="last")
        by_id = pd.Series(last[column.name].to_numpy(), index=last[id_column].to_numpy())
    else:
        where = "the user table" if column.entity == "user" else "the item table"
        raise DataError(f"{column.entity} feature '{column.name}' is neither in the interactions nor in {where}",
                        f"check the feature's name, or map the {column.entity} feature file")
    if vocabulary is not None:
        laid = by_id.reindex(pd.Index(vocabulary))
        head = pd.Series([np.nan] if pd.api.types.is_numeric_dtype(laid.dtype) else [None],
                         dtype=laid.dtype if pd.api.types.is_float_dtype(laid.dtype) else None)
        values = pd.concat([head, laid], ignore_index=True)
    else:
        ids = by_id.index.to_numpy()
        keep = (ids >= 1) & (ids < size) if ids.dtype.kind in "iu" else np.zeros(len(ids), bool)
        values = pd.Series([None] * size, dtype=object)
        values.iloc[ids[keep].astype(np.int64)] = by_id.to_numpy()[keep]
        if pd.api.types.is_numeric_dtype(by_id.dtype):
            values = pd.to_numeric(values)
    in_train = np.zeros(size, bool)
    in_train[train_rows] = True
    in_train[0] = False
    return values.reset_index(drop=True), in_train


def _encode_feature(column: FeatureColumn, values: "pd.Series", train_rows: np.ndarray):
    """Encodes one feature's values (by entity row or by interaction row).

    Returns (SideFeature, encoded array, vocabulary with placeholder or None).
    """
    entity = column.entity
    if column.kind == "numeric":
        import pandas as pd

        numbers = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
        seen = numbers[train_rows]
        seen = seen[np.isfinite(seen)]
        mean = float(seen.mean()) if len(seen) else 0.0
        std = float(seen.std()) if len(seen) else 1.0
        std = std if std > 0 else 1.0
        encoded = ((numbers - mean) / std).astype(np.float32)
        encoded[~np.isfinite(encoded)] = 0.0  # missing -> the training mean
        return SideFeature(column.name, "numeric", entity, mean=mean, std=std), encoded, None
    if column.kind == "categorical":
        vocabulary = _vocabulary(values.to_numpy()[train_rows])
        encoded = _encode(vocabulary, values.to_numpy())
        return (SideFeature(column.name, "categorical", entity, vocabulary_size=len(vocabulary) + 1),
                encoded, _with_placeholder(vocabulary))
    return _encode_multi_hot(column, values, train_rows)


def _encode_multi_hot(column: FeatureColumn, values: "pd.Series", train_rows: np.ndarray):
    """Lists (or `separator`-joined strings) -> (rows, max_length) int32, 0-padded."""
    def as_list(cell):
        if isinstance(cell, str):
            return [t for t in (p.strip() for p in cell.split(column.separator)) if t]
        if cell is None or (isinstance(cell, float) and np.isnan(cell)):
            return []
        return list(cell)

    lists = values.map(as_list)
    exploded = lists.explode()  # index = row, one token per line; empty lists give NaN
    exploded = exploded.dropna()
    rows = exploded.index.to_numpy()
    tokens = exploded.to_numpy()
    in_train = train_rows[rows]
    vocabulary = _vocabulary(tokens[in_train])
    ids = _encode(vocabulary, tokens)
    known = ids > 0
    rows, ids = rows[known], ids[known]
    # A list is a set: drop repeated tokens within a row, keeping the first (source order).
    first = np.unique(np.stack([rows, ids]), axis=1, return_index=True)[1] if len(rows) else np.zeros(0, np.int64)
    first.sort()
    rows, ids = rows[first], ids[first]
    lengths = np.bincount(rows, minlength=len(values))
    width = int(column.max_length or (lengths[train_rows].max() if train_rows.any() and len(lengths) else 1))
    width = max(width, 1)
    # Truncate in source order (readers put the most telling tokens first), then store each
    # row's ids sorted, so equal sets give equal rows whatever order a file listed them in.
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    keep = (np.arange(len(rows)) - starts[rows]) < width
    rows, ids = rows[keep], ids[keep]
    order = np.lexsort((ids, rows))
    rows, ids = rows[order], ids[order]
    lengths = np.bincount(rows, minlength=len(values))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    position = np.arange(len(rows)) - starts[rows]
    encoded = np.zeros((len(values), width), np.int32)
    encoded[rows, position] = ids
    return (SideFeature(column.name, "multi_hot", column.entity, vocabulary_size=len(vocabulary) + 1,
                        max_length=width), encoded, _with_placeholder(vocabulary))


# --------------------------------------------------------------------------- titles


def _titles(ia: Interactions, item_vocab: Optional[np.ndarray], size: int) -> np.ndarray:
    """Item row -> title ("" for row 0 and items without one)."""
    if ia.titles is None:
        return np.array([""] * size, dtype=str)
    titles = ia.titles[~ia.titles.index.duplicated(keep="last")]
    if item_vocab is not None:
        laid = titles.reindex(item_vocab).fillna("").astype(str).to_numpy()
        return np.array([""] + list(laid), dtype=str)
    laid_out = [""] * size
    for item_id, title in titles.items():
        if isinstance(item_id, (int, np.integer)) and 0 < item_id < size:
            laid_out[int(item_id)] = str(title)
    return np.array(laid_out, dtype=str)
