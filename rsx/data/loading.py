"""`load_prepared`: from a `data` config to `PreparedData`, through the cache.

This is the one entry point the rest of rsx uses. The dataset plugin named by `data.dataset`
(an `rsx.datasets` entry point) prepares the data; a cache hit returns before its
implementation module is even imported, and so before pandas, TFDS or TensorFlow.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from rsx.data import cache
from rsx.data.files import remembered_digests
from rsx.data.prepared import PreparedData
from rsx.data.spec import DatasetSpec
from rsx.errors import ConfigError

log = logging.getLogger(__name__)


def load_prepared(data_cfg: Any, cache_root: str | None = None) -> PreparedData:
    """Returns the prepared train/validation/test arrays that `data_cfg` describes, cached on disk.

    Args:
        data_cfg: the `data` config: a DictConfig, a dataset plugin's config dataclass, or a
            plain mapping of its fields (with `dataset` naming the plugin).
        cache_root: the cache folder to use unless `data_cfg.cache_dir` names another;
            `cache_dir: ""` or no folder at all disables caching.

    Raises:
        ConfigError: a setting is unknown or out of range (the key is named).
        PluginError: the dataset plugin is unknown or broken.
        DataError: the data is missing, unreachable or malformed (with the ways out).
    """
    cfg = typed_config(data_cfg)
    directory = cache_directory(cfg, cache_root)
    if directory is None:
        return prepare(cfg)
    with remembered_digests(directory):  # unchanged files are not hashed again
        path = cache.cache_file(directory, cfg.name, cache_key(cfg))
    cached = cache.read(path)
    if cached is not None:
        log.info("Loaded prepared %s from %s", cfg.name, path)
        return cached
    data = prepare(cfg)
    cache.write(data, path)
    log.info("Prepared %s (%d train, %d validation, %d test rows); cached at %s",
             cfg.name, data.num_train, data.num_validation, data.num_test, path)
    return data


def prepare(cfg: Any) -> PreparedData:
    """Runs the dataset plugin's `prepare` for `cfg` (a typed config), bypassing the cache."""
    return spec_of(cfg).prepare(cfg)


def cache_key(cfg: Any) -> dict:
    """What identifies the prepared arrays of `cfg` (a typed config), file contents included."""
    return spec_of(cfg).key(cfg)


def spec_of(cfg: Any) -> DatasetSpec:
    """The dataset plugin whose config `cfg` is (by `cfg.dataset`)."""
    from rsx.discovery import discover

    return discover().dataset(cfg.dataset)


def typed_config(data_cfg: Any) -> Any:
    """The `data` config as its dataset plugin's dataclass (the plugin named by `dataset`)."""
    from rsx.discovery import discover

    registry = discover()
    if dataclasses.is_dataclass(data_cfg) and not isinstance(data_cfg, type):
        spec = registry.dataset(data_cfg.dataset)
        if isinstance(data_cfg, spec.config):
            return data_cfg
        fields = dataclasses.asdict(data_cfg)
    elif isinstance(data_cfg, DictConfig):
        fields = OmegaConf.to_container(data_cfg, resolve=True)
    elif isinstance(data_cfg, Mapping):
        fields = dict(data_cfg)
    else:
        raise ConfigError(f"data config of type {type(data_cfg).__name__} is not understood",
                          "pass the composed `data` DictConfig")
    if not fields.get("dataset"):
        raise ConfigError("the data config has no data.dataset (the dataset plugin to use)",
                          f"choose data=<one of: {', '.join(registry.names('data'))}> or a preset")
    spec = registry.dataset(fields["dataset"])
    known = {field.name for field in dataclasses.fields(spec.config)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ConfigError(f"data.{unknown[0]} is not a setting of {spec.config.__name__}",
                          f"use one of: {', '.join(sorted(known))}")
    # Through OmegaConf, so nested dataclasses (column mappings) are built and types checked.
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(spec.config), fields))
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", "") or "?"
        raise ConfigError(f"data.{key}: {' '.join(str(error).split()).split(' full_key')[0][:200]}",
                          f"see the fields of {spec.config.__name__}") from None


def cache_directory(cfg: Any, cache_root: str | None) -> str | None:
    """`cfg.cache_dir` if set ("" disables caching), else `cache_root`, else no cache."""
    if cfg.cache_dir is not None:
        return cfg.cache_dir or None
    return cache_root


def data_digest(data_cfg: Any, cache_root: str | None = None) -> str:
    """What the prepared data of `data_cfg` is made from, as 16 hex digits: the dataset's
    settings and the *content* of its files (`DatasetSpec.key`), without preparing anything.
    `cache_root` as for `load_prepared`: its digest memo spares re-hashing unchanged files.

    The job key includes it, so a sweep rerun after the ratings file changed trains again
    instead of skipping its jobs as "already finished". Data that cannot be located gives
    "unavailable: <why>": the job itself then fails with that error in one line.
    """
    from rsx.errors import RsxError

    try:
        cfg = typed_config(data_cfg)
        with remembered_digests(cache_directory(cfg, cache_root)):
            return cache.key_digest(cache_key(cfg))
    except RsxError as error:
        return f"unavailable: {error}"
