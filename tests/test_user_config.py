"""The user's config file (chartui.user_config): reading, checking, writing the theme, and
`chartui train` starting from its [train] table."""

import json

import pytest

from chartui.cli import main
from chartui.cli.parser import build_parser, train_config_from_args
from chartui.config import preset
from chartui.errors import ChartuiError
from chartui.user_config import (
    config_path,
    load_user_config,
    save_theme,
    train_defaults,
    with_top_level_line,
)

from helpers import FAQ

GOOD = """\
# my chartui
theme = "nord"

[keys]
toggle_training = "space"

[train]
preset = "lesson"
hidden_size = 96
lr = 0.003
"""


def test_the_path_follows_chartui_config_then_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("CHARTUI_CONFIG", str(tmp_path / "mine.toml"))
    assert config_path() == tmp_path / "mine.toml"
    monkeypatch.delenv("CHARTUI_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "chartui" / "config.toml"


def test_a_good_file_gives_theme_keys_and_settings(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    user = load_user_config(path)
    assert user.problem() is None and user.readable
    assert user.theme == "nord" and user.keys == {"toggle_training": "space"}
    config = user.train_config()
    assert config == preset("lesson").override(hidden_size=96, lr=0.003)


def test_a_missing_file_is_no_problem(tmp_path):
    user = load_user_config(tmp_path / "none.toml")
    assert user.problem() is None and user.train_config() == preset("default")


@pytest.mark.parametrize("text, words, train", [
    ('theme = \n', ["could not be read", "none of it applies"], {}),
    ('theme = 3\n[train]\nlr = 0.5\n', ["theme must be a name"], {"lr": 0.5}),
    ('[train]\nlr = "fast"\nhidden_size = 64\n', ["[train] lr = 'fast' is not allowed",
                                                  "it was ignored"], {"hidden_size": 64}),
    ('[train]\nhidden = 64\nseq_len = 40\n', ["no setting 'hidden'"], {"seq_len": 40}),
    ('[train]\nhidden_size = 64.0\n', ["hidden_size = 64.0 is not allowed", "whole number"], {}),
    ('colour = "red"\n[keys]\nquit = 3\n', ["unknown entry 'colour'", "[keys] entry"], {}),
    ('[train]\npreset = ["anna"]\nlr = 0.5\n', ["preset ['anna'] is not one of"], {"lr": 0.5}),
])
def test_a_broken_file_is_one_sentence_and_the_rest_still_applies(tmp_path, text, words,
                                                                     train):
    path = tmp_path / "config.toml"
    path.write_text(text)
    user = load_user_config(path)
    problem = user.problem()
    assert problem.startswith(f"{path}: ") and "\n" not in problem
    for word in words:
        assert word in problem
    assert user.train == train


def test_saving_the_theme_changes_its_line_only(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    assert save_theme("dracula", path) == path  # a new file, folder and all
    assert path.read_text() == 'theme = "dracula"\n'
    path.write_text(GOOD)
    save_theme("ansi-light", path)
    assert path.read_text() == GOOD.replace('"nord"', '"ansi-light"')  # comments kept
    path.write_text("[train]\nlr = 0.003\n")
    save_theme("nord", path)
    assert load_user_config(path).theme == "nord" and load_user_config(path).train == \
        {"lr": 0.003}
    assert with_top_level_line("# c\n", "theme", '"x"') == '# c\ntheme = "x"\n'


def test_saving_the_theme_keeps_the_files_mode_and_the_lines_comment(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"  # my favourite\n')
    path.chmod(0o600)
    save_theme("dracula", path)
    assert path.read_text() == 'theme = "dracula"  # my favourite\n'
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_linked_file_stays_linked(tmp_path):
    kept = tmp_path / "dotfiles" / "config.toml"
    kept.parent.mkdir()
    kept.write_text(GOOD)
    link = tmp_path / "config.toml"
    link.symlink_to(kept)
    save_theme("ansi-light", link)
    assert link.is_symlink() and load_user_config(kept).theme == "ansi-light"


def test_a_broken_file_is_not_overwritten(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("theme = \n# my notes\n")
    with pytest.raises(ChartuiError, match="could not be read.*not changed"):
        save_theme("nord", path)
    assert path.read_text() == "theme = \n# my notes\n"


def train_args(*flags):
    return build_parser()["train"].parse_args([str(FAQ), *flags])


def test_chartui_train_starts_from_the_train_table_and_flags_win(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text("[train]\nhidden_size = 40\nlr = 0.002\n")
    monkeypatch.setenv("CHARTUI_CONFIG", str(path))
    config = train_config_from_args(train_args("--lr", "0.004"), None)
    assert config.hidden_size == 40 and config.lr == 0.004
    assert train_config_from_args(train_args("--preset", "default"), None) == preset("default")
    assert train_defaults(path).hidden_size == 40


def test_chartui_train_runs_with_the_train_table(tmp_path, monkeypatch, capsys):
    from chartui.checkpoint import load_checkpoint
    path = tmp_path / "config.toml"
    path.write_text("[train]\nhidden_size = 24\nembedding_dim = 8\nbatch_size = 4\n"
                    "seq_len = 16\nsample_every = 0\neval_every = 1000\n"
                    "eval_max_chars = 256\nprecision = \"fp32\"\n")
    monkeypatch.setenv("CHARTUI_CONFIG", str(path))
    assert main(["train", str(FAQ), "--iterations", "3", "--checkpoint-dir",
                 str(tmp_path / "ck"), "--json", "--device", "cpu"]) == 0
    done = json.loads(capsys.readouterr().out.splitlines()[-1])
    config = load_checkpoint(done["checkpoint"])["train_config"]
    assert (config["hidden_size"], config["embedding_dim"], config["iterations"]) == (24, 8, 3)


@pytest.mark.parametrize("text, words", [
    ('[train]\nlr = "fast"\n', ["lr = 'fast' is not allowed", "give --preset"]),
    ('[train\n', ["could not be read"]),
])
def test_chartui_train_refuses_a_bad_train_table_in_one_sentence(tmp_path, monkeypatch, capsys,
                                                                   text, words):
    path = tmp_path / "config.toml"
    path.write_text(text)
    monkeypatch.setenv("CHARTUI_CONFIG", str(path))
    assert main(["train", str(FAQ), "--iterations", "3", "--checkpoint-dir",
                 str(tmp_path / "ck")]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert str(path) in captured.err and "Traceback" not in captured.err
    for word in words:
        assert word in captured.err
    assert not (tmp_path / "ck").exists()
