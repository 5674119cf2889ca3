import numpy as np
import pytest

from chartui import corpus as corpus_module
from chartui.corpus import available_corpora, corpus_from_text, load_corpus
from chartui.errors import ChartuiError
from chartui.vocab import PRINTABLE, Vocabulary


def test_vocabulary_is_sorted_and_round_trips():
    text = "hello, wörld! 日本語 🙂\n"
    vocab = Vocabulary.from_text(text)
    assert list(vocab.chars) == sorted(set(text))
    assert vocab.decode(vocab.encode(text)) == text
    assert Vocabulary.from_string(vocab.to_string()) == vocab


def test_unicode_characters_are_never_split():
    text = "naïve café 🙂🙂 ∑"
    c = corpus_from_text(text)
    assert len(c) == len(text)
    assert "🙂" in c.vocab.chars and "ï" in c.vocab.chars
    assert c.text() == text


def test_unknown_characters_error_or_skip():
    vocab = Vocabulary.from_text("abc")
    with pytest.raises(ChartuiError, match="not in the model's vocabulary"):
        vocab.encode("abz")
    assert vocab.decode(vocab.encode("abzc", unknown="skip")) == "abc"
    assert vocab.unknown_chars("xaxy") == ["x", "y"]


def test_crlf_and_cr_become_newlines():
    c = corpus_from_text("one\r\ntwo\rthree\n")
    assert c.text() == "one\ntwo\nthree\n"
    assert "\r" not in c.vocab.chars


def test_crlf_split_across_read_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_module, "CHUNK_BYTES", 4)
    path = tmp_path / "w.txt"
    path.write_bytes(b"abc\r\ndefg\r\nhi\r")
    assert load_corpus(str(path)).text() == "abc\ndefg\nhi\n"


def test_multibyte_character_split_across_read_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_module, "CHUNK_BYTES", 3)
    path = tmp_path / "u.txt"
    text = "añb日c🙂d" * 5
    path.write_text(text, encoding="utf-8")
    assert load_corpus(str(path)).text() == text


def test_printable_vocabulary_folds_to_ascii():
    c = corpus_from_text("Café — naïve\n", vocabulary="printable")
    assert c.vocab.chars == tuple(PRINTABLE) and len(c.vocab) == 100
    assert c.text() == "Cafe  naive\n"


def test_split_holds_out_the_end():
    c = corpus_from_text("abcdefghij" * 10)
    train, val = c.split(0.1)
    assert len(train) == 90 and len(val) == 10
    assert np.array_equal(np.concatenate([train, val]), c.data)


def test_builtin_default_corpus_needs_no_download():
    c = load_corpus("pydocs")
    assert len(c) > 100_000 and len(c.vocab) > 50
    assert c.data.dtype == np.uint8


def test_named_corpora_include_shipped_and_user_folders(tmp_path, monkeypatch):
    (tmp_path / "mine.txt").write_text("my own little corpus\n", encoding="utf-8")
    monkeypatch.setenv("CHARTUI_CORPORA", str(tmp_path))
    names = [e.name for e in available_corpora()]
    assert names[:3] == ["pydocs", "docstrings", "pysource"]
    assert "chartui-faq" in names and "mine" in names
    assert load_corpus("mine").text() == "my own little corpus\n"


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"  \n\t\n ", "only whitespace"),
    (b"\x7fELF\x02\x01\x01\x00\x00\x00binary", "binary"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("caf\u00e9 cr\u00e8me".encode("latin-1"), "--encoding"),
])
def test_bad_files_get_one_clear_sentence(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(ChartuiError, match=message) as info:
        load_corpus(str(path))
    assert "\n" not in str(info.value)


def test_missing_path_and_folder_and_unknown_name(tmp_path):
    with pytest.raises(ChartuiError, match="does not exist"):
        load_corpus(str(tmp_path / "nope.txt"))
    with pytest.raises(ChartuiError, match="is a folder"):
        load_corpus(str(tmp_path) + "/")
    with pytest.raises(ChartuiError, match="no corpus named 'nonesuch'"):
        load_corpus("nonesuch")


def test_other_encodings_by_request_or_bom(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("café crème\n".encode("latin-1"))
    assert load_corpus(str(latin), encoding="latin-1").text() == "café crème\n"
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes("ünïcode\r\n".encode("utf-16"))
    assert load_corpus(str(utf16)).text() == "ünïcode\n"
    with pytest.raises(ChartuiError, match="not an encoding"):
        load_corpus(str(latin), encoding="klingon")


def test_unreadable_file(tmp_path):
    import os
    if os.geteuid() == 0:
        pytest.skip("root can read any file")
    path = tmp_path / "secret.txt"
    path.write_text("hidden")
    path.chmod(0)
    with pytest.raises(ChartuiError, match="permission denied"):
        load_corpus(str(path))


def test_ascii_and_unicode_chunks_read_alike(tmp_path, monkeypatch):
    """Plain-ASCII chunks skip decoding; mixed with others they give the same ids and counts."""
    text = "plain ascii\r\nlines\rhere " * 3 + "añb日c " + "more ascii text\n" * 4
    path = tmp_path / "mixed.txt"
    path.write_bytes(text.encode("utf-8"))
    whole = corpus_from_text(text.replace("\r\n", "\n").replace("\r", "\n"))
    for size in (5, 7, 64):
        monkeypatch.setattr(corpus_module, "CHUNK_BYTES", size)
        loaded = load_corpus(str(path))
        assert loaded.vocab == whole.vocab and loaded.fingerprint == whole.fingerprint
        assert np.array_equal(loaded.data, whole.data)
        assert np.array_equal(loaded.counts, np.bincount(whole.data))


def test_large_corpora_are_mapped_from_a_scratch_file(tmp_path, monkeypatch, faq):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(corpus_module, "IN_MEMORY_BYTES", 1000)
    mapped = load_corpus("chartui-faq")
    assert isinstance(mapped.data, np.memmap)
    assert mapped.text(0, 200) == faq.text(0, 200) and np.array_equal(mapped.data, faq.data)
    assert (tmp_path / "cache" / "chartui").is_dir()
    assert not list((tmp_path / "cache" / "chartui").iterdir())  # unnamed: nothing left behind


def test_peek_reads_only_the_start(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("first line\r\n" + "x" * (corpus_module.PEEK_BYTES * 3), encoding="utf-8")
    peek = corpus_module.peek_corpus(str(path))
    assert peek.name == "long" and peek.size_bytes == path.stat().st_size
    assert peek.head.startswith("first line\nxxx") and len(peek.head) <= corpus_module.PEEK_BYTES
    assert corpus_module.peek_corpus("pydocs") is None  # built-ins load fast anyway
    assert corpus_module.peek_corpus(str(tmp_path / "missing.txt")) is None
