"""`RawRatings`: MovieLens as one source stores it, before the preparation pipeline."""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np


@dataclasses.dataclass
class RawRatings:
    """Ratings in the order their source stores them, and the side tables of the release.

    Args:
        user_id: int32 user ids (from 1).
        movie_id: int32 movie ids (from 1).
        rating: float32 star ratings (1..5; 0.5..5 in the CSV releases).
        titles: movie id -> title, from the source's movies table.
        timestamp: int64 seconds since 1970 per rating, or None.
        genres: movie id -> list of genre names, or None.
        users: user feature name -> {user id: value} (age, gender, occupation, zip_prefix), or None.
        tags: movie id -> list of tags users gave it (the CSV releases' tags.csv), or None.
        source: where the rows came from (a path or "tfds:<name>"), for provenance.
    """

    user_id: np.ndarray
    movie_id: np.ndarray
    rating: np.ndarray
    titles: dict[int, str]
    timestamp: Optional[np.ndarray] = None
    genres: Optional[dict[int, list[str]]] = None
    users: Optional[dict[str, dict[int, object]]] = None
    tags: Optional[dict[int, list[str]]] = None
    source: str = ""
