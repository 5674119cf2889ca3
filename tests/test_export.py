"""Exports: loss histories as CSV or JSON, a generated text; never over an existing file."""

import csv
import errno
import json
import os

import pytest

from chartui import files as files_module
from chartui.errors import ChartuiError
from chartui.export import LOSS_CSV, LOSS_JSON, TEXT, default_path, export

TRAIN = [(1, 4.1234567890123), (2, 3.5), (3, 3.25), (4, 3.0000001)]
VAL = [(2, 3.75), (4, 3.125), (5, 3.0)]  # step 5: evaluated at the end, no training loss logged


def test_loss_history_csv_round_trip(tmp_path):
    path = export(LOSS_CSV, tmp_path / "loss.csv", train=TRAIN, val=VAL)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["step", "train_loss", "val_loss"]
    assert rows[1:] == [["1", "4.1234567890123", ""], ["2", "3.5", "3.75"], ["3", "3.25", ""],
                        ["4", "3.0000001", "3.125"], ["5", "", "3.0"]]
    train = [(int(s), float(t)) for s, t, _ in rows[1:] if t]
    val = [(int(s), float(v)) for s, _, v in rows[1:] if v]
    assert train == TRAIN and val == VAL


def test_loss_history_json_round_trip(tmp_path):
    path = export(LOSS_JSON, tmp_path / "loss.json", train=TRAIN, val=VAL, corpus_name="faq")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["corpus"] == "faq" and data["unit"] == "nats/char"
    assert [tuple(p) for p in data["train_loss"]] == TRAIN
    assert [tuple(p) for p in data["val_loss"]] == VAL


def test_text_is_written_as_it_is(tmp_path):
    text = "Th\u00e9 model writes\n\ttabs, newlines\r\nand \u2603.\n"
    path = export(TEXT, tmp_path / "out.txt", text=text)
    assert path.read_bytes() == text.encode("utf-8")


def test_an_unknown_kind_is_refused_not_written(tmp_path):
    with pytest.raises(ChartuiError, match="'loss-xml' is not a kind of export") as refused:
        export("loss-xml", tmp_path / "loss.xml", train=TRAIN, val=VAL)
    assert "\n" not in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_never_overwritten(tmp_path):
    target = tmp_path / "loss.csv"
    target.write_text("precious")
    with pytest.raises(ChartuiError, match="already exists") as error:
        export(LOSS_CSV, target, train=TRAIN, val=VAL)
    assert str(error.value).count(".") <= 2 and "\n" not in str(error.value)
    assert target.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.csv"]  # no temporary file left


def test_a_refused_write_is_one_sentence_and_leaves_nothing(tmp_path, monkeypatch):
    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(files_module.os, "link", refused)
    with pytest.raises(ChartuiError) as error:
        export(TEXT, tmp_path / "out.txt", text="hello")
    assert str(error.value) == (f"could not write '{tmp_path / 'out.txt'}' (Permission denied); "
                                "choose another folder or name")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_paths_are_one_sentence(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    with pytest.raises(ChartuiError, match="'.*blocker' is a file, not a folder"):
        export(TEXT, blocker / "out.txt", text="hello")
    with pytest.raises(ChartuiError, match="the folder '.*missing' does not exist"):
        export(TEXT, tmp_path / "missing" / "out.txt", text="hello")
    assert not (tmp_path / "missing").exists()


def test_nothing_to_export_is_explained(tmp_path):
    with pytest.raises(ChartuiError, match="no loss history"):
        export(LOSS_CSV, tmp_path / "loss.csv", train=[], val=[])
    with pytest.raises(ChartuiError, match="no generated text"):
        export(TEXT, tmp_path / "out.txt", text="")
    assert list(tmp_path.iterdir()) == []


def test_default_paths_name_the_corpus_in_the_current_folder():
    assert str(default_path("pydocs", LOSS_CSV)) == "chartui-pydocs-loss.csv"
    assert str(default_path("my notes", LOSS_JSON)) == "chartui-my_notes-loss.json"
    assert str(default_path("pydocs", TEXT)) == "chartui-pydocs-text.txt"


def test_a_file_created_after_the_check_is_not_overwritten(tmp_path, monkeypatch):
    """Someone creates the file between the existence check and the write: still refused."""
    target = tmp_path / "race.csv"
    real_fsync = os.fsync

    def fsync_then_someone_writes(fd):
        real_fsync(fd)
        if not target.exists():
            target.write_text("theirs")
    monkeypatch.setattr(files_module.os, "fsync", fsync_then_someone_writes)
    with pytest.raises(ChartuiError, match="already exists"):
        export(LOSS_CSV, target, train=TRAIN, val=VAL)
    assert target.read_text() == "theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["race.csv"]


@pytest.mark.parametrize("name", ["~nosuchuser-chartui/loss.csv", "x" * 300 + ".csv"])
def test_a_name_that_cannot_be_a_path_is_one_sentence(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ChartuiError) as refused:
        export(LOSS_CSV, name, train=TRAIN, val=VAL)
    assert "\n" not in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_an_exported_file_gets_the_usual_mode_for_a_new_file(tmp_path):
    mask = os.umask(0o022)
    try:
        path = export(TEXT, tmp_path / "text.txt", text="hello")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600


def test_without_hard_links_a_new_file_is_still_never_overwritten(tmp_path, monkeypatch):
    def no_links(source, target):
        raise OSError(errno.EPERM, "Operation not permitted")
    monkeypatch.setattr(files_module.os, "link", no_links)
    path = export(TEXT, tmp_path / "text.txt", text="first")
    assert path.read_text() == "first"
    with pytest.raises(ChartuiError, match="already exists"):
        export(TEXT, tmp_path / "text.txt", text="second")
    assert path.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["text.txt"]
