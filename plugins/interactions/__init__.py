"""interactions: your own CSV / TSV / Parquet interactions, with a column mapping and side features."""

from rsx.api import DatasetSpec

from .config import InteractionsConfig


def _cache_key(cfg):
    from .read import cache_key  # Lazy: keeps discovery free of pandas.

    return cache_key(cfg)


spec = DatasetSpec(
    name="interactions",
    config=InteractionsConfig,
    implementation="rsx_plugins.interactions.read:prepare",
    description="your CSV/TSV/Parquet interactions (data.path, data.columns.*), user/item feature files",
    cache_key=_cache_key,
)
