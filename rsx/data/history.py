"""Each user's time-ordered item history: the `sequence` side feature `history`.

`data.history_length: L` (0 = off) adds `PreparedData.user_features["history"]`, declared as
`SideFeature("history", kind="sequence", entity="user", vocabulary_size=<item table rows>,
max_length=L)`: row u holds user u's latest L items, oldest first, as item table rows, 0-padded
at the end (the layout of `rsx.data.schema`):

    user  training interactions (time: item)     history row, L = 3
    1     t=5: A, t=2: B, t=9: C, t=7: D         [A, D, C]   (B is older than the latest 3)
    2     t=1: E                                 [E, 0, 0]
    3     (only in validation/test)              [0, 0, 0]

Only the training (fit) rows count, never validation or test, so evaluation stays honest: a
held-out interaction is never part of the history it is predicted from. A training row's own
item *is* in its user's history. Retrieval towers that exclude seen items at evaluation are
fine with that; a model that must not see the item it scores (a ranking model predicting the
rating of that very row) should not use this feature.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

#: The feature's name in `PreparedData.user_features` and the schema.
HISTORY = "history"


def user_histories(users: np.ndarray, items: np.ndarray, positions: np.ndarray,
                   timestamps: Optional[np.ndarray], num_users: int, length: int) -> np.ndarray:
    """Every user's latest `length` items, oldest first.

    Args:
        users: (n,) int user table rows of the training interactions.
        items: (n,) int item table rows of the same interactions (0, out of vocabulary, is
            skipped: it would read as padding).
        positions: (n,) int row positions in the cleaned frame (file order): ties in time,
            and every row when there is no timestamp, are ordered by them.
        timestamps: (n,) times (any orderable dtype), or None.
        num_users: rows of the user table (row 0 included).
        length: L, the width of the history.

    Returns:
        (num_users, length) int32; 0 = padding, at the end of each row.
    """
    users, items, positions = (np.asarray(a) for a in (users, items, positions))
    known = items > 0
    users, items, positions = users[known], items[known], positions[known]
    times = timestamps[known] if timestamps is not None else positions
    # By (user, time, position): lexsort sorts by its last key first.
    order = np.lexsort((positions, times, users))
    users, items = users[order].astype(np.int64), items[order]
    counts = np.bincount(users, minlength=num_users)
    ends = np.cumsum(counts)
    from_end = ends[users] - np.arange(len(users))  # 1 = a user's latest interaction
    kept = np.minimum(counts, length)
    latest = from_end <= kept[users]
    slot = kept[users[latest]] - from_end[latest]  # 0 = the oldest kept
    history = np.zeros((num_users, length), np.int32)
    history[users[latest], slot] = items[latest]
    return history
