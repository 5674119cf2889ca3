"""The runs screen (r) and the export dialog (s), driven by Textual's pilot."""

import csv
import json

import pytest
from textual.widgets import DataTable, Input, OptionList

from chartui.corpus import load_corpus
from chartui.runs import RUNS_FOLDER, list_runs
from chartui.trainer import Trainer
from chartui.tui.screens.export import ExportScreen
from chartui.tui.screens.runs import RunComparison, RunsScreen, ValidationCurves, run_label

from helpers import FAQ, TRAINED_STEPS
from tui_helpers import (
    app_for,
    press,
    record_notifications,
    run_step,
    settle,
    small_config,
    start_training,
    wait_for,
)


def cell(table: DataTable, run_id: str, column: str) -> str:
    return str(table.get_cell(run_id, column)).strip()


async def test_runs_from_earlier_sessions_are_listed_and_two_compared(tmp_path):
    corpus = load_corpus(str(FAQ))
    for hidden, cell_type in ((32, "lstm"), (48, "gru")):  # two runs finished before this app
        Trainer(corpus, small_config(hidden_size=hidden, iterations=40, cell=cell_type),
                device="cpu", checkpoint_dir=tmp_path).run()
    (tmp_path / RUNS_FOLDER / "damaged.json").write_text('{"format": "chartui-run"')
    runs, _ = list_runs(tmp_path)
    newer, older = runs
    assert (newer.config["cell"], newer.cell, older.cell) == ("gru", "gru", "lstm")  # logged

    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await press(pilot, "r")
        assert isinstance(app.screen, RunsScreen)
        table = app.screen.query_one(DataTable)
        assert [key.value for key in table.rows] == [newer.id, older.id]  # newest first
        assert cell(table, newer.id, "model") == "1×48"
        assert cell(table, older.id, "model") == "1×32"
        assert (cell(table, newer.id, "cell"), cell(table, older.id, "cell")) == ("gru", "lstm")
        assert cell(table, newer.id, "corpus") == "chartui-faq"
        assert cell(table, newer.id, "steps") == "40"
        assert cell(table, newer.id, "best") == f"{newer.best_val_loss:.3f}"
        assert cell(table, newer.id, "state") == "finished"
        note = str(app.screen.query_one("#runs-note").render())
        assert "skipped 1 file" in note and "damaged.json" in note  # named, not just counted
        assert f"latest checkpoint: {newer.latest_checkpoint}" in note

        await press(pilot, "space", "down", "space")
        assert app.screen.selected == [newer.id, older.id]
        assert cell(table, newer.id, "mark") == cell(table, older.id, "mark") == "✓"
        await press(pilot, "space")  # and again: unselected
        assert app.screen.selected == [newer.id] and cell(table, older.id, "mark") == ""
        await press(pilot, "space", "enter")

        assert isinstance(app.screen, RunComparison)
        assert [run.id for run in app.screen.query_one(ValidationCurves).runs] == [newer.id,
                                                                                  older.id]
        legend = str(app.screen.query_one("#comparison-legend").render())
        assert run_label(newer) in legend and run_label(older) in legend
        assert "lr 0.01" in legend and "gru 1×48" in legend and "lstm 1×32" in legend
        await press(pilot, "escape")
        assert isinstance(app.screen, RunsScreen)
        await press(pilot, "escape")
        assert not isinstance(app.screen, RunsScreen)


async def test_with_nothing_selected_the_highlighted_run_is_shown(tmp_path, trained_checkpoint):
    (run,), _ = list_runs(tmp_path)
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await press(pilot, "r", "c")
        assert isinstance(app.screen, RunComparison)
        assert run_label(run) in str(app.screen.query_one("#comparison-legend").render())


async def test_no_runs_yet_is_said_plainly(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await press(pilot, "r")
        assert app.screen.query_one(DataTable).row_count == 0
        assert "no runs yet" in str(app.screen.query_one("#runs-note").render())
        seen = record_notifications(app)
        await press(pilot, "enter", "c")
        assert isinstance(app.screen, RunsScreen)
        assert seen == [("warning", "no runs to compare yet")]


@pytest.mark.slow
async def test_the_run_in_progress_is_listed_and_keeps_up(tmp_path):
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(80, 24)) as pilot:
        await start_training(pilot, app)
        await wait_for(pilot, lambda: main.run_control.loss_history().val,
                       what="a first evaluation")
        await press(pilot, "r")
        table = app.screen.query_one(DataTable)
        (run_id,) = [key.value for key in table.rows]
        assert cell(table, run_id, "state") == "training"
        first = int(cell(table, run_id, "steps").replace(",", ""))
        await wait_for(pilot, lambda: int(cell(table, run_id, "steps").replace(",", "")) > first,
                       what="the row to follow the run")
        await press(pilot, "escape", "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")
        (run,), _ = list_runs(tmp_path)
        assert run.state == "stopped" and run.step == run_step(main)
        assert run.latest_checkpoint == main.training.run.latest_checkpoint


async def test_export_the_loss_history_as_csv_and_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = app_for(tmp_path / "ck")
    main = app.main
    async with app.run_test(size=(80, 24)) as pilot:
        await start_training(pilot, app)
        await wait_for(pilot, lambda: len(main.run_control.loss_history().val) >= 2,
                       what="evaluations")
        await press(pilot, "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")
        seen = record_notifications(app)
        await press(pilot, "s")
        assert isinstance(app.screen, ExportScreen)
        assert app.screen.query_one(Input).value == "chartui-chartui-faq-loss.csv"
        await press(pilot, "1", "enter")
        assert not isinstance(app.screen, ExportScreen)
        saved = tmp_path / "chartui-chartui-faq-loss.csv"
        assert seen == [("information", f"saved {saved}")]
        with open(saved, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        history = main.run_control.loss_history()
        assert rows[0] == ["step", "train_loss", "val_loss"]
        assert len(rows) == 1 + len(history.train) == 1 + run_step(main)
        assert [float(r[1]) for r in rows[1:]] == history.train
        assert [(int(r[0]), float(r[2])) for r in rows[1:] if r[2]] == history.val

        before = saved.read_bytes()
        await press(pilot, "s", "enter")  # the same name again: refused, the dialog stays
        assert isinstance(app.screen, ExportScreen)
        assert seen[-1][0] == "error" and "already exists" in seen[-1][1]
        assert saved.read_bytes() == before

        await press(pilot, "2")  # the name follows the choice until it is edited
        assert app.screen.query_one(Input).value == "chartui-chartui-faq-loss.json"
        await press(pilot, "enter")
        data = json.loads((tmp_path / "chartui-chartui-faq-loss.json").read_text())
        assert [tuple(p) for p in data["val_loss"]] == history.val
        assert len(data["train_loss"]) == run_step(main)


async def test_export_the_generated_text_to_a_typed_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = app_for(tmp_path / "ck")
    main = app.main
    async with app.run_test(size=(80, 24)) as pilot:
        await start_training(pilot, app)
        await press(pilot, "x")
        await wait_for(pilot, lambda: main.train_state == "stopped", what="stop")
        seen = record_notifications(app)
        await press(pilot, "s", "3", "enter")  # nothing generated yet
        assert seen[-1][0] == "error" and "no generated text" in seen[-1][1]
        await press(pilot, "escape")
        assert not isinstance(app.screen, ExportScreen)

        app.query_one("#length", Input).value = "80"
        main.generate("The ")
        await wait_for(pilot, lambda: main.generation_panel.worker is None, what="generation")
        await press(pilot, "s", "3")
        assert app.screen.query_one(OptionList).highlighted == 2
        await press(pilot, "tab")
        path_box = app.screen.query_one(Input)
        assert app.focused is path_box
        path_box.value = "mine.txt"
        await press(pilot, "enter")
        assert (tmp_path / "mine.txt").read_text(encoding="utf-8") == \
            main.generation_panel.output_text()
        assert seen[-1] == ("information", f"saved {tmp_path / 'mine.txt'}")


async def test_a_copied_run_log_is_listed_once(tmp_path, trained_checkpoint):
    import shutil
    (log,) = (tmp_path / RUNS_FOLDER).glob("*.json")
    shutil.copy(log, log.with_name(log.stem + " (copy).json"))
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await press(pilot, "r")
        assert isinstance(app.screen, RunsScreen)
        assert len(app.screen.query_one(DataTable).rows) == 1


async def test_an_opened_checkpoints_history_is_exported_under_its_own_corpus(tmp_path,
                                                                           monkeypatch,
                                                                           trained_run):
    monkeypatch.chdir(tmp_path)
    app = app_for(tmp_path / "ck", corpus="pydocs", checkpoint=trained_run.path)
    main = app.main
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await wait_for(pilot, lambda: main.checkpoints.opened is not None, what="checkpoint opened")
        await press(pilot, "s")
        assert app.screen.query_one(Input).value == "chartui-chartui-faq-loss.csv"
        await press(pilot, "2", "enter")
        data = json.loads((tmp_path / "chartui-chartui-faq-loss.json").read_text())
        assert data["corpus"] == "chartui-faq" and len(data["train_loss"]) == TRAINED_STEPS
