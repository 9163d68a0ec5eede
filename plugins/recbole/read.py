"""RecBole atomic files -> `Interactions` -> the shared pipeline.

Each file is tab-separated with a typed header, `name:type`, as RecBole's `Dataset._load_feat`
reads it: `token` (a categorical value), `token_seq` (a list, `seq_separator` between
tokens), `float` (a number) and `float_seq` (a list of numbers, not a feature kind rsx has:
skipped with a warning). `.user` / `.item` fields become user / item features; extra `.inter`
fields become interaction features. Id tokens that are all integers are read as integers, so
the same data gives the same vocabulary order as from a CSV.
"""

from __future__ import annotations

import logging
import os

from rsx.api import (ConfigError, DataError, FeatureColumn, Interactions, PreparedData, fingerprint,
                     numeric_column, prepare_interactions, read_table)

from .config import RecBoleConfig

log = logging.getLogger("rsx")
TYPES = ("token", "token_seq", "float", "float_seq")
_KINDS = {"token": "categorical", "token_seq": "multi_hot", "float": "numeric"}


def prepare(cfg: RecBoleConfig) -> PreparedData:
    return prepare_interactions(read(cfg), cfg)


def files(cfg: RecBoleConfig) -> dict[str, str]:
    """suffix -> path of the atomic files present (".inter" required)."""
    if not cfg.path:
        raise ConfigError("data=recbole needs data.path", "set data.path=<the folder holding <name>.inter>")
    folder = os.path.abspath(os.path.expanduser(cfg.path))
    stem = cfg.stem or os.path.basename(folder.rstrip("/"))
    found = {s: os.path.join(folder, stem + s) for s in (".inter", ".user", ".item")}
    if not os.path.isfile(found[".inter"]):
        raise DataError(f"data.path={folder} has no {stem}.inter",
                        "point data.path at RecBole's dataset folder, or set data.stem=<file stem>")
    return {s: p for s, p in found.items() if os.path.isfile(p)}


def read(cfg: RecBoleConfig) -> Interactions:
    paths = files(cfg)
    inter, types = _read_atomic(paths[".inter"], cfg)
    for key, field in (("user_field", cfg.user_field), ("item_field", cfg.item_field)):
        if field not in types:
            raise DataError(f"{paths['.inter']} has no field '{field}' (fields: {', '.join(types)})",
                            f"set data.{key} to one of its fields")
    rating = cfg.rating_field if cfg.rating_field in types else None
    label = cfg.label_field if cfg.label_field in types else None
    time = cfg.time_field if cfg.time_field in types else None
    for field in (rating, label, time):
        if field:
            inter[field] = numeric_column(inter, field, f"{field}:{types[field]}")
    if time:
        inter[time] = inter[time].astype("int64")
    features = []
    used = {cfg.user_field, cfg.item_field, rating, label, time}
    features += _features(types, used, "interaction", paths[".inter"], cfg)
    tables = {}
    for suffix, entity, id_field in ((".user", "user", cfg.user_field), (".item", "item", cfg.item_field)):
        if suffix not in paths:
            continue
        table, table_types = _read_atomic(paths[suffix], cfg)
        if id_field not in table_types:
            raise DataError(f"{paths[suffix]} has no field '{id_field}'", f"name its id field like the .inter file's")
        table = table.set_index(id_field)
        if cfg.title_field and cfg.title_field in table_types and entity == "item":
            tables["titles"] = table[cfg.title_field].astype(str)
            used_here = {id_field, cfg.title_field}
        else:
            used_here = {id_field}
        features += _features(table_types, used_here, entity, paths[suffix], cfg)
        tables[entity] = table
    return Interactions(
        frame=inter, user=cfg.user_field, item=cfg.item_field, rating=rating, label=label, timestamp=time,
        features=tuple(features), users=tables.get("user"), items=tables.get("item"),
        titles=tables.get("titles"), source=paths[".inter"],
    )


def cache_key(cfg: RecBoleConfig) -> dict:
    import dataclasses

    fields = dataclasses.asdict(cfg)
    fields.pop("cache_dir")
    fields["files"] = fingerprint(files(cfg).values())
    return fields


def _features(types: dict[str, str], used: set, entity: str, path: str, cfg) -> list[FeatureColumn]:
    found = []
    for field, kind in types.items():
        if field in used:
            continue
        if kind == "float_seq":
            log.warning("rsx: %s field '%s:float_seq' is skipped (no rsx feature kind holds a list of numbers)",
                        path, field)
            continue
        found.append(FeatureColumn(field, _KINDS[kind], entity, separator=cfg.seq_separator))
    return found


def _read_atomic(path: str, cfg) -> tuple["pandas.DataFrame", dict[str, str]]:
    """The file with plain field names, and field -> type from its header."""
    import pandas as pd

    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").rstrip("\r").split(cfg.field_separator)
    types = {}
    for column in header:
        name, _, kind = column.rpartition(":")
        if kind not in TYPES or not name:
            raise DataError(f"{path} line 1: header field {column!r} has no type",
                            f"write each field as name:type with type one of {', '.join(TYPES)}")
        types[name] = kind
    frame = read_table(path, sep=cfg.field_separator, dtype={c: str for c in header}, what="data.path",
                       quoting=3)  # csv.QUOTE_NONE, as RecBole reads them: titles may start with '"'

    frame.columns = list(types)
    for name, kind in types.items():
        if kind == "float":  # a feature may be missing (NaN); rating/time are checked in `read`
            frame[name] = numeric_column(frame, name, f"{name}:float", allow_missing=True)
        elif kind == "token":
            frame[name] = _int_if_all_integers(frame[name])

    return frame, types


def _int_if_all_integers(values):
    """Token ids that are all plain integers ("7", not "007" or "7.0") as int64, else text."""
    import pandas as pd

    text = values.astype(str)
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().all() and (numbers % 1 == 0).all():
        as_int = numbers.astype("int64")
        if (as_int.astype(str) == text).all():
            return as_int
    return values
