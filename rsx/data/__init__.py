"""Datasets as rsx trains on them: `load_prepared(data_cfg, cache_root)` -> `PreparedData`.

The dataset plugins (`rsx.datasets` entry points: movielens, interactions, recbole, synthetic,
and any installed one) read their sources; `rsx.data.pipeline` turns what they read into
`PreparedData`. Importing this package stays cheap (NumPy, OmegaConf): pandas, TensorFlow and
TFDS are imported only inside the preparers that need them, and a cache hit never reaches those.
"""

from rsx.data.loading import load_prepared
from rsx.data.prepared import COLUMNS, ITEM_ID, LABEL, RATING, TIMESTAMP, USER_ID, PreparedData
from rsx.data.schema import Schema, SideFeature

__all__ = ["COLUMNS", "ITEM_ID", "LABEL", "RATING", "TIMESTAMP", "USER_ID", "PreparedData", "Schema",
           "SideFeature", "load_prepared"]
