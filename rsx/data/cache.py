"""Prepared datasets on disk: one `.npz` per distinct data config, written atomically.

Preparing MovieLens means TFDS, TensorFlow and a shuffle; a sweep runs that hundreds of
times with identical data settings. The cache file name carries a hash of exactly the
settings that change the arrays, so a sweep prepares once and every job after that reads
NumPy only. Files are written under a temporary name and renamed into place, so a parallel
job sees either nothing or a complete file, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import zipfile

from rsx.data.prepared import PreparedData

log = logging.getLogger(__name__)

#: Bump when preparation changes what it produces, so older cache files are not reused.
PREPARATION_VERSION = 4


def key_digest(key: dict[str, object]) -> str:
    """sha256 (16 hex digits) of a cache key, preparation version included."""
    payload = json.dumps({"preparation_version": PREPARATION_VERSION, **key}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def cache_file(directory: str, name: str, key: dict[str, object]) -> str:
    """Returns `<directory>/<name>-<hash of key>.npz`.

    Args:
        directory: the cache folder.
        name: the dataset name, kept readable in the file name.
        key: the settings that determine the prepared arrays (JSON-serialisable).
    """
    digest = key_digest(key)
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "data"
    return os.path.join(directory, f"{readable}-{digest}.npz")


def read(path: str) -> PreparedData | None:
    """Loads a cached dataset, or returns None when there is none or it cannot be read.

    An unreadable file (e.g. from a disk that filled up) is treated as missing: the caller
    prepares the data again and overwrites it.
    """
    if not os.path.exists(path):
        return None
    try:
        return PreparedData.load(path)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        log.warning("Ignoring unreadable data cache %s (%s); preparing again.", path, error)
        return None


def write(data: PreparedData, path: str) -> None:
    """Saves `data` to `path` atomically: a temporary file in the same folder, then a rename."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".npz")
    os.close(handle)
    try:
        data.save(temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
