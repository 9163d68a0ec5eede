"""MovieLens from TensorFlow Datasets, read in the order the tutorials' `tfds.load` sees it.

Offline, TFDS would retry the GroupLens download for minutes before failing, so the data_dir
is checked first and a download is only attempted when the host answers; otherwise the user
gets one line naming the ways out at once.
"""

from __future__ import annotations

import socket
import threading
import urllib.parse

import numpy as np

from rsx.api import DataError

from .config import MovieLensConfig
from .raw import RawRatings

#: variant -> (ratings dataset, movies dataset), as the tutorials load them.
DATASETS = {
    "100k": ("movielens/100k-ratings", "movielens/100k-movies"),
    "1m": ("movielens/1m-ratings", "movielens/1m-movies"),
    "20m": ("movielens/20m-ratings", "movielens/20m-movies"),
    "25m": ("movielens/25m-ratings", "movielens/25m-movies"),
    "latest_small": ("movielens/latest-small-ratings", "movielens/latest-small-movies"),
}
#: Releases whose TFDS ratings carry user demographics.
_WITH_USERS = ("100k", "1m")

# Rows per batch when copying TFDS records into NumPy: few Python round trips, little memory.
_BATCH = 65_536


def read_ratings(cfg: MovieLensConfig) -> RawRatings:
    """Loads ratings (in TFDS order) and titles for `cfg.variant` from `cfg.data_dir`.

    Args:
        cfg: uses `variant`, `data_dir` and `download`.

    Raises:
        DataError: the dataset is not in data_dir and cannot be downloaded, or its records
            cannot be converted (e.g. ids that are not numbers).
    """
    ratings_name, movies_name = DATASETS[cfg.variant]
    user_features = ("bucketized_user_age", "user_gender", "user_occupation_text", "user_zip_code")
    with_users = cfg.side_features and cfg.variant in _WITH_USERS
    ratings = _load(ratings_name, cfg, ("user_id", "movie_id", "user_rating", "timestamp")
                    + (user_features if with_users else ()))
    movies, movies_builder = _load(movies_name, cfg, ("movie_id", "movie_title", "movie_genres"), with_builder=True)

    import tensorflow as tf

    def to_columns(batch):
        # The tutorials' conversion: `tf.strings.to_number(x[...], out_type=tf.int32)`.
        columns = {
            "user_id": tf.strings.to_number(batch["user_id"], out_type=tf.int32),
            "movie_id": tf.strings.to_number(batch["movie_id"], out_type=tf.int32),
            "rating": batch["user_rating"],
            "timestamp": batch["timestamp"],
        }
        if with_users:
            columns.update({name: batch[name] for name in user_features})
        return columns

    def to_titles(record):
        return {
            "movie_id": tf.strings.to_number(record["movie_id"], out_type=tf.int32),
            "title": record["movie_title"],
            "genres": record["movie_genres"],
        }

    columns = _to_numpy(ratings.batch(_BATCH).map(to_columns), ratings_name, cfg)
    genre_names = movies_builder.info.features["movie_genres"].feature.names
    titles, genres = {}, {}
    for movie in tfds_as_numpy(movies.map(to_titles)):
        titles[int(movie["movie_id"])] = movie["title"].decode("utf-8")
        genres[int(movie["movie_id"])] = [genre_names[g] for g in movie["genres"]]
    users = None
    if with_users:
        ids = columns["user_id"]
        users = {
            "age": dict(zip(ids.tolist(), columns["bucketized_user_age"].astype(float).tolist())),
            "gender": dict(zip(ids.tolist(), np.where(columns["user_gender"], "M", "F").tolist())),
            "occupation": dict(zip(ids.tolist(), (o.decode() for o in columns["user_occupation_text"]))),
            "zip_prefix": dict(zip(ids.tolist(), (z.decode()[:3] for z in columns["user_zip_code"]))),
        }
    return RawRatings(
        user_id=columns["user_id"],
        movie_id=columns["movie_id"],
        rating=columns["rating"].astype(np.float32),
        titles=titles,
        timestamp=columns["timestamp"].astype(np.int64),
        genres=genres if cfg.side_features else None,
        users=users,
        source=f"tfds:{ratings_name}",
    )


def tfds_as_numpy(dataset):
    import tensorflow_datasets as tfds

    return tfds.as_numpy(dataset)


def can_reach(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to `host` opens within about `timeout` seconds.

    Runs in a daemon thread because name resolution ignores socket timeouts and can hang.
    """
    answer: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                answer.append(True)
        except OSError:
            answer.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    return bool(answer and answer[0])


def _load(name: str, cfg: MovieLensConfig, features: tuple[str, ...], with_builder: bool = False):
    import tensorflow_datasets as tfds

    builder = tfds.builder(name, data_dir=cfg.data_dir)
    download = False
    if not builder.is_prepared():
        host = urllib.parse.urlparse(builder.builder_config.download_url).hostname
        if not cfg.download:
            raise _not_available(cfg, f"{name} is not in {builder.data_dir} (data.download=false)")
        if not can_reach(host):
            raise _not_available(
                cfg, f"{name} is not in {builder.data_dir} and {host} is unreachable")
        download = True
    try:
        dataset = tfds.load(
            name,
            split="train",
            data_dir=cfg.data_dir,
            download=download,
            # Decode only what preparation uses; the row order is unaffected.
            decoders=tfds.decode.PartialDecoding({feature: True for feature in features}),
        )
        return (dataset, builder) if with_builder else dataset
    except Exception as error:
        if not download:
            raise
        reason = " ".join(str(error).split())[:300]  # user-facing errors are one line
        raise _not_available(cfg, f"downloading {name} into {builder.data_dir} failed "
                                  f"({type(error).__name__}: {reason})") from error


def _to_numpy(dataset, name: str, cfg: MovieLensConfig) -> dict[str, np.ndarray]:
    import tensorflow as tf
    import tensorflow_datasets as tfds

    batches = []
    try:
        for batch in tfds.as_numpy(dataset):
            batches.append(batch)
    except tf.errors.InvalidArgumentError as error:
        # Typically an id that is not a number, i.e. not TFDS's MovieLens.
        raise DataError(f"TFDS {name} in data.data_dir={cfg.data_dir} holds a record rsx "
                        f"cannot convert ({error.message.splitlines()[0]})",
                        "rebuild that TFDS data_dir, or use data.source=files") from None
    if not batches:
        raise DataError(f"TFDS {name} in data.data_dir={cfg.data_dir} is empty",
                        "rebuild that TFDS data_dir, or use data.source=files")
    return {key: np.concatenate([batch[key] for batch in batches]) for key in batches[0]}


def _not_available(cfg: MovieLensConfig, what: str) -> DataError:
    folder = f"ml-{cfg.variant}"
    return DataError(
        f"MovieLens {cfg.variant} is not available: {what}",
        "set data.data_dir=<a TFDS data_dir that holds movielens>, "
        f"or data.source=files data.path=<{folder} folder or {folder}.zip>, or data=synthetic",
    )
