"""ml-latest-small through data=movielens, as a plain CSV (data=interactions) and as RecBole
atomic files (data=recbole) gives the same prepared arrays: one pipeline, three readers."""

import re

import numpy as np
import pandas as pd
import pytest

from rsx.data import load_prepared
from rsx.testing.data import require_shared_data

SPLIT = {"split": "random", "split_seed": 7, "shuffle_buffer": None, "cache_dir": ""}
_YEAR = re.compile(r"\((\d{4})\)\s*$")


@pytest.fixture(scope="module")
def source():
    root = require_shared_data()
    movies = pd.read_csv(root / "movies.csv")
    tags = pd.read_csv(root / "tags.csv")
    tags["tag"] = tags["tag"].astype(str).str.strip().str.lower()
    tags = tags[tags["tag"] != ""].drop_duplicates(["movieId", "tag"])
    widest = int(tags.groupby("movieId").size().max())  # no truncation: list order is irrelevant
    items = pd.DataFrame({
        "movieId": movies["movieId"],
        "title": movies["title"],
        "year": [float(m.group(1)) if (m := _YEAR.search(t.strip())) else np.nan for t in movies["title"]],
        "genres": movies["genres"].replace("(no genres listed)", ""),
        "tags": movies["movieId"].map(tags.groupby("movieId")["tag"].agg("|".join)).fillna(""),
    })
    return root, items, widest


@pytest.fixture(scope="module")
def from_movielens(source):
    root, _, widest = source
    return load_prepared({"dataset": "movielens", "variant": "latest_small", "source": "files",
                          "path": str(root), "max_tags": widest, **SPLIT})


def _assert_same(a, b):
    for split in ("train", "validation", "test"):
        assert getattr(a, split).keys() == getattr(b, split).keys()
        for column, values in getattr(a, split).items():
            np.testing.assert_array_equal(getattr(b, split)[column], values, err_msg=f"{split}.{column}")
    assert a.vocabulary_sizes == b.vocabulary_sizes
    assert a.schema.features == b.schema.features and a.schema.rating_scale == b.schema.rating_scale
    for name in ("item_id", "user_id", "genres", "tags"):
        np.testing.assert_array_equal(a.vocabularies[name], b.vocabularies[name], err_msg=name)
    for name, table in a.item_features.items():
        np.testing.assert_allclose(b.item_features[name], table, rtol=1e-6, err_msg=name)
    np.testing.assert_array_equal(a.titles, b.titles)


def test_a_plain_csv_with_a_column_mapping(tmp_path, source, from_movielens):
    root, items, widest = source
    items.to_csv(tmp_path / "items.csv", index=False)
    data = load_prepared({
        "dataset": "interactions", "path": str(root / "ratings.csv"),
        "columns": {"user": "userId", "item": "movieId", "rating": "rating", "timestamp": "timestamp",
                    "title": "title"},
        "item_features_path": str(tmp_path / "items.csv"), "rating_scale": [0.5, 5.0],
        "features": {"year": {"kind": "numeric"}, "genres": {"kind": "multi_hot"},
                     "tags": {"kind": "multi_hot", "max_length": widest}},
        **SPLIT})
    _assert_same(from_movielens, data)


def test_recbole_atomic_files(tmp_path, source, from_movielens):
    root, items, _ = source
    folder = tmp_path / "ml-small"
    folder.mkdir()
    ratings = pd.read_csv(root / "ratings.csv")
    lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    lines += [f"{u}\t{i}\t{r}\t{t}" for u, i, r, t in ratings.itertuples(index=False)]
    (folder / "ml-small.inter").write_text("\n".join(lines) + "\n")
    lines = ["item_id:token\tmovie_title:token_seq\tyear:float\tgenres:token_seq\ttags:token_seq"]
    lines += [f"{m}\t{t}\t{'' if np.isnan(y) else y}\t{g}\t{tags}"
              for m, t, y, g, tags in items.itertuples(index=False)]
    (folder / "ml-small.item").write_text("\n".join(lines) + "\n")
    data = load_prepared({"dataset": "recbole", "path": str(folder), "title_field": "movie_title",
                          "seq_separator": "|", **SPLIT})
    # RecBole declares no padded width: tags come out as wide as the longest list, as above.
    _assert_same(from_movielens, data)
