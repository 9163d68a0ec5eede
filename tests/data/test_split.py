"""The split permutation equals the tutorials' record shuffle, row for row."""

import numpy as np
import pytest

from rsx.data.split import SplitRows, num_train_rows, shuffle_permutation, split_columns

tf = pytest.importorskip("tensorflow")


@pytest.fixture
def no_global_seed():
    """The tutorials shuffle with no global TF seed set; leave none behind either."""
    tf.random.set_seed(None)
    yield
    tf.random.set_seed(None)


def _tutorial_order(user_ids, movie_ids, ratings, buffer_size, seed):
    # Written the tutorials' way: records through map(preprocess) and a seeded shuffle.
    records = tf.data.Dataset.from_tensor_slices(
        {"user_id": user_ids, "movie_id": movie_ids, "user_rating": ratings})

    def preprocess(x):
        return {
            "user_id": tf.strings.to_number(x["user_id"], out_type=tf.int32),
            "movie_id": tf.strings.to_number(x["movie_id"], out_type=tf.int32),
            "label": (x["user_rating"] - 1.0) / 4.0,
        }

    shuffled = records.map(preprocess).shuffle(buffer_size, seed=seed, reshuffle_each_iteration=False)
    out = next(iter(shuffled.batch(len(ratings)).as_numpy_iterator()))
    return out["user_id"], out["movie_id"], out["label"]


# (100_000, 42) is the tutorials' setting; a buffer smaller than the data (as for 1m) too.
@pytest.mark.parametrize("buffer_size, seed", [(100_000, 42), (64, 7)])
def test_permutation_reorders_columns_exactly_like_the_record_shuffle(no_global_seed, buffer_size, seed):
    rng = np.random.default_rng(0)
    n = 1_000
    users = rng.integers(1, 50, n).astype(np.int32)
    movies = rng.integers(1, 80, n).astype(np.int32)
    ratings = rng.integers(1, 6, n).astype(np.float32)

    expected = _tutorial_order(users.astype(str).astype(bytes), movies.astype(str).astype(bytes),
                               ratings, buffer_size, seed)
    order = shuffle_permutation(n, buffer_size, seed)

    assert sorted(order) == list(range(n))
    np.testing.assert_array_equal(users[order], expected[0])
    np.testing.assert_array_equal(movies[order], expected[1])
    np.testing.assert_array_equal((ratings[order] - np.float32(1)) / np.float32(4), expected[2])


def test_permutation_ignores_a_global_tf_seed(no_global_seed):
    # A trainer seeding TensorFlow before data preparation must not move the split.
    unseeded = shuffle_permutation(500, 100_000, 42)
    tf.random.set_seed(1234)
    np.testing.assert_array_equal(shuffle_permutation(500, 100_000, 42), unseeded)


def test_num_train_rows_takes_the_first_fraction_rounded_down():
    assert num_train_rows(100_000, 0.8) == 80_000  # the tutorials' 80,000 / 20,000
    assert num_train_rows(1_000_209, 0.8) == 800_167
    assert num_train_rows(10, 0.25) == 2


def test_split_columns_gathers_rows_and_marks_validation_is_test():
    columns = {"a": np.arange(5), "b": np.arange(5) * 10}
    rows = SplitRows(train=np.array([4, 2]), validation=np.array([0]), test=np.array([1, 3]))
    train, validation, test = split_columns(columns, rows)
    np.testing.assert_array_equal(train["a"], [4, 2])
    np.testing.assert_array_equal(validation["b"], [0])
    np.testing.assert_array_equal(test["b"], [10, 30])
    same = SplitRows(train=rows.train, validation=rows.test, test=rows.test, validation_is_test=True)
    assert split_columns(columns, same)[1] is None  # PreparedData: validation = test


def test_a_one_row_buffer_keeps_row_order_without_tensorflow():
    np.testing.assert_array_equal(shuffle_permutation(7, 1, 42), np.arange(7))
