"""The prepared, framework-free form of a dataset that every backend trains on.

Data preparation (TFDS, raw GroupLens files, synthetic generation) ends here: plain NumPy
arrays, so the result can be cached on disk and handed to any backend, and so nothing in
this module needs TensorFlow or JAX.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: Column names every prepared split carries.
USER_ID = "user_id"
MOVIE_ID = "movie_id"
LABEL = "label"
RATING = "rating"
COLUMNS = (USER_ID, MOVIE_ID, LABEL, RATING)


@dataclasses.dataclass
class PreparedData:
    """Train/test interactions plus what models need to size their tables.

    Args:
        name: dataset name as it appears in tags, e.g. "movielens_100k".
        train: column name -> 1-D array; `user_id`/`movie_id` int32, `label` float32 in
            [0, 1] ((rating - 1) / 4), `rating` float32 on the original scale.
        test: same columns as `train`.
        vocabulary_sizes: feature name -> table rows needed (largest id + 1).
        titles: movie id -> display title; index 0 is unused ("").
    """

    name: str
    train: dict[str, np.ndarray]
    test: dict[str, np.ndarray]
    vocabulary_sizes: dict[str, int]
    titles: np.ndarray

    @property
    def num_train(self) -> int:
        return int(len(self.train[LABEL]))

    @property
    def num_test(self) -> int:
        return int(len(self.test[LABEL]))

    def save(self, path) -> None:
        """Writes one `.npz` file (no pickle) that `load` reads back."""
        arrays = {f"train/{k}": v for k, v in self.train.items()}
        arrays.update({f"test/{k}": v for k, v in self.test.items()})
        arrays.update({f"vocab/{k}": np.int64(v) for k, v in self.vocabulary_sizes.items()})
        arrays["titles"] = self.titles.astype(str)
        arrays["name"] = np.array(self.name)
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path) -> "PreparedData":
        with np.load(path, allow_pickle=False) as f:
            train, test, vocab = {}, {}, {}
            for key in f.files:
                kind, _, column = key.partition("/")
                if kind == "train":
                    train[column] = f[key]
                elif kind == "test":
                    test[column] = f[key]
                elif kind == "vocab":
                    vocab[column] = int(f[key])
            return cls(
                name=str(f["name"]),
                train=train,
                test=test,
                vocabulary_sizes=vocab,
                titles=f["titles"],
            )
