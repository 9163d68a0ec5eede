"""Datasets as rsx trains on them: `load_prepared(data_cfg, cache_root)` -> `PreparedData`.

Importing this package stays cheap (NumPy, OmegaConf): TensorFlow and TFDS are imported only
inside the preparers that need them, and a cache hit never reaches those.
"""

from rsx.data.loading import load_prepared
from rsx.data.prepared import COLUMNS, LABEL, MOVIE_ID, RATING, USER_ID, PreparedData

__all__ = ["COLUMNS", "LABEL", "MOVIE_ID", "RATING", "USER_ID", "PreparedData", "load_prepared"]
