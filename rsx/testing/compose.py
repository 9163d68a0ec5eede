"""Composing rsx's config in-process, as `python -m rsx` does, for tests (no framework import)."""

from __future__ import annotations

import functools

from hydra import compose, initialize_config_module
from omegaconf import DictConfig


@functools.lru_cache(maxsize=None)
def registered():
    """Discovers plugins and stores every config in Hydra's ConfigStore, once per process."""
    from rsx.app import register_everything
    from rsx.discovery import discover

    registry = discover()
    register_everything(registry)
    return registry


def compose_config(overrides: list[str], return_hydra_config: bool = False) -> DictConfig:
    """The config `python -m rsx <overrides>` would run (without Hydra's runtime keys)."""
    registered()
    with initialize_config_module("rsx.conf", version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=return_hydra_config)
