"""MovieLens CSV releases (latest-small, 20m, 25m, latest): ratings.csv, movies.csv, tags.csv.

Read with pandas; a malformed row or a value of the wrong type is reported by file and line.
Accepts the extracted folder (`ml-latest-small/`) or the folder that holds it.
"""

from __future__ import annotations

import os

import numpy as np

from rsx.api import DataError, numeric_column, read_table
from rsx.api import fingerprint as fingerprint_files

from .raw import RawRatings

#: variant -> the folder its zip extracts to.
FOLDERS = {"latest_small": "ml-latest-small", "20m": "ml-20m", "25m": "ml-25m", "latest": "ml-latest"}
_FILES = ("ratings.csv", "movies.csv", "tags.csv")


def folder_of(path: str | None, variant: str) -> str:
    """The folder holding ratings.csv: `path` itself or `path/<release folder>`."""
    name = FOLDERS[variant]
    fix = f"point data.path at the extracted {name}/ folder from grouplens.org"
    if not path:
        raise DataError("data.source=files needs data.path", fix)
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isfile(path):
        raise DataError(f"data.path={path} is a file", f"extract it; {fix}")
    for root in (path, os.path.join(path, name)):
        if os.path.isfile(os.path.join(root, "ratings.csv")):
            return root
    if not os.path.isdir(path):
        raise DataError(f"data.path={path} does not exist", fix)
    raise DataError(f"data.path={path} holds neither ratings.csv nor {name}/ratings.csv", fix)


def fingerprint(path: str | None, variant: str) -> dict[str, object]:
    """Content digests of the release's files, for the cache key."""
    root = folder_of(path, variant)
    return {"files": fingerprint_files(os.path.join(root, name) for name in _FILES)}


def read_ratings(path: str | None, variant: str, side_features: bool = True) -> RawRatings:
    """Ratings in file order, titles, genres and (when tags.csv is there) tags per movie.

    Raises:
        DataError: a file is missing or malformed (file, line and column named).
    """
    root = folder_of(path, variant)
    ratings_file = os.path.join(root, "ratings.csv")
    ratings = read_table(ratings_file, usecols=["userId", "movieId", "rating", "timestamp"])
    user_id = numeric_column(ratings, "userId", "user id (userId)", integer=True)
    movie_id = numeric_column(ratings, "movieId", "movie id (movieId)", integer=True)
    rating = numeric_column(ratings, "rating", "rating").astype(np.float32)
    timestamp = numeric_column(ratings, "timestamp", "timestamp", integer=True)
    movies = read_table(os.path.join(root, "movies.csv"), usecols=["movieId", "title", "genres"],
                        dtype={"title": str, "genres": str})
    movie_ids = numeric_column(movies, "movieId", "movie id (movieId)", integer=True).tolist()
    titles = dict(zip(movie_ids, movies["title"].fillna("").tolist()))
    genres = tags = None
    if side_features:
        genres = {m: [] if g in ("(no genres listed)", "") else g.split("|")
                  for m, g in zip(movie_ids, movies["genres"].fillna("").tolist())}
        tags_file = os.path.join(root, "tags.csv")
        if os.path.isfile(tags_file):
            table = read_table(tags_file, usecols=["movieId", "tag"], dtype={"tag": str})
            table = table.assign(movieId=numeric_column(table, "movieId", "movie id (movieId)", integer=True),
                                 tag=table["tag"].fillna("").str.strip().str.lower())
            table = table[table["tag"] != ""]
            # Most used tags first, so `data.max_tags` keeps the ones most users agreed on.
            counts = table.groupby(["movieId", "tag"], sort=False).size().reset_index(name="uses")
            counts = counts.sort_values(["movieId", "uses"], ascending=[True, False], kind="stable")
            tags = counts.groupby("movieId", sort=False)["tag"].agg(list).to_dict()
    return RawRatings(user_id=user_id, movie_id=movie_id, rating=rating, titles=titles,
                      timestamp=timestamp, genres=genres, tags=tags, source=root)
