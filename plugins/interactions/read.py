"""Your interactions file(s) -> `Interactions` -> the shared pipeline.

pandas reads the files (pyarrow for Parquet); every problem a user can fix is one line naming
the file, line or column: a mapped column the file lacks, a rating that is not a number, a
text id where `data.columns.id_type=int`, an empty file.
"""

from __future__ import annotations

import numpy as np

from rsx.api import (ConfigError, DataError, FeatureColumn, Interactions, PreparedData, fingerprint,
                     numeric_column, prepare_interactions, read_table)

from .config import FeatureConfig, InteractionsConfig

ID_TYPES = ("auto", "int", "str")


def prepare(cfg: InteractionsConfig) -> PreparedData:
    """Reads `cfg.path` (and the feature files) and prepares them."""
    return prepare_interactions(read(cfg), cfg)


def read(cfg: InteractionsConfig) -> Interactions:
    """The interactions and feature tables as the pipeline takes them."""
    _check(cfg)
    columns = cfg.columns
    features = tuple(_feature(name, spec) for name, spec in cfg.features.items())
    wanted = [columns.user, columns.item, columns.rating, columns.label, columns.timestamp]
    in_files = {f.name for f in features if f.entity == "interaction"}
    users_file = _entity_table(cfg.user_features_path, columns.user, "user", features, cfg, "data.user_features_path")
    items_file = _entity_table(cfg.item_features_path, columns.item, "item", features, cfg, "data.item_features_path",
                               title=columns.title)
    for feature in features:  # entity features not in their table come from the interactions
        table = users_file if feature.entity == "user" else items_file if feature.entity == "item" else None
        if feature.entity != "interaction" and (table is None or feature.name not in table.columns):
            in_files.add(feature.name)
    if columns.title and (items_file is None or columns.title not in items_file.columns):
        in_files.add(columns.title)
    usecols = list(dict.fromkeys(c for c in [*wanted, *sorted(in_files)] if c))
    frame = read_table(cfg.path, sep=cfg.sep, usecols=usecols, encoding=cfg.encoding,
                       dtype=_id_dtypes(cfg, columns.user, columns.item))
    frame = frame.assign(**{c: _ids(frame, c, cfg) for c in (columns.user, columns.item)})
    if columns.rating:
        frame[columns.rating] = numeric_column(frame, columns.rating, f"rating ({columns.rating})")
    if columns.label:
        frame[columns.label] = numeric_column(frame, columns.label, f"label ({columns.label})")
    if columns.timestamp:
        frame[columns.timestamp] = _times(frame, columns.timestamp)
    for feature in features:
        if feature.kind == "numeric" and feature.name in frame.columns:
            frame[feature.name] = numeric_column(frame, feature.name, f"numeric feature ({feature.name})")
    titles = None
    if columns.title:
        source = items_file if items_file is not None and columns.title in items_file.columns else \
            frame.drop_duplicates(columns.item, keep="last").set_index(columns.item)
        titles = source[columns.title].astype(str)
    return Interactions(
        frame=frame, user=columns.user, item=columns.item, rating=columns.rating, label=columns.label,
        timestamp=columns.timestamp, features=features, users=users_file, items=items_file, titles=titles,
        rating_scale=tuple(cfg.rating_scale) if cfg.rating_scale else None, source=str(cfg.path),
    )


def cache_key(cfg: InteractionsConfig) -> dict:
    """Every setting (but the cache folder) and the content of every file read."""
    import dataclasses

    _check(cfg)
    fields = dataclasses.asdict(cfg)
    fields.pop("cache_dir")
    fields["files"] = fingerprint([cfg.path, cfg.user_features_path, cfg.item_features_path])
    return fields


def _check(cfg: InteractionsConfig) -> None:
    if not cfg.path:
        raise ConfigError("data=interactions needs data.path", "set data.path=<a CSV/TSV/Parquet file or folder>")
    if cfg.columns.id_type not in ID_TYPES:
        raise ConfigError(f"data.columns.id_type={cfg.columns.id_type!r} is unknown", f"use one of {', '.join(ID_TYPES)}")
    if cfg.target == "rating" and not (cfg.columns.rating or cfg.columns.label):
        raise ConfigError("data.target=rating needs data.columns.rating (or data.columns.label)",
                          "map the rating column, e.g. data.columns.rating=rating, or set data.target=implicit")


def _feature(name: str, spec) -> FeatureColumn:
    """`data.features.<name>` as a FeatureColumn; an unknown key is one line naming it."""
    import dataclasses

    spec = dict(spec or {})
    known = {f.name for f in dataclasses.fields(FeatureConfig)}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ConfigError(f"data.features.{name}.{unknown[0]} is not a feature setting",
                          f"use {', '.join(sorted(known))}")
    f = FeatureConfig(**spec)
    return FeatureColumn(name, f.kind, f.entity, f.separator, int(f.max_length))


def _id_dtypes(cfg, *names) -> dict | None:
    # "auto" reads ids as text too, then takes them as integers only when every one is written
    # as one ("42", not "042"): a text file's "001" and "1" are two users, not one.
    return None if cfg.columns.id_type == "int" else {n: str for n in names}


def _ids(frame, column: str, cfg):
    if cfg.columns.id_type == "int":
        return numeric_column(frame, column, f"id ({column}, declared data.columns.id_type=int)", integer=True)
    values = frame[column]
    if values.isna().any():
        from rsx.api import line_of

        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise DataError(f"{line_of(frame, row)}: id ({column}) is missing", "fill in the id or drop the row")
    import pandas as pd

    if cfg.columns.id_type == "auto" and not pd.api.types.is_numeric_dtype(values):
        numbers = _integers_written_as_such(values)
        if numbers is not None:
            return numbers
    return values


def _integers_written_as_such(values):
    """int64 ids when every text id is an integer written plainly ("42"; not "042", "+42",
    "42.0"), else None. Checked as text -> int64 -> text round trip in pyarrow's compute
    kernels: a regex over 20M Python strings took 11 s, this about 1 s."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        text = pa.array(values.array, type=pa.string(), from_pandas=True)  # arrow-backed: no copy
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # mixed Python objects
        text = pa.array(values.astype(str).array, type=pa.string(), from_pandas=True)
    try:
        numbers = pc.cast(text, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if not pc.all(pc.equal(pc.cast(numbers, pa.string()), text)).as_py():
        return None
    return numbers.to_numpy()


def _times(frame, column: str):
    import pandas as pd

    values = frame[column]
    if pd.api.types.is_datetime64_any_dtype(values):  # typed by the reader (Parquet, pyarrow CSV)
        if values.isna().any():
            from rsx.api import line_of

            row = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise DataError(f"{line_of(frame, row)}: timestamp ({column}) is missing", "fill in the time or drop the row")
        if values.dt.tz is None:
            values = values.dt.tz_localize("UTC")  # as pd.to_datetime(utc=True) reads naive text below
        return (values.astype("datetime64[s, UTC]").astype("int64")).to_numpy()
    if pd.api.types.is_numeric_dtype(values) or pd.to_numeric(values, errors="coerce").notna().all():
        return numeric_column(frame, column, f"timestamp ({column})", integer=True)
    parsed = pd.to_datetime(values, errors="coerce", utc=True)
    if parsed.isna().any():
        from rsx.api import line_of

        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise DataError(f"{line_of(frame, row)}: timestamp ({column}) {values.iloc[row]!r} is neither "
                        "seconds nor a date/time", "use integer seconds or ISO dates (2024-01-31 12:00)")
    # Through datetime64[s]: pandas 3 infers the unit from the text, so int64 alone is not ns.
    return parsed.astype("datetime64[s, UTC]").astype("int64").to_numpy()


def _entity_table(path, id_column: str, entity: str, features, cfg, key: str, title: str | None = None):
    """A user / item feature file indexed by id, or None."""
    if not path:
        return None
    wanted = [f.name for f in features if f.entity == entity]
    table = read_table(path, sep=cfg.sep, encoding=cfg.encoding, what=key,
                       dtype=_id_dtypes(cfg, id_column))
    if id_column not in table.columns:
        raise DataError(f"{key}={path} has no id column '{id_column}' (columns: {', '.join(map(str, table.columns))})",
                        f"name the id column of the {entity} file like data.columns.{entity}")
    keep = [c for c in [*wanted, title] if c and c in table.columns]
    ids = _ids(table, id_column, cfg)
    table = table[keep].set_axis(ids, axis=0)
    for feature in features:
        if feature.entity == entity and feature.kind == "numeric" and feature.name in table.columns:
            import pandas as pd

            table[feature.name] = pd.to_numeric(table[feature.name], errors="coerce")
    return table
