"""Writes small MovieLens look-alikes in GroupLens's own formats (MovieLens is never committed).

The writers produce everything TFDS's MovieLens builder parses too (u.user, users.dat,
genre flags), so the same files feed both `data.source=files` and a real TFDS data_dir.
Helpers are handed out as fixtures because the suite runs with `--import-mode=importlib`,
where test modules cannot import each other.
"""

from __future__ import annotations

import dataclasses
import os
import zipfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest


@dataclasses.dataclass
class Written:
    """What a writer put on disk, for tests to compare against without re-parsing.

    Args:
        folder: the `ml-100k/` or `ml-1m/` folder.
        zip: the zip of that folder (members under `ml-100k/...`).
        rows: (user_id, item_id, rating) per ratings line, in file order.
        titles: movie id -> title.
        ratings_file: the ratings file inside `folder`.
        movies_file: the movies file inside `folder`.
    """

    folder: Path
    zip: Path
    rows: list[tuple[int, int, int]]
    titles: dict[int, str]
    ratings_file: Path
    movies_file: Path


# Titles exercise latin-1: an accent, and "\x85" (a line break to str.splitlines()).
_TITLE_EXTRAS = ["", " Café", " Naïve", " Part\x85 Two"]


def write_grouplens_files(root: Path, variant: str, *, users: int = 40, movies: int = 30,
                    ratings: int = 600, seed: int = 0) -> Written:
    """Writes `<root>/ml-<variant>/` (and its zip) with random distinct (user, movie) ratings.

    Args:
        root: parent folder; receives `ml-<variant>/` and `ml-<variant>.zip`.
        variant: "100k" (u.data/u.item/u.user) or "1m" (ratings.dat/movies.dat/users.dat).
        users: user ids 1..users; the largest always rates, so the vocabulary is users + 1.
        movies: movie ids 1..movies in the movies file.
        ratings: number of ratings lines (at most users * movies).
        seed: NumPy seed.
    """
    rng = np.random.default_rng(seed)
    folder = Path(root) / f"ml-{variant}"
    folder.mkdir(parents=True, exist_ok=True)
    pairs = rng.choice(users * movies - 1, size=ratings, replace=False)
    pairs[0] = users * movies - 1  # user `users` rates movie `movies`: known vocabularies (still distinct)
    rows = [(int(p // movies) + 1, int(p % movies) + 1, int(rng.integers(1, 6))) for p in pairs]
    titles = {m: f"Movie {m}{_TITLE_EXTRAS[m % len(_TITLE_EXTRAS)]} (19{50 + m % 50})"
              for m in range(1, movies + 1)}
    if variant == "100k":
        ratings_file, movies_file = folder / "u.data", folder / "u.item"
        _write(ratings_file, [f"{u}\t{m}\t{r}\t{874965758 + i}" for i, (u, m, r) in enumerate(rows)])
        _write(movies_file, [
            f"{m}|{t}|01-Jan-1995||http://example.invalid/{m}|" + "|".join("01"[(m + g) % 2] for g in range(19))
            for m, t in titles.items()])
        occupations = ["administrator", "artist", "educator", "engineer", "student", "writer", "none"]
        _write(folder / "u.user", [f"{u}|{18 + u % 50}|{'MF'[u % 2]}|{occupations[u % 7]}|{55100 + u}"
                                   for u in range(1, users + 1)])
    else:
        ratings_file, movies_file = folder / "ratings.dat", folder / "movies.dat"
        _write(ratings_file, [f"{u}::{m}::{r}::{978300760 + i}" for i, (u, m, r) in enumerate(rows)])
        _write(movies_file, [f"{m}::{t}::Comedy|Drama" for m, t in titles.items()])
        ages = [1, 18, 25, 35, 45, 50, 56]
        _write(folder / "users.dat", [f"{u}::{'MF'[u % 2]}::{ages[u % 7]}::{u % 21}::{48000 + u}"
                                      for u in range(1, users + 1)])
    archive = Path(root) / f"ml-{variant}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for file in sorted(folder.iterdir()):
            z.write(file, f"ml-{variant}/{file.name}")
    return Written(folder, archive, rows, titles, ratings_file, movies_file)


def _write(path: Path, lines: list[str]) -> None:
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))


def build_tfds_data_dir(extracted_root: Path, data_dir: Path, variants=("100k", "1m")) -> Path:
    """Runs TFDS's own MovieLens builder over fixture files, producing a real data_dir.

    Only the download is replaced (it returns `extracted_root`, which holds `ml-<variant>/`);
    parsing, serialisation, shuffling and sharding are TFDS's, so reading the result goes
    through exactly the code path real MovieLens data does.
    """
    import tensorflow_datasets as tfds

    def extracted(self, url):
        return os.fspath(extracted_root)

    with mock.patch.object(tfds.download.DownloadManager, "download_and_extract", extracted):
        for variant in variants:
            for table in ("ratings", "movies"):
                tfds.builder(f"movielens/{variant}-{table}", data_dir=os.fspath(data_dir)).download_and_prepare()
    return data_dir


@pytest.fixture
def write_grouplens():
    """The writer itself, for tests that need their own (e.g. malformed) files."""
    return write_grouplens_files


@pytest.fixture
def build_tfds():
    """The TFDS data_dir builder itself, for tests that need their own (e.g. broken) data."""
    return build_tfds_data_dir


@pytest.fixture(scope="session")
def grouplens_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("grouplens")


@pytest.fixture(scope="session")
def ml_100k(grouplens_root) -> Written:
    return write_grouplens_files(grouplens_root, "100k", seed=1)


@pytest.fixture(scope="session")
def ml_1m(grouplens_root) -> Written:
    return write_grouplens_files(grouplens_root, "1m", users=50, movies=35, ratings=900, seed=2)


@pytest.fixture(scope="session")
def tfds_data_dir(grouplens_root, ml_100k, ml_1m, tmp_path_factory) -> Path:
    """A TFDS data_dir holding movielens/{100k,1m}-{ratings,movies} built from the fixtures."""
    return build_tfds_data_dir(grouplens_root, tmp_path_factory.mktemp("tfds"))
