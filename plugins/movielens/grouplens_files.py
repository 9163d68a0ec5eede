"""MovieLens read straight from GroupLens's own files, for machines without TFDS data.

Accepts what GroupLens ships: `ml-100k.zip` / `ml-1m.zip`, the folder they extract to, or the
folder holding that folder. Rows keep the order of the ratings file, and every malformed line
is reported by file and line number, since a half-parsed dataset would train silently wrong.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import math
import os
import zipfile

import numpy as np

from rsx.api import DataError
from rsx.api import fingerprint as fingerprint_files

from .raw import RawRatings

#: The largest id an int32 embedding lookup can take.
_MAX_ID = 2**31 - 1


@dataclasses.dataclass(frozen=True)
class Layout:
    """Where one MovieLens release keeps its tables and how their lines are split.

    Args:
        folder: the folder the zip extracts to, e.g. "ml-100k".
        ratings: ratings file (user, movie, rating, timestamp per line).
        ratings_sep: field separator of `ratings`.
        movies: movies file (movie id, title, ... per line).
        movies_sep: field separator of `movies`.
        users: users file (user id and demographics per line); optional.
    """

    folder: str
    ratings: str
    ratings_sep: str
    movies: str
    movies_sep: str
    users: str


LAYOUTS = {
    "100k": Layout("ml-100k", "u.data", "\t", "u.item", "|", "u.user"),
    "1m": Layout("ml-1m", "ratings.dat", "::", "movies.dat", "::", "users.dat"),
}

#: The 19 genre flags of 100k's u.item, in file order (its u.genre).
GENRES_100K = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
               "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
               "Romance", "Sci-Fi", "Thriller", "War", "Western")

_FIX_PATH = "point data.path at the extracted {folder}/ folder or at {folder}.zip from grouplens.org"


def read_ratings(path: str | None, variant: str) -> RawRatings:
    """Reads the ratings (in file order) and the titles of one MovieLens release.

    Args:
        path: `data.path`: a GroupLens zip, the folder it extracts to, or that folder's parent.
        variant: "100k" or "1m"; selects the file names and separators.

    Raises:
        DataError: the path or a file is missing, or a line is malformed (file and line named).
    """
    layout = LAYOUTS[variant]
    source = _open_source(path, layout)
    ratings_where, ratings_text = source.read(layout.ratings)
    user_id, movie_id, rating, timestamp = parse_ratings(ratings_text, layout.ratings_sep, ratings_where)
    movies_where, movies_text = source.read(layout.movies)
    titles = parse_titles(movies_text, layout.movies_sep, movies_where)
    genres = parse_genres(movies_text, variant)
    users = None
    if source.has(layout.users):
        users_where, users_text = source.read(layout.users)
        users = parse_users(users_text, variant, users_where)
    return RawRatings(user_id=user_id, movie_id=movie_id, rating=rating, titles=titles,
                      timestamp=timestamp, genres=genres, users=users, source=source.where)


def fingerprint(path: str | None, variant: str) -> dict[str, object]:
    """Identifies the files behind `data.path` by content, for the cache key.

    Editing or replacing the files changes the fingerprint, so a stale cache is never used.
    """
    layout = LAYOUTS[variant]
    return _open_source(path, layout).fingerprint(layout)


def parse_ratings(text: str, sep: str, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parses `user<sep>movie<sep>rating<sep>timestamp` lines into int32/int32/float32/int64 columns.

    Args:
        text: the whole ratings file, decoded.
        sep: the field separator ("\\t" for u.data, "::" for ratings.dat).
        where: the file as users should see it in errors.
    """
    lines = _lines(text)
    with _cyclic_gc_paused():
        fields = [line.split(sep) for line in lines]
    for number, row in enumerate(fields, start=1):
        if len(row) != 4:
            raise DataError(
                f"{where} line {number}: expected 4 fields (user, movie, rating, timestamp) "
                f"separated by {sep!r}, found {len(row)}: {lines[number - 1][:80]!r}",
                "repair the line or re-extract the file from the GroupLens zip",
            )
    user_id = _id_column([row[0] for row in fields], "user id", where)
    movie_id = _id_column([row[1] for row in fields], "movie id", where)
    rating = _rating_column([row[2] for row in fields], where)
    try:
        timestamp = np.array([int(row[3]) for row in fields], dtype=np.int64)
    except ValueError:
        number = next(i for i, row in enumerate(fields, 1) if not row[3].strip().lstrip("-").isdigit())
        raise DataError(f"{where} line {number}: timestamp {fields[number - 1][3]!r} is not an integer",
                        "repair the line or re-extract the file from the GroupLens zip") from None
    return user_id, movie_id, rating, timestamp


def parse_genres(text: str, variant: str) -> dict[int, list[str]]:
    """movie id -> genres: 100k's 19 flags at the end of u.item, 1m's `A|B` third field."""
    genres = {}
    for line in _lines(text):
        row = line.split("|" if variant == "100k" else "::")
        if variant == "100k":
            flags = row[-len(GENRES_100K):]
            genres[int(row[0])] = [g for g, flag in zip(GENRES_100K, flags) if flag.strip() == "1"]
        elif len(row) >= 3:
            genres[int(row[0])] = [g for g in row[2].split("|") if g]
    return genres


def parse_users(text: str, variant: str, where: str) -> dict[str, dict[int, object]]:
    """feature -> {user id: value}: age, gender, occupation, zip_prefix (first 3 characters).

    100k's u.user is `id|age|gender|occupation|zip`; 1m's users.dat `id::gender::age::occupation::zip`
    (age and occupation there are GroupLens' codes, kept as they are).
    """
    columns = {"age": {}, "gender": {}, "occupation": {}, "zip_prefix": {}}
    for number, line in enumerate(_lines(text), start=1):
        row = line.split("|" if variant == "100k" else "::")
        if len(row) < 5:
            raise DataError(f"{where} line {number}: expected 5 fields (user, age, gender, occupation, zip), "
                            f"found {len(row)}: {line[:80]!r}",
                            "repair the line or re-extract the file from the GroupLens zip")
        user = _parse_id(row[0], "user id", where, number)
        age, gender = (row[1], row[2]) if variant == "100k" else (row[2], row[1])
        columns["age"][user] = float(age) if age.strip().replace(".", "", 1).isdigit() else np.nan
        columns["gender"][user] = gender
        columns["occupation"][user] = row[3]
        columns["zip_prefix"][user] = row[4][:3]
    return columns

def parse_titles(text: str, sep: str, where: str) -> dict[int, str]:
    """Parses `id<sep>title<sep>...` lines into movie id -> title.

    Args:
        text: the whole movies file, decoded.
        sep: the field separator ("|" for u.item, "::" for movies.dat).
        where: the file as users should see it in errors.
    """
    titles = {}
    for number, line in enumerate(_lines(text), start=1):
        row = line.split(sep)
        if len(row) < 2:
            raise DataError(
                f"{where} line {number}: expected at least 2 fields (movie id, title) "
                f"separated by {sep!r}, found {len(row)}: {line[:80]!r}",
                "repair the line or re-extract the file from the GroupLens zip",
            )
        titles[_parse_id(row[0], "movie id", where, number)] = row[1]
    return titles


@contextlib.contextmanager
def _cyclic_gc_paused():
    # A million small lists would trigger the cyclic collector over and over, scanning
    # everything allocated so far: that more than doubles parsing time for MovieLens 1M.
    # Lists of strings hold no cycles, so nothing is lost by pausing it.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _lines(text: str) -> list[str]:
    # Split on "\n" only: latin-1 text may hold "\x85", which str.splitlines() would also cut
    # at. Strip like TFDS's parser does ("\r", stray spaces); drop the final newline's tail.
    lines = [line.strip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _id_column(values: list[str], what: str, where: str) -> np.ndarray:
    try:
        ids = np.fromiter(map(int, values), dtype=np.int64, count=len(values))
        if len(ids) == 0 or (ids.min() >= 1 and ids.max() <= _MAX_ID):
            return ids.astype(np.int32)
    except ValueError:
        pass
    # The fast path failed: find and name the first bad line.
    for number, value in enumerate(values, start=1):
        _parse_id(value, what, where, number)
    raise AssertionError("unreachable: a bad id was detected but not found")


def _parse_id(value: str, what: str, where: str, number: int) -> int:
    try:
        parsed = int(value)
    except ValueError:
        raise DataError(f"{where} line {number}: {what} {value!r} is not an integer",
                        "repair the line or re-extract the file from the GroupLens zip") from None
    if not 1 <= parsed <= _MAX_ID:
        raise DataError(f"{where} line {number}: {what} {parsed} is outside 1..{_MAX_ID} "
                        "(ids start at 1; row 0 of every table is unused)",
                        "repair the line or re-extract the file from the GroupLens zip")
    return parsed


def _rating_column(values: list[str], where: str) -> np.ndarray:
    ratings = []
    for number, value in enumerate(values, start=1):
        try:
            parsed = float(value)
        except ValueError:
            parsed = math.nan
        if not 1.0 <= parsed <= 5.0:  # also rejects nan
            raise DataError(f"{where} line {number}: rating {value!r} is not a number in 1..5",
                            "repair the line or re-extract the file from the GroupLens zip")
        ratings.append(parsed)
    return np.array(ratings, dtype=np.float32)


class _Folder:
    """An extracted release: `root` holds the files themselves."""

    def __init__(self, root: str):
        self.root = root
        self.where = root

    def has(self, name: str) -> bool:
        return os.path.isfile(os.path.join(self.root, name))

    def read(self, name: str) -> tuple[str, str]:
        file = os.path.join(self.root, name)
        if not os.path.isfile(file):
            raise DataError(f"data.path={self.root} has no {name}",
                            "point data.path at a complete extracted GroupLens folder or its zip")
        with open(file, "rb") as f:
            return file, f.read().decode("latin-1")

    def fingerprint(self, layout: Layout) -> dict[str, object]:
        names = (layout.ratings, layout.movies, layout.users)
        return {"files": fingerprint_files([os.path.join(self.root, name) for name in names])}


class _Zip:
    """A GroupLens zip: members live under `<folder>/` (or, re-zipped, at the top)."""

    def __init__(self, file: str, layout: Layout):
        self.file = file
        self.layout = layout
        self.where = file

    def has(self, name: str) -> bool:
        with zipfile.ZipFile(self.file) as archive:
            members = set(archive.namelist())
        return f"{self.layout.folder}/{name}" in members or name in members

    def read(self, name: str) -> tuple[str, str]:
        try:
            with zipfile.ZipFile(self.file) as archive:
                members = set(archive.namelist())
                for member in (f"{self.layout.folder}/{name}", name):
                    if member in members:
                        return f"{self.file}:{member}", archive.read(member).decode("latin-1")
        except zipfile.BadZipFile as error:
            raise DataError(f"data.path={self.file} is not a readable zip ({error})",
                            _FIX_PATH.format(folder=self.layout.folder)) from None
        raise DataError(f"data.path={self.file} has no {self.layout.folder}/{name}",
                        _FIX_PATH.format(folder=self.layout.folder))

    def fingerprint(self, layout: Layout) -> dict[str, object]:
        return {"files": fingerprint_files([self.file])}


def _open_source(path: str | None, layout: Layout) -> _Folder | _Zip:
    fix = _FIX_PATH.format(folder=layout.folder)
    if not path:
        raise DataError("data.source=files needs data.path", fix)
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isfile(path):
        return _Zip(path, layout)
    if not os.path.isdir(path):
        raise DataError(f"data.path={path} does not exist", fix)
    for root in (path, os.path.join(path, layout.folder)):
        if os.path.isfile(os.path.join(root, layout.ratings)):
            return _Folder(root)
    raise DataError(f"data.path={path} holds neither {layout.ratings} nor "
                    f"{layout.folder}/{layout.ratings}", fix)
