"""ml-latest-small as rsx's `PreparedData`, split by rsx's own `split_rows` (random 80/20 as
the tutorials shuffle, validation = the last 10 % of the shuffled training rows), so every
method of `retrieval_vs_classic.py` is judged on the same rows by the same code.

Until the `movielens` dataset plugin reads the latest-small CSV release itself, this is the
only place that reads it; ids become dense rows 1..n in order of first appearance in the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rsx.config import SplitConfig
from rsx.data.prepared import ITEM_ID, LABEL, RATING, USER_ID, PreparedData
from rsx.data.split import split_rows

#: Where the data lives beside a clone of the repository (`<repo>/../shared/data/...`).
DEFAULT_PATH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ml-latest-small"


def latest_small(path: Path = DEFAULT_PATH, split_seed: int = 42) -> PreparedData:
    ratings = pd.read_csv(Path(path) / "ratings.csv")
    movies = pd.read_csv(Path(path) / "movies.csv")
    users = pd.factorize(ratings["userId"])
    items = pd.factorize(ratings["movieId"])
    columns = {
        USER_ID: (users[0] + 1).astype(np.int32),
        ITEM_ID: (items[0] + 1).astype(np.int32),
        RATING: ratings["rating"].to_numpy(np.float32),
    }
    columns[LABEL] = (columns[RATING] - 1) / 4
    # The tutorials' tf.data shuffle (buffer 100_000), as data=movielens draws it: the CLI's split.
    rows = split_rows(len(ratings), SplitConfig(split_seed=split_seed, shuffle_buffer=100_000))
    split = {name: {k: v[getattr(rows, name)] for k, v in columns.items()} for name in ("train", "validation", "test")}
    title_of = dict(zip(movies["movieId"], movies["title"]))
    titles = np.array([""] + [title_of.get(m, "") for m in items[1]])
    return PreparedData(
        "movielens_latest_small",
        train=split["train"],
        validation=split["validation"],
        test=split["test"],
        vocabulary_sizes={USER_ID: len(users[1]) + 1, ITEM_ID: len(items[1]) + 1},
        titles=titles,
        vocabularies={USER_ID: np.concatenate([[0], users[1]]), ITEM_ID: np.concatenate([[0], items[1]])},
    )
