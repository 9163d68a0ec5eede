"""`load_prepared`: from a `data` config to `PreparedData`, through the cache.

This is the one entry point the rest of rsx uses; which preparer runs (MovieLens from TFDS
or files, or synthetic) follows from the config's fields, and a cache hit returns before
any preparer, and so before TensorFlow is imported.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from typing import Any, Union

from omegaconf import DictConfig, OmegaConf

from rsx.config import MovieLensConfig, SplitConfig, SyntheticConfig
from rsx.data import cache
from rsx.data.prepared import PreparedData
from rsx.errors import ConfigError

log = logging.getLogger(__name__)

DataConfig = Union[MovieLensConfig, SyntheticConfig]


def load_prepared(data_cfg: Any, cache_root: str | None = None) -> PreparedData:
    """Returns the prepared train/test arrays that `data_cfg` describes, cached on disk.

    Args:
        data_cfg: the `data` config: a DictConfig following `MovieLensConfig` or
            `SyntheticConfig`, one of those dataclasses, or a plain mapping of their fields.
        cache_root: the cache folder to use unless `data_cfg.cache_dir` names another;
            `cache_dir: ""` or no folder at all disables caching.

    Raises:
        ConfigError: a setting is unknown or out of range (the key is named).
        DataError: the data is missing, unreachable or malformed (with the ways out).
    """
    cfg = typed_config(data_cfg)
    directory = cache_directory(cfg, cache_root)
    if directory is None:
        return prepare(cfg)
    path = cache.cache_file(directory, cfg.name, cache_key(cfg))
    cached = cache.read(path)
    if cached is not None:
        log.info("Loaded prepared %s from %s", cfg.name, path)
        return cached
    data = prepare(cfg)
    cache.write(data, path)
    log.info("Prepared %s (%d train, %d test rows); cached at %s",
             cfg.name, data.num_train, data.num_test, path)
    return data


def prepare(cfg: DataConfig) -> PreparedData:
    """Runs the preparer for `cfg`, bypassing the cache."""
    if isinstance(cfg, SyntheticConfig):
        from rsx.data.synthetic import prepare_synthetic

        return prepare_synthetic(cfg)
    from rsx.data.movielens import prepare_movielens

    return prepare_movielens(cfg)


def typed_config(data_cfg: Any) -> DataConfig:
    """Turns any accepted form of the `data` config into its dataclass.

    Synthetic configs are recognised by `num_interactions`, MovieLens ones by `variant`, so
    a dataset can be renamed freely.
    """
    if isinstance(data_cfg, (MovieLensConfig, SyntheticConfig)):
        return data_cfg
    if isinstance(data_cfg, DictConfig):
        fields = OmegaConf.to_container(data_cfg, resolve=True)
    elif dataclasses.is_dataclass(data_cfg) and not isinstance(data_cfg, type):
        fields = dataclasses.asdict(data_cfg)
    elif isinstance(data_cfg, Mapping):
        fields = dict(data_cfg)
    else:
        raise ConfigError(f"data config of type {type(data_cfg).__name__} is not understood",
                          "pass the composed `data` DictConfig")
    if "num_interactions" in fields:
        kind = SyntheticConfig
    elif "variant" in fields:
        kind = MovieLensConfig
    else:
        raise ConfigError("the data config has neither data.variant (MovieLens) nor "
                          "data.num_interactions (synthetic)",
                          "choose data=movielens_100k, data=movielens_1m or data=synthetic")
    known = {field.name for field in dataclasses.fields(kind)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ConfigError(f"data.{unknown[0]} is not a setting of {kind.__name__}",
                          f"use one of: {', '.join(sorted(known))}")
    return kind(**fields)


def cache_directory(cfg: DataConfig, cache_root: str | None) -> str | None:
    """`cfg.cache_dir` if set ("" disables caching), else `cache_root`, else no cache."""
    if cfg.cache_dir is not None:
        return cfg.cache_dir or None
    return cache_root


def cache_key(cfg: DataConfig) -> dict[str, object]:
    """The settings that determine the prepared arrays, and only those.

    Paths and data_dirs are part of it because another folder may hold other data; for raw
    files their size and modification time are too, so edited files are prepared again.
    """
    # Every split and integrity key changes the arrays; only cache_dir does not.
    shared = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(SplitConfig) if f.name != "cache_dir"}
    if isinstance(cfg, SyntheticConfig):
        fields = ("num_users", "num_items", "num_interactions", "rank", "noise", "seed")
        return {"kind": "synthetic", **shared, **{field: getattr(cfg, field) for field in fields}}
    key: dict[str, object] = {"kind": "movielens", **shared, "variant": cfg.variant, "source": cfg.source}
    if cfg.source == "files":
        from rsx.data.grouplens_files import LAYOUTS, fingerprint

        if cfg.variant in LAYOUTS:  # an unknown variant is reported by the preparer
            key["files"] = fingerprint(cfg.path, cfg.variant)
        key["row_order"] = cfg.row_order
    else:
        key["data_dir"] = os.path.abspath(os.path.expanduser(cfg.data_dir)) if cfg.data_dir else None
    return key
