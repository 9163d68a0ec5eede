"""Reading interaction files with pandas/pyarrow, and naming the file and line of a bad value.

Dataset plugins read CSV / TSV / Parquet files (or a folder of them) through `read_table`, so
a malformed row is reported as `<file> line <n>: ...` with a fix, never as a parser traceback.
Line numbers count from 1 and include the header line, as an editor shows them.

`fingerprint` identifies files by their *content* (BLAKE2b of the bytes), so the prepared-data
cache and the job key notice a changed file even when its size and modification time did not
change (a copy with `cp -p`, a restored backup, a checkout). Hashing a 490 MiB ratings file
takes about a second, on every run; inside `remembered_digests(cache folder)` a digest is
reused while the file's (path, size, mtime_ns, ctime_ns, inode) stay the same. The status-change
time (ctime) cannot be set back by `cp -p`, `touch -d` or a restore, and moves on every write,
so whatever changes the bytes forces a new hash.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import os
import tempfile
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

import numpy as np

from rsx.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

#: File name endings `read_table` understands, and the separator each implies.
FORMATS = {".csv": ",", ".tsv": "\t", ".txt": "\t", ".parquet": None, ".pq": None}
_CHUNK = 1 << 22


def table_files(path: str, what: str = "data.path") -> list[str]:
    """`path` itself, or the data files in folder `path` (sorted by name).

    Raises:
        DataError: the path does not exist, or a folder holds no file `read_table` reads.
    """
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise DataError(f"{what}={path} does not exist", f"point {what} at a CSV/TSV/Parquet file or a folder of them")
    found = sorted(os.path.join(path, n) for n in os.listdir(path)
                   if os.path.splitext(n)[1].lower() in FORMATS and not n.startswith("."))
    if not found:
        raise DataError(f"{what}={path} holds no .csv, .tsv or .parquet file",
                        f"point {what} at a CSV/TSV/Parquet file or a folder of them")
    return found


def read_table(path: str, *, sep: Optional[str] = None, usecols: Optional[Sequence[str]] = None,
               dtype: Optional[dict] = None, encoding: str = "utf-8", what: str = "data.path",
               quoting: int = 0) -> "pd.DataFrame":
    """Reads one file, or every data file of a folder (concatenated in name order).

    Args:
        path: a .csv / .tsv / .txt / .parquet file, or a folder of them.
        sep: field separator of text files; None = by extension ("," for .csv, tab otherwise).
        usecols: columns to keep (missing ones are a DataError naming the file and the column).
        dtype: column -> dtype, as pandas takes it (e.g. {"userId": "string"}).
        encoding: text encoding.
        quoting: `csv` quoting of text files: 0 (QUOTE_MINIMAL: "a, b" is one field) or 3
            (QUOTE_NONE: quotes are plain characters, as in RecBole's atomic files).
        what: the config key that named `path`, for messages.

    Returns:
        A DataFrame with a fresh 0..n-1 index; `frame.attrs["rsx_files"]` records which rows
        came from which file, for `line_of`.

    Raises:
        DataError: a file is missing, empty, malformed or lacks a column (file and line named).
    """
    import pandas as pd

    frames, starts = [], []
    total = 0
    for file in table_files(path, what):
        frame = _read_one(file, sep, usecols, dtype, encoding, quoting)
        frames.append((file, frame))
        starts.append((total, file, 0 if file.lower().endswith((".parquet", ".pq")) else 1))
        total += len(frame)
    frame = frames[0][1] if len(frames) == 1 else pd.concat([f for _, f in frames], ignore_index=True)
    if len(frame) == 0:
        raise DataError(f"{path} holds no rows", "point the config at a file with data rows below its header")
    frame.attrs["rsx_files"] = starts
    return frame


def _read_one(file: str, sep, usecols, dtype, encoding, quoting=0) -> "pd.DataFrame":
    import pandas as pd

    extension = os.path.splitext(file)[1].lower()
    if os.path.getsize(file) == 0:
        raise DataError(f"{file} is empty", "write a header line and data rows, or remove the file")
    try:
        if FORMATS.get(extension, ",") is None:
            frame = pd.read_parquet(file, columns=list(usecols) if usecols else None)
        else:
            separator = sep or FORMATS.get(extension, ",")
            frame = _read_text_with_pyarrow(file, separator, usecols, dtype, encoding, quoting)
            if frame is None:
                frame = pd.read_csv(file, sep=separator, usecols=usecols, dtype=dtype, encoding=encoding,
                                    engine="c", low_memory=False, quoting=quoting)
    except pd.errors.EmptyDataError:
        raise DataError(f"{file} is empty", "write a header line and data rows, or remove the file") from None
    except pd.errors.ParserError as error:
        reason = " ".join(str(error).split())
        raise DataError(f"{file}: malformed row ({reason})",
                        "repair that line (a stray separator or quote), or set the right separator") from None
    except ValueError as error:
        text = " ".join(str(error).split())
        if "Usecols do not match columns" in text or "not in list" in text or "No match for" in text:
            missing = [c for c in usecols or () if c not in _header(file, sep, encoding)]
            raise DataError(f"{file} has no column '{missing[0] if missing else usecols}' "
                            f"(columns: {', '.join(map(str, _header(file, sep, encoding)))})",
                            "map an existing column in data.columns.* (ids, rating, timestamp), declare only "
                            "existing columns in data.features.* (side features; or give them their own file "
                            "in data.user_features_path / data.item_features_path), or fix the file's header") from None
        raise DataError(f"{file}: {text}", "check the column types (data.columns.*) and the file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{file} cannot be read ({type(error).__name__}: {error})",
                        "check the file's permissions and encoding") from None
    return frame


def _read_text_with_pyarrow(file: str, sep: str, usecols, dtype, encoding: str, quoting: int):
    """The file through pyarrow's multithreaded CSV reader, or None to let pandas read it.

    Why: on a 20M-row, 490 MiB ratings file pandas' C parser took 13 s (ids read as text
    14 s more to check); pyarrow reads it in about a third of that. pandas stays the reader of
    record for everything pyarrow reports as a problem (a malformed row, a missing column,
    bad encoding): on any pyarrow error the file is read again by pandas, whose errors name
    the line, so messages are the same whichever reader succeeded.
    Differences kept in mind: pyarrow types ISO date/time columns as datetimes (pandas keeps
    text; `interactions` accepts both), and empty cells are missing (NaN) in both.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if len(sep) != 1 or quoting not in (0, 3) or any(t not in (str, "str", "string") for t in (dtype or {}).values()):
        return None
    try:
        header = _header(file, sep, encoding) if usecols else None
        table = pacsv.read_csv(
            file,
            read_options=pacsv.ReadOptions(encoding=encoding, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"' if quoting == 0 else False),
            convert_options=pacsv.ConvertOptions(
                include_columns=[c for c in header if c in set(usecols)] if usecols else None,
                column_types={c: pa.string() for c in dtype or {}}, strings_can_be_null=True,
                quoted_strings_can_be_null=True),
        )
    except Exception:  # noqa: BLE001  (pandas reads it again and reports the problem)
        return None
    if usecols and set(table.column_names) != set(usecols):
        return None  # a mapped column the file lacks: pandas names it
    return table.to_pandas()


def _header(file: str, sep, encoding) -> list:
    import pandas as pd

    if file.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        return list(pq.read_schema(file).names)
    extension = os.path.splitext(file)[1].lower()
    return list(pd.read_csv(file, sep=sep or FORMATS.get(extension, ","), nrows=0, encoding=encoding).columns)


def line_of(frame: "pd.DataFrame", row: int) -> str:
    """`<file> line <n>` of row `row` (position in the frame as `read_table` returned it)."""
    starts = frame.attrs.get("rsx_files") or [(0, "the data", 1)]
    index = bisect.bisect_right([s for s, _, _ in starts], row) - 1
    start, file, header = starts[index]
    return f"{file} line {row - start + 1 + header}"


def numeric_column(frame: "pd.DataFrame", column: str, what: str, *, integer: bool = False,
                   allow_missing: bool = False) -> np.ndarray:
    """`frame[column]` as float64 (or int64), or a DataError naming the first bad row's line.

    Args:
        frame: as `read_table` returned it (so lines can be named).
        column: the column to convert.
        what: what the column is, e.g. "rating (data.columns.rating)".
        integer: require whole numbers (ids declared as integers).
        allow_missing: empty cells become NaN (float only) instead of an error.
    """
    import pandas as pd

    values = frame[column]
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":
        return values.to_numpy(np.int64 if integer else np.float64)  # whole, never missing: no checks
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna().to_numpy() & values.notna().to_numpy()
    if integer and not bad.any():
        finite = numbers.notna().to_numpy()
        bad = finite & (numbers.to_numpy(np.float64, na_value=np.nan) % 1 != 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        kind = "an integer" if integer else "a number"
        raise DataError(f"{line_of(frame, row)}: {what} {values.iloc[row]!r} is not {kind}",
                        "repair the value, or map another column" + (
                            " (or declare string ids: data.columns.id_type=str)" if integer else ""))
    if numbers.isna().any() and not (allow_missing and not integer):
        row = int(np.flatnonzero(numbers.isna().to_numpy())[0])
        raise DataError(f"{line_of(frame, row)}: {what} is missing", "fill in the value or drop the row")
    return numbers.to_numpy(np.int64 if integer else np.float64)


def fingerprint(paths: Iterable[str]) -> list[list]:
    """[path, size, content digest] per file: changes whenever a byte changes.

    A folder contributes every data file in it. Missing files give [path, None, None], so a
    plugin can fingerprint before its own error message says what is missing. Within
    `remembered_digests`, digests of unchanged files come from its memo.
    """
    found = []
    for path in paths:
        if path is None:
            continue
        path = os.path.abspath(os.path.expanduser(path))
        files = table_files(path) if os.path.isdir(path) else [path]
        for file in files:
            if not os.path.isfile(file):
                found.append([file, None, None])
                continue
            stat = os.stat(file)
            found.append([file, stat.st_size, _digest_of(file, stat)])
    return found


#: The memo of `remembered_digests` in force: (its file, {path: [stat key..., digest]}), or None.
_memo: Optional[tuple[str, dict]] = None
#: The memo's file name inside the cache folder.
DIGEST_MEMO = ".file-digests.json"


@contextlib.contextmanager
def remembered_digests(directory: Optional[str]):
    """Reuses and records `fingerprint`'s content digests in `<directory>/.file-digests.json`.

    `directory` None (no cache) hashes every file as usual. The memo is written atomically
    when a digest was added; parallel jobs may overwrite each other's entries, which only
    costs a hash later. An unreadable memo is ignored.
    """
    global _memo
    if directory is None:
        yield
        return
    path = os.path.join(directory, DIGEST_MEMO)
    try:
        with open(path) as f:
            entries = json.load(f)
        entries = entries if isinstance(entries, dict) else {}
    except (OSError, ValueError):
        entries = {}
    before = dict(entries)
    previous, _memo = _memo, (path, entries)
    try:
        yield
    finally:
        _memo = previous
    if entries != before:
        try:
            os.makedirs(directory, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".json")
            with os.fdopen(handle, "w") as f:
                json.dump(entries, f)
            os.replace(temporary, path)
        except OSError:  # a read-only cache folder: hash again next time
            pass


def _digest_of(file: str, stat: os.stat_result) -> str:
    key = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
    entries = _memo[1] if _memo is not None else None
    if entries is not None:
        known = entries.get(file)
        if isinstance(known, list) and known[:-1] == key:
            return known[-1]
    digest = hashlib.blake2b(digest_size=16)
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    if entries is not None:
        entries[file] = [*key, digest.hexdigest()]
    return digest.hexdigest()
