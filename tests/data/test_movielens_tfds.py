"""`data.source=tfds` against a real TFDS data_dir, and failing fast without one."""

import time

import numpy as np
import pytest

from rsx_plugins.movielens.config import MovieLensConfig
from rsx.data import load_prepared
from rsx_plugins.movielens import tfds as movielens_tfds
from rsx.errors import DataError

tf = pytest.importorskip("tensorflow")
tfds = pytest.importorskip("tensorflow_datasets")

WAYS_OUT = ("data.data_dir=<a TFDS data_dir that holds movielens>",
            "data.source=files data.path=<ml-100k folder or ml-100k.zip>", "data=synthetic")


#: What the tutorial presets (conf/data/movielens_100k.yaml, movielens_1m.yaml) set.
PRESET = {"vocabulary": "raw", "validation_from": "test"}


def _tfds_config(data_dir, variant="100k", **fields):
    return MovieLensConfig(name=f"movielens_{variant}", variant=variant, source="tfds",
                           data_dir=str(data_dir), cache_dir="", **{**PRESET, **fields})


def _tutorial_split(data_dir, variant, num_train):
    """The KerasRS tutorials' preparation, verbatim apart from the data_dir."""
    tf.random.set_seed(None)
    ratings = tfds.load(f"movielens/{variant}-ratings", split="train", data_dir=str(data_dir))

    def preprocess(x):
        return {
            "user_id": tf.strings.to_number(x["user_id"], out_type=tf.int32),
            "item_id": tf.strings.to_number(x["movie_id"], out_type=tf.int32),
            "label": (x["user_rating"] - 1.0) / 4.0,
        }

    shuffled = ratings.map(preprocess).shuffle(100_000, seed=42, reshuffle_each_iteration=False)
    batches = [next(iter(part.batch(10_000).as_numpy_iterator()))
               for part in (shuffled.take(num_train), shuffled.skip(num_train))]
    return batches[0], batches[1]


@pytest.mark.parametrize("variant, num_train", [("100k", 480), ("1m", 720)])
def test_tfds_source_reproduces_the_tutorial_split(tfds_data_dir, variant, num_train):
    data = load_prepared(_tfds_config(tfds_data_dir, variant))
    train, test = _tutorial_split(tfds_data_dir, variant, num_train)
    assert data.num_train == num_train
    for mine, theirs in ((data.train, train), (data.test, test)):
        for column in ("user_id", "item_id", "label"):
            np.testing.assert_array_equal(mine[column], theirs[column])
        np.testing.assert_array_equal(mine["rating"], theirs["label"] * 4 + 1)


def test_tfds_source_vocabularies_and_titles(tfds_data_dir, ml_100k):
    data = load_prepared(_tfds_config(tfds_data_dir))
    assert data.vocabulary_sizes == {"user_id": 41, "item_id": 31}
    assert list(data.titles[1:]) == [ml_100k.titles[m] for m in range(1, 31)]


def test_files_in_tfds_row_order_equal_the_tfds_source(tfds_data_dir, ml_100k):
    # Offline with only the zip, row_order=tfds still gives the tutorials' exact split.
    from_tfds = load_prepared(_tfds_config(tfds_data_dir))
    from_files = load_prepared(MovieLensConfig(source="files", path=str(ml_100k.zip),
                                               row_order="tfds", cache_dir="", **PRESET))
    for split in ("train", "test"):
        for column, values in getattr(from_tfds, split).items():
            np.testing.assert_array_equal(getattr(from_files, split)[column], values)
    np.testing.assert_array_equal(from_files.titles, from_tfds.titles)


def test_records_that_are_not_movielens_are_reported(tmp_path, write_grouplens, build_tfds):
    written = write_grouplens(tmp_path, "100k", users=5, movies=4, ratings=10)
    lines = written.ratings_file.read_text().split("\n")
    lines[3] = "abc" + lines[3][lines[3].index("\t"):]
    written.ratings_file.write_text("\n".join(lines))
    with open(written.folder / "u.user", "a") as f:
        f.write("abc|30|M|student|55100\n")
    data_dir = build_tfds(tmp_path, tmp_path / "tfds", variants=("100k",))
    with pytest.raises(DataError, match=r"TFDS movielens/100k-ratings in data.data_dir=.* holds a record"):
        load_prepared(_tfds_config(data_dir))


@pytest.mark.parametrize("download", [False, True])
def test_an_empty_data_dir_offline_fails_fast_with_the_ways_out(tmp_path, monkeypatch, download):
    # Pretend GroupLens is unreachable, so the test also holds on a machine with internet.
    monkeypatch.setattr(movielens_tfds, "can_reach", lambda host, **kwargs: False)
    start = time.monotonic()
    with pytest.raises(DataError) as error:
        load_prepared(_tfds_config(tmp_path, download=download))
    assert time.monotonic() - start < 10
    message = str(error.value)
    assert "\n" not in message and "movielens/100k-ratings is not in" in message
    assert ("data.download=false" if not download else "files.grouplens.org is unreachable") in message
    for way_out in WAYS_OUT:
        assert way_out in message


def test_a_prepared_data_dir_is_never_downloaded_into(tfds_data_dir, monkeypatch):
    def no_network(host, **kwargs):
        raise AssertionError("probed the network although the data is present")

    monkeypatch.setattr(movielens_tfds, "can_reach", no_network)
    assert load_prepared(_tfds_config(tfds_data_dir, download=True)).num_train == 480


def test_can_reach_gives_up_quickly_on_an_unknown_host():
    start = time.monotonic()
    assert not movielens_tfds.can_reach("rsx-test.invalid", timeout=2.0)
    assert time.monotonic() - start < 5
