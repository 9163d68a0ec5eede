"""recbole: atomic files with typed headers pass the dataset conformance suite."""

import numpy as np
import pytest

from rsx.data import load_prepared
from rsx.errors import DataError
from rsx.testing.conformance import DatasetConformance


def write_atomic(folder, stem="toy"):
    folder = folder / stem
    folder.mkdir(exist_ok=True)
    inter = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    inter += [f"u{i % 7}\t{100 + (i * 5) % 17}\t{1 + i % 5}\t{1_600_000_000 + i}" for i in range(200)]
    (folder / f"{stem}.inter").write_text("\n".join(inter) + "\n")
    users = ["user_id:token\tage:float\tgender:token"] + [f"u{i}\t{20 + i}\t{'MF'[i % 2]}" for i in range(7)]
    (folder / f"{stem}.user").write_text("\n".join(users) + "\n")
    items = ["item_id:token\tmovie_title:token_seq\tgenre:token_seq\tvec:float_seq"]
    items += [f"{100 + i}\t\"Quoted\" film {i}\tDrama Comedy\t0.1 0.2" for i in range(17)]
    (folder / f"{stem}.item").write_text("\n".join(items) + "\n")
    return folder


class TestRecBoleDataset(DatasetConformance):
    dataset = "recbole"

    def fields_for(self, tmp_path):
        return {"path": str(write_atomic(tmp_path)), "title_field": "movie_title"}


def test_typed_headers_become_features(tmp_path):
    data = load_prepared({"dataset": "recbole", "cache_dir": "", "path": str(write_atomic(tmp_path)),
                          "title_field": "movie_title"})
    kinds = {f.name: (f.kind, f.entity) for f in data.schema.features}
    assert kinds == {"age": ("numeric", "user"), "gender": ("categorical", "user"), "genre": ("multi_hot", "item")}
    assert data.vocabularies["item_id"].dtype.kind == "i"  # integer tokens read as integers
    assert data.titles[1].startswith('"Quoted" film')
    assert (np.sort(data.vocabularies["genre"][1:]) == ["Comedy", "Drama"]).all()


def test_an_untyped_header_is_named(tmp_path):
    folder = write_atomic(tmp_path)
    (folder / "toy.inter").write_text("user_id\titem_id:token\n1\t2\n")
    with pytest.raises(DataError, match="toy.inter line 1: header field 'user_id' has no type"):
        load_prepared({"dataset": "recbole", "cache_dir": "", "path": str(folder)})
