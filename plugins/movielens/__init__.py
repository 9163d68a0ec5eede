"""movielens: GroupLens MovieLens releases (100k, 1m, 20m, 25m, latest_small) from TFDS or files."""

from rsx.api import DatasetSpec

from .config import MovieLensConfig


def _cache_key(cfg):
    from .prepare import cache_key  # Lazy: keeps discovery free of pandas.

    return cache_key(cfg)


spec = DatasetSpec(
    name="movielens",
    config=MovieLensConfig,
    implementation="rsx_plugins.movielens.prepare:prepare",
    description="MovieLens 100k/1m/20m/25m/latest_small ratings with side features (TFDS or GroupLens files)",
    cache_key=_cache_key,
)
