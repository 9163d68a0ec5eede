"""movielens on the real latest-small release: conformance, side features, dense vocabularies."""

import numpy as np
import pandas as pd
import pytest

from rsx.testing.conformance import DatasetConformance
from rsx.testing.data import require_shared_data


def latest_small_fields():
    return {"variant": "latest_small", "source": "files", "path": str(require_shared_data())}


class TestMovieLensDataset(DatasetConformance):
    dataset = "movielens"

    def fields_for(self, tmp_path):
        return latest_small_fields()


@pytest.fixture(scope="module")
def latest_small():
    from rsx.data import load_prepared

    return load_prepared({"dataset": "movielens", "cache_dir": "", **latest_small_fields()})


def test_ids_are_dense_rows_of_every_rated_movie(latest_small):
    data = latest_small
    ratings = pd.read_csv(require_shared_data() / "ratings.csv")
    # 9,724 rated movies with ids up to 193,609: the table holds each of them, plus row 0.
    assert ratings.movieId.max() == 193_609 and ratings.movieId.nunique() == 9_724
    assert data.vocabulary_sizes["item_id"] == 9_725 and data.vocabulary_sizes["user_id"] == 611
    np.testing.assert_array_equal(data.vocabularies["item_id"][1:], np.unique(ratings.movieId))
    # Every row maps back to its raw id; a movie first rated in test has a row of its own (no
    # longer OOV row 0), with its genres, and is still counted as cold (against train).
    for split in ("train", "validation", "test"):
        assert (getattr(data, split)["item_id"] > 0).all()
    train_movies = data.vocabularies["item_id"][data.train["item_id"]]
    cold = ~np.isin(data.vocabularies["item_id"][data.test["item_id"]], train_movies)
    assert data.report["cold_test_items"] == len(np.unique(data.test["item_id"][cold])) > 0
    cold_row = data.test["item_id"][cold][0]
    assert (data.item_features["genres"][cold_row] > 0).any()
    assert data.num_train + data.num_validation + data.num_test == 100_836


def test_genres_tags_and_year_are_item_features(latest_small):
    data = latest_small
    kinds = {f.name: (f.kind, f.entity) for f in data.schema.features}
    assert kinds == {"genres": ("multi_hot", "item"), "tags": ("multi_hot", "item"), "year": ("numeric", "item")}
    genres = data.schema.feature("genres")
    vocabulary = data.vocabularies["genres"]
    toy_story = int(np.flatnonzero(data.vocabularies["item_id"] == 1)[0])
    assert data.titles[toy_story] == "Toy Story (1995)"
    row = data.item_features["genres"][toy_story]
    assert sorted(vocabulary[row[row > 0]]) == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]
    assert genres.max_length == data.item_features["genres"].shape[1]
    year = data.schema.feature("year")
    assert data.item_features["year"][toy_story] * year.std + year.mean == pytest.approx(1995, abs=1e-3)
    assert data.schema.rating_scale == (0.5, 5.0) and data.schema.timestamp == "timestamp"
    np.testing.assert_allclose(data.train["label"], (data.train["rating"] - 0.5) / 4.5, rtol=1e-6)
