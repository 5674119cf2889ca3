"""Watching a run another process trains: the app read-only on its run log (chartui watch,
or enter on the runs screen), driven by Textual's pilot. The tests write the log by hand and
make the app look at it again (`Watching.poll`), so nothing races a timer."""

import subprocess
import sys
import time

from textual.widgets import DataTable

from chartui.cli import main
from chartui.progress import RunState
from chartui.runs import write_run
from chartui.tui.messages import CorpusLoaded
from chartui.tui.screens.pickers import CheckpointPicker
from chartui.tui.screens.runs import RunsScreen
from chartui.tui.widgets.key_bar import KeyBar
from chartui.tui.widgets.loss_chart import SampleView

from helpers import run_record
from tui_helpers import app_for, press, record_notifications, settle, wait_for


def key_bar_text(app) -> str:
    return str(app.main.query_one(KeyBar).render())


def status_text(app) -> str:
    return str(app.main.status.render())


async def test_the_app_follows_a_run_log_says_stalled_and_opens_the_final_checkpoint(
        tmp_path, trained_checkpoint):
    record = run_record()
    path = write_run(record, tmp_path)
    app = app_for(tmp_path, watch=str(path))
    main_screen = app.main
    seen = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert main_screen.watching.active
        assert f"WATCHING {record.id} · TRAINING" in status_text(app)
        assert any(f"Watching {record.id}, read-only" in text for _, text in seen)
        keys = key_bar_text(app)
        assert "Train" not in keys and "Stop" not in keys and "Save" not in keys
        assert "Set" not in keys and "Corpus" not in keys and "Open" in keys
        assert not main_screen.check_action("toggle_training", ())
        assert main_screen.chart.figure().empty == "waiting for the run's first steps"
        await press(pilot, "t", "x", "w")  # unavailable: nothing starts
        assert main_screen.train_state is RunState.IDLE and main_screen.training.run is None

        record.step, record.elapsed_s, record.chars_per_s = 120, 30.0, 5000.0
        record.train_history = [(1, 4.2), (60, 2.9), (120, 2.4)]
        record.val_history = [(100, 2.5)]
        record.best_val_loss = 2.5
        record.latest_sample, record.latest_sample_step = "The watched sample", 100
        record.heartbeat = time.time()
        write_run(record, tmp_path)
        main_screen.watching.poll()
        await pilot.pause()
        assert main_screen.status.info.step == 120
        assert "step 120" in status_text(app) and "best val 2.5000" in status_text(app)
        assert main_screen.chart.train_points == [(1, 4.2), (60, 2.9), (120, 2.4)]
        assert main_screen.chart.val_points == [(100, 2.5)]
        sample = main_screen.query_one(SampleView)
        assert sample.sample_text == "The watched sample"
        assert sample.border_title == "Sample at step 100"

        record.heartbeat = time.time() - 60  # no word for a minute
        write_run(record, tmp_path)
        main_screen.watching.poll()
        await pilot.pause()
        assert "STALLED" in status_text(app)
        assert any("stalled" in text for severity, text in seen if severity == "warning")
        record.heartbeat = time.time()  # and it speaks again
        write_run(record, tmp_path)
        main_screen.watching.poll()
        await pilot.pause()
        assert "STALLED" not in status_text(app) and "TRAINING" in status_text(app)

        record.state, record.step = RunState.FINISHED, 200
        record.latest_checkpoint = trained_checkpoint.path
        write_run(record, tmp_path)
        main_screen.watching.poll()
        await pilot.pause()
        assert f"WATCHING {record.id} · FINISHED" in status_text(app)
        assert any("press o to open its final checkpoint" in text for _, text in seen)

        await press(pilot, "o")
        await wait_for(pilot, lambda: main_screen.checkpoints.opened is not None,
                       what="the final checkpoint opened")
        assert main_screen.checkpoints.opened.path == trained_checkpoint.path
        assert not main_screen.watching.active and "WATCHING" not in status_text(app)
        assert "Train" in key_bar_text(app) and main_screen.check_action("toggle_training", ())
        assert main_screen.chart.empty == "press t to train"
        main_screen.generate("Th")
        await wait_for(pilot, lambda: main_screen.generation_panel.worker is None,
                       what="generation")
        assert main_screen.generation_panel.output_text().startswith("Th")
        assert len(main_screen.generation_panel.output_text()) > 2
        written = path.read_bytes(), sorted(tmp_path.rglob("*"))
        await press(pilot, "q")
    assert (path.read_bytes(), sorted(tmp_path.rglob("*"))) == written  # the watcher wrote none


async def test_a_run_whose_process_died_is_shown_interrupted(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    path = write_run(run_record(pid=process.pid), tmp_path)
    app = app_for(tmp_path, watch=str(path))
    seen = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert "INTERRUPTED" in status_text(app)
        assert any("interrupted at step 0, with no checkpoint" in text for _, text in seen)
        await press(pilot, "o")  # nothing to open: the picker, as usual
        await wait_for(pilot, lambda: isinstance(app.screen, CheckpointPicker), what="picker")


async def test_a_t_pressed_while_a_corpus_loaded_does_not_train_once_watching(tmp_path):
    app = app_for(tmp_path)
    main_screen = app.main
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        main_screen.start_when_loaded = True  # t, pressed while the corpus was loading
        same_corpus = {"name": main_screen.corpus_name, "source": "", "fingerprint": "x"}
        assert main_screen.watching.start(write_run(run_record(corpus=same_corpus), tmp_path))
        main_screen.post_message(CorpusLoaded(main_screen.corpus))  # the load then ends
        await pilot.pause(0.2)
        assert main_screen.watching.active and main_screen.training.run is None
        assert main_screen.train_state is RunState.IDLE


async def test_the_status_line_names_the_watched_runs_cell(tmp_path):
    record = run_record()
    record.config["cell"] = "gru"
    app = app_for(tmp_path, watch=str(write_run(record, tmp_path)))
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot, app)
        assert "GRU 1.2k params" in status_text(app)


async def test_enter_on_a_live_run_in_the_runs_screen_watches_it(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        record = run_record(pid=other.pid)  # another process on this host trains it
        write_run(record, tmp_path)
        app = app_for(tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            assert "Train" in key_bar_text(app)
            await press(pilot, "r")
            assert isinstance(app.screen, RunsScreen)
            note = str(app.screen.query_one("#runs-note").render())
            assert "enter watches a live run" in note
            assert app.screen.query_one(DataTable).row_count == 1
            await press(pilot, "enter")
            await wait_for(pilot, lambda: not isinstance(app.screen, RunsScreen),
                           what="the runs screen to close")
            assert app.main.watching.active
            assert f"WATCHING {record.id}" in status_text(app)
            assert "Train" not in key_bar_text(app)
    finally:
        other.kill()
        other.wait()


def test_chartui_watch_refuses_in_one_sentence(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    for argv, says in [([], "there is no checkpoint folder checkpoints"),
                       (["missing.json"], "there is no missing.json"),
                       (["notes.json"], "notes.json is not a chartui run log"),
                       (["empty"], "no runs logged in")]:
        assert main(["watch", *argv]) == 1
        err = capsys.readouterr().err
        assert err.startswith("chartui: error: ") and says in err, err
        assert err.count("\n") == 1
    write_run(run_record(), tmp_path / "checkpoints")  # a run, but no terminal here
    assert main(["watch"]) == 1
    assert "needs an interactive terminal" in capsys.readouterr().err


def test_chartui_watch_in_a_real_process(tmp_path):
    """Its help, and a refusal with no traceback, from the real command."""
    help_text = subprocess.run([sys.executable, "-m", "chartui", "watch", "--help"],
                               capture_output=True, text=True, timeout=60)
    assert help_text.returncode == 0 and "RUN_LOG|CHECKPOINT_DIR" in help_text.stdout
    refused = subprocess.run([sys.executable, "-m", "chartui", "watch", str(tmp_path)],
                             capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith("chartui: error: no runs logged in")
    assert refused.stderr.count("\n") == 1
