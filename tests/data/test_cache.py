"""The prepared-data cache: hits skip preparation (and TensorFlow), writes are atomic."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from omegaconf import OmegaConf

from rsx_plugins.movielens.config import MovieLensConfig
from rsx_plugins.synthetic.config import SyntheticConfig
from rsx.data import PreparedData, load_prepared, loading
from rsx.errors import ConfigError

TINY = dict(num_users=20, num_items=10, num_interactions=300)


@pytest.fixture
def counted_prepare(monkeypatch):
    calls = []
    real = loading.prepare

    def prepare(cfg):
        calls.append(cfg)
        return real(cfg)

    monkeypatch.setattr(loading, "prepare", prepare)
    return calls


def _assert_same(a: PreparedData, b: PreparedData):
    assert a.name == b.name and a.vocabulary_sizes == b.vocabulary_sizes
    for split in ("train", "test"):
        assert getattr(a, split).keys() == getattr(b, split).keys()
        for column, values in getattr(a, split).items():
            np.testing.assert_array_equal(getattr(b, split)[column], values)
    np.testing.assert_array_equal(a.titles, b.titles)


def test_second_load_reads_the_cache_without_preparing(tmp_path, counted_prepare):
    cfg = OmegaConf.structured(SyntheticConfig(**TINY))
    first = load_prepared(cfg, cache_root=str(tmp_path))
    second = load_prepared(cfg, cache_root=str(tmp_path))
    assert len(counted_prepare) == 1
    _assert_same(first, second)
    (cached,) = tmp_path.iterdir()
    assert cached.name.startswith("synthetic-") and cached.suffix == ".npz"


def test_only_settings_that_change_the_data_change_the_cache_file(tmp_path, counted_prepare):
    load_prepared(SyntheticConfig(**TINY), str(tmp_path))
    load_prepared(SyntheticConfig(**TINY, seed=1), str(tmp_path))
    assert len(counted_prepare) == 2 and len(list(tmp_path.iterdir())) == 2
    base = MovieLensConfig()
    same = [MovieLensConfig(download=False), MovieLensConfig(cache_dir="/elsewhere"),
            MovieLensConfig(row_order="tfds")]  # row_order only matters for source=files
    assert all(loading.cache_key(cfg) == loading.cache_key(base) for cfg in same)
    assert loading.cache_key(MovieLensConfig(split_seed=1)) != loading.cache_key(base)
    assert loading.cache_key(MovieLensConfig(data_dir="/other")) != loading.cache_key(base)


def test_edited_raw_files_are_prepared_again(tmp_path, write_grouplens, counted_prepare):
    written = write_grouplens(tmp_path / "raw", "100k")
    cfg = MovieLensConfig(source="files", path=str(written.folder))
    load_prepared(cfg, str(tmp_path / "cache"))
    load_prepared(cfg, str(tmp_path / "cache"))
    assert len(counted_prepare) == 1
    with open(written.ratings_file, "a") as f:
        f.write("41\t1\t5\t881250949\n")  # a new user: not a duplicate pair
    assert load_prepared(cfg, str(tmp_path / "cache")).num_test == 121  # 601 rows now
    assert len(counted_prepare) == 2


def test_cache_dir_overrides_cache_root_and_empty_disables(tmp_path, counted_prepare):
    load_prepared(SyntheticConfig(**TINY, cache_dir=str(tmp_path / "mine")), str(tmp_path / "root"))
    assert os.listdir(tmp_path / "mine") and not (tmp_path / "root").exists()
    for _ in range(2):
        load_prepared(SyntheticConfig(**TINY, cache_dir=""), str(tmp_path / "root"))
    assert not (tmp_path / "root").exists() and len(counted_prepare) == 3
    load_prepared(SyntheticConfig(**TINY), None)  # no cache anywhere
    assert len(counted_prepare) == 4


def test_a_failed_write_leaves_no_file_behind(tmp_path, monkeypatch):
    def half_written(self, path):
        with open(path, "wb") as f:
            f.write(b"PK\x03\x04 half")
        raise OSError("disk full")

    monkeypatch.setattr(PreparedData, "save", half_written)
    with pytest.raises(OSError, match="disk full"):
        load_prepared(SyntheticConfig(**TINY), str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_cache_file_is_prepared_again(tmp_path, counted_prepare):
    load_prepared(SyntheticConfig(**TINY), str(tmp_path))
    (cached,) = tmp_path.iterdir()
    cached.write_bytes(b"not a zip")
    again = load_prepared(SyntheticConfig(**TINY), str(tmp_path))
    assert len(counted_prepare) == 2 and again.num_train + again.num_validation == 240
    _assert_same(again, PreparedData.load(cached))


def test_a_cache_hit_imports_no_framework(tmp_path, ml_100k):
    # Fill the cache here, then load it in a fresh interpreter that must not import TF.
    cfg = MovieLensConfig(source="files", path=str(ml_100k.zip))
    load_prepared(cfg, str(tmp_path))
    probe = textwrap.dedent(f"""
        import sys
        from rsx_plugins.movielens.config import MovieLensConfig
        from rsx.data import load_prepared
        data = load_prepared(MovieLensConfig(source="files", path={str(ml_100k.zip)!r}), {str(tmp_path)!r})
        assert data.num_test == 120
        print(sorted(m for m in ("tensorflow", "tensorflow_datasets", "keras", "jax") if m in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"


def test_plain_mappings_are_accepted_and_unknown_keys_named():
    data = load_prepared({**TINY, "dataset": "synthetic", "name": "synthetic", "cache_dir": ""})
    assert data.num_test == 60
    with pytest.raises(ConfigError, match="data.colour is not a setting of SyntheticConfig"):
        load_prepared({**TINY, "dataset": "synthetic", "colour": "red"})
    with pytest.raises(ConfigError, match="no data.dataset"):
        load_prepared({"name": "x"})


def test_file_digests_are_remembered_and_a_rewrite_with_the_old_size_and_mtime_still_counts(
        tmp_path, monkeypatch, counted_prepare):
    import hashlib

    from rsx.data import files

    ratings = tmp_path / "ratings.csv"
    ratings.write_text("u,i,r\n" + "".join(f"{n % 7},{n % 5},{1 + n % 5}\n" for n in range(200)))
    cfg = {"dataset": "interactions", "path": str(ratings), "cache_dir": str(tmp_path / "cache"),
           "columns": {"user": "u", "item": "i", "rating": "r"}}
    hashed = []
    real = hashlib.blake2b
    monkeypatch.setattr(files.hashlib, "blake2b", lambda **kw: hashed.append(1) or real(**kw))
    first = load_prepared(cfg)
    load_prepared(cfg)
    assert len(counted_prepare) == 1 and len(hashed) == 1  # the second run read the memo
    assert (tmp_path / "cache" / files.DIGEST_MEMO).exists()
    # Same size, same modification time, other bytes (5-star ratings become 4): prepared again.
    stat = os.stat(ratings)
    ratings.write_text(ratings.read_text().replace(",5\n", ",4\n"))
    os.utime(ratings, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert os.stat(ratings).st_size == stat.st_size and os.stat(ratings).st_mtime_ns == stat.st_mtime_ns
    second = load_prepared(cfg)
    assert len(counted_prepare) == 2 and len(hashed) == 2
    assert first.train["rating"].max() == 5 and second.train["rating"].max() == 4
