"""`data.source=files`: GroupLens folders and zips, prepared like TFDS, with precise errors."""

import dataclasses
import zipfile

import numpy as np
import pytest

from rsx_plugins.movielens.config import MovieLensConfig
from rsx.data import load_prepared
from rsx.errors import DataError

tf = pytest.importorskip("tensorflow")


#: What the tutorial presets (conf/data/movielens_100k.yaml, movielens_1m.yaml) set.
PRESET = {"vocabulary": "raw", "validation_from": "test"}


def _files_config(path, variant="100k", **fields):
    return MovieLensConfig(name=f"movielens_{variant}", variant=variant, source="files",
                           path=str(path), cache_dir="", **{**PRESET, **fields})


def _all_rows(data):
    return {column: np.concatenate([data.train[column], data.test[column]]) for column in data.train}


@pytest.fixture(scope="module")
def prepared_100k(ml_100k):
    return load_prepared(_files_config(ml_100k.folder))


@pytest.mark.parametrize("where", ["folder", "parent", "zip"])
def test_folder_its_parent_and_the_zip_prepare_the_same_data(ml_100k, prepared_100k, where):
    path = {"folder": ml_100k.folder, "parent": ml_100k.folder.parent, "zip": ml_100k.zip}[where]
    data = load_prepared(_files_config(path))
    for split in ("train", "test"):
        for column, values in getattr(prepared_100k, split).items():
            np.testing.assert_array_equal(getattr(data, split)[column], values)
    np.testing.assert_array_equal(data.titles, prepared_100k.titles)


def test_split_is_the_tutorial_shuffle_of_the_file_rows(ml_100k, prepared_100k):
    tf.random.set_seed(None)
    rows = np.array(ml_100k.rows)
    shuffled = tf.data.Dataset.from_tensor_slices(rows).shuffle(
        100_000, seed=42, reshuffle_each_iteration=False)
    expected = np.stack(list(shuffled.as_numpy_iterator()))
    assert (prepared_100k.num_train, prepared_100k.num_test) == (480, 120)
    got = _all_rows(prepared_100k)
    np.testing.assert_array_equal(got["user_id"], expected[:, 0])
    np.testing.assert_array_equal(got["item_id"], expected[:, 1])
    np.testing.assert_array_equal(got["rating"], expected[:, 2].astype(np.float32))


def test_columns_labels_and_dtypes(prepared_100k):
    for split in (prepared_100k.train, prepared_100k.test):
        assert split["user_id"].dtype == np.int32 and split["item_id"].dtype == np.int32
        assert split["label"].dtype == np.float32 and split["rating"].dtype == np.float32
        np.testing.assert_array_equal(split["label"], (split["rating"] - 1) / 4)
    labels = _all_rows(prepared_100k)["label"]
    assert set(labels.tolist()) <= {0.0, 0.25, 0.5, 0.75, 1.0}


def test_vocabulary_is_largest_id_plus_one_and_titles_are_indexed_by_id(ml_100k, prepared_100k):
    users = max(u for u, _, _ in ml_100k.rows)
    movies = max(m for _, m, _ in ml_100k.rows)
    assert prepared_100k.vocabulary_sizes == {"user_id": users + 1, "item_id": movies + 1}
    assert len(prepared_100k.titles) == movies + 1
    assert prepared_100k.titles[0] == ""
    for item_id in range(1, movies + 1):
        assert prepared_100k.titles[item_id] == ml_100k.titles[item_id]  # latin-1 intact


@pytest.mark.parametrize("where", ["folder", "zip"])
def test_1m_files(ml_1m, where):
    data = load_prepared(_files_config(getattr(ml_1m, where), variant="1m"))
    assert (data.num_train, data.num_test) == (720, 180)
    assert data.vocabulary_sizes == {"user_id": 51, "item_id": 36}
    assert data.titles[35] == ml_1m.titles[35]
    assert sorted(_all_rows(data)["rating"].tolist()) == sorted(float(r) for _, _, r in ml_1m.rows)


def test_train_fraction_sets_the_cut(ml_100k):
    data = load_prepared(_files_config(ml_100k.folder, train_fraction=0.5))
    assert (data.num_train, data.num_test) == (300, 300)


@pytest.mark.parametrize("line, replacement, problem", [
    (3, "7\t3\t4", "expected 4 fields"),
    (5, "x7\t3\t4\t881250949", "user id 'x7' is not an integer"),
    (8, "7\t0\t4\t881250949", "movie id 0 is outside"),
    (13, "7\t3\t6\t881250949", "rating '6' is not a number in 1..5"),
    (21, "7\t3\tfour\t881250949", "rating 'four' is not a number in 1..5"),
    (34, "", "expected 4 fields"),
])
def test_a_malformed_ratings_line_is_named(tmp_path, write_grouplens, line, replacement, problem):
    written = write_grouplens(tmp_path, "100k")
    lines = written.ratings_file.read_text().split("\n")
    lines[line - 1] = replacement
    written.ratings_file.write_text("\n".join(lines))
    with pytest.raises(DataError) as error:
        load_prepared(_files_config(written.folder))
    message = str(error.value)
    assert f"{written.ratings_file} line {line}:" in message and problem in message
    assert "\n" not in message


def test_a_malformed_movies_line_is_named_inside_the_zip(tmp_path, write_grouplens):
    written = write_grouplens(tmp_path, "1m")
    lines = written.movies_file.read_text(encoding="latin-1").split("\n")
    lines[4] = "5"
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as z:
        z.write(written.ratings_file, "ml-1m/ratings.dat")
        z.writestr("ml-1m/movies.dat", "\n".join(lines).encode("latin-1"))
    with pytest.raises(DataError, match=r"broken\.zip:ml-1m/movies\.dat line 5: expected at least 2 fields"):
        load_prepared(_files_config(broken, variant="1m"))


@pytest.mark.parametrize("path, problem", [
    (None, "data.source=files needs data.path"),
    ("does-not-exist", "does not exist"),
])
def test_a_missing_path_names_data_path(tmp_path, path, problem):
    cfg = dataclasses.replace(_files_config(tmp_path), path=path and str(tmp_path / path))
    with pytest.raises(DataError, match="data.path") as error:
        load_prepared(cfg)
    assert problem in str(error.value)


def test_the_wrong_release_is_reported(ml_100k):
    with pytest.raises(DataError, match=r"data.path=.*holds neither ratings.dat nor ml-1m/ratings.dat"):
        load_prepared(_files_config(ml_100k.folder, variant="1m"))
    with pytest.raises(DataError, match=r"has no ml-1m/ratings.dat"):
        load_prepared(_files_config(ml_100k.zip, variant="1m"))


def test_a_file_that_is_not_a_zip_is_reported(ml_100k):
    with pytest.raises(DataError, match="is not a readable zip"):
        load_prepared(_files_config(ml_100k.ratings_file))
