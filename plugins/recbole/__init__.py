"""recbole: RecBole atomic files (.inter, .user, .item with typed headers)."""

from rsx.api import DatasetSpec

from .config import RecBoleConfig


def _cache_key(cfg):
    from .read import cache_key  # Lazy: keeps discovery free of pandas.

    return cache_key(cfg)


spec = DatasetSpec(
    name="recbole",
    config=RecBoleConfig,
    implementation="rsx_plugins.recbole.read:prepare",
    description="RecBole atomic files: <name>.inter, .user, .item (token, token_seq, float)",
    cache_key=_cache_key,
)
