"""interactions: conformance on a tiny CSV, string ids, feature files, one-line errors."""

import pandas as pd
import pytest

from rsx.data import load_prepared
from rsx.errors import ConfigError, DataError
from rsx.testing.conformance import DatasetConformance


def write_clicks(folder, rows=300, users=("ann", "bob", "cy", "dee", "eve", "fay")):
    """A small interactions CSV with string user ids, item ids 10.., a rating, a category."""
    records = [{"user": users[i % len(users)], "item": 10 + (i * 7) % 23, "stars": 1 + i % 5,
                "when": 1_700_000_000 + i, "device": "web" if i % 3 else "app"} for i in range(rows)]
    pd.DataFrame(records).to_csv(folder / "clicks.csv", index=False)
    pd.DataFrame({"item": range(10, 33), "colours": ["red|blue", "green", ""] * 7 + ["red", "blue"],
                  "price": [float(i) for i in range(23)]}).to_csv(folder / "items.csv", index=False)
    return folder / "clicks.csv"


def fields(folder, **more):
    return {"path": str(write_clicks(folder)), "columns": {"user": "user", "item": "item", "rating": "stars",
                                                           "timestamp": "when"},
            "item_features_path": str(folder / "items.csv"),
            "features": {"colours": {"kind": "multi_hot", "entity": "item"},
                         "price": {"kind": "numeric", "entity": "item"},
                         "device": {"kind": "categorical", "entity": "interaction"}}, **more}


class TestInteractionsDataset(DatasetConformance):
    dataset = "interactions"

    def fields_for(self, tmp_path):
        return fields(tmp_path)


def _load(**config):
    return load_prepared({"dataset": "interactions", "cache_dir": "", **config})


def test_string_ids_feature_files_and_interaction_features(tmp_path):
    data = _load(**fields(tmp_path))
    assert list(data.vocabularies["user_id"]) == ["", "ann", "bob", "cy", "dee", "eve", "fay"]
    assert data.vocabulary_sizes["user_id"] == 7
    colours = data.vocabularies["colours"]
    assert list(colours) == ["", "blue", "green", "red"]
    item_10 = list(data.vocabularies["item_id"]).index(10)
    assert data.item_features["colours"].shape[1] == 2  # the longest list
    assert sorted(colours[data.item_features["colours"][item_10]]) == ["blue", "red"]
    assert data.train["device"].dtype == "int32" and set(data.vocabularies["device"]) == {"", "app", "web"}
    assert data.schema.rating_scale == (1.0, 5.0)


@pytest.mark.parametrize("change, error, message", [
    ({"columns": {"user": "user", "item": "item", "rating": "score"}}, DataError, "has no column 'score'"),
    ({"columns": {"user": "user", "item": "item", "rating": "stars", "id_type": "int"}}, DataError,
     "clicks.csv line 2: id (user, declared data.columns.id_type=int) 'ann' is not an integer"),
    ({"min_rating": 9.0}, DataError, "data.min_rating=9.0 removes every row"),
    ({"columns": {"user": "user", "item": "item"}}, ConfigError, "data.target=rating needs data.columns.rating"),
])
def test_bad_input_is_one_line_naming_the_column_line_or_key(tmp_path, change, error, message):
    base = {"path": str(write_clicks(tmp_path)), "columns": {"user": "user", "item": "item", "rating": "stars"}}
    with pytest.raises(error) as raised:
        _load(**{**base, **change})
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_non_numeric_rating_and_an_empty_file_are_named(tmp_path):
    path = write_clicks(tmp_path)
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace(",3,", ",three,", 1)  # the third data row: line 4
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"clicks.csv line 4: rating \(stars\) 'three' is not a number"):
        _load(path=str(path), columns={"user": "user", "item": "item", "rating": "stars"})
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match="empty.csv is empty"):
        _load(path=str(empty), columns={"user": "user", "item": "item", "rating": "stars"})


def test_the_cache_key_follows_the_file_content_not_its_name_or_time(tmp_path):
    import os

    from rsx.data.loading import cache_key, typed_config

    cfg = typed_config({"dataset": "interactions", **fields(tmp_path)})
    before = cache_key(cfg)
    path = tmp_path / "clicks.csv"
    status = os.stat(path)
    text = path.read_text()
    path.write_text(text.replace("ann", "anh"))  # same size
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))  # same mtime
    assert cache_key(cfg) != before


@pytest.mark.parametrize("written", ["2024-01-31 12:00:05", "2024-01-31T12:00:05Z", "31 Jan 2024 12:00:05"])
def test_date_time_text_is_seconds_since_the_epoch(tmp_path, written):
    # ISO text comes typed from the CSV reader, other text through pandas: both in UTC seconds.
    rows = [f"u{n % 3},{n},{1 + n % 5},\"{written}\"" for n in range(30)]
    (tmp_path / "when.csv").write_text("user,item,stars,when\n" + "\n".join(rows) + "\n")
    data = _load(path=str(tmp_path / "when.csv"), columns={"user": "user", "item": "item", "rating": "stars",
                                                          "timestamp": "when"}, split="temporal")
    assert set(data.train["timestamp"]) == {1_706_702_405}
