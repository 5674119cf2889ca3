"""The keys that make the app's text and chart usable over SSH at 80×24: copy (y), the chart's
views (l: whole run, recent, log scale) and its units (b: nats or bits per character)."""

import itertools
import math

import pytest

from chartui.tui.widgets.loss_chart import SampleView

from tui_helpers import app_for, press, record_notifications, settle

# a fixed history like a real run's: a first loss of ~4.35 that falls to ~1.5
TRAIN = [(s, 1.45 + 2.9 * math.exp(-s / 260)) for s in range(1, 1201, 3)]
VAL = [(s, 1.5 + 2.7 * math.exp(-s / 260)) for s in range(200, 1201, 200)]


def y_ticks(chart) -> list[float]:
    """The y-axis labels of the chart's picture, bottom to top (read off the drawn lines)."""
    ticks = []
    for y in range(chart.size.height):
        label, tick, _ = chart.render_line(y).text.partition("┤")
        if tick:
            ticks.append(float(label))
    return sorted(ticks)


async def chart_with_history(pilot, app):
    await settle(pilot, app)
    chart = app.main.chart
    chart.set_history(TRAIN, VAL)
    chart.replot()
    return chart


async def test_y_copies_the_generated_text_else_the_latest_sample(tmp_path):
    app = app_for(tmp_path)
    main = app.main
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        notes = record_notifications(app)
        await press(pilot, "y")
        assert app.clipboard == ""
        assert notes[-1][0] == "warning" and "nothing to copy" in notes[-1][1]
        app.query_one(SampleView).show_sample(40, "the model wirtes")
        await press(pilot, "y")
        assert app.clipboard == "the model wirtes"
        assert notes[-1] == ("information", "copied 16 characters of the latest sample to the "
                                            "clipboard")
        console = main.generation_panel.console
        console.begin("The ")
        console.append("loss falls" * 150)
        await press(pilot, "y")
        assert app.clipboard == "The " + "loss falls" * 150  # the prime too, as shown
        assert notes[-1] == ("information", "copied 1,504 characters of the generated text to "
                                            "the clipboard")


async def test_l_cycles_whole_run_recent_and_log_scale(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:  # seven y ticks
        chart = await chart_with_history(pilot, app)
        assert chart.border_title == "Loss (nats/char) · whole run"
        whole = y_ticks(chart)
        assert whole[-1] > 4 and whole[0] < 1.7

        await press(pilot, "l")
        assert chart.border_title == "Loss (nats/char) · recent"
        figure = chart._figure
        assert figure.view == "recent" and min(figure.train_steps) >= 600
        assert min(figure.val_steps) >= 600
        recent_losses = [loss for step, loss in TRAIN if step >= 600]
        ticks = y_ticks(chart)  # fitted to the recent losses, not to the first one (~4.35)
        assert ticks[-1] < 2 and ticks[0] == pytest.approx(min(recent_losses), abs=0.05)
        assert ticks[-1] == pytest.approx(max(recent_losses), abs=0.05)

        await press(pilot, "l")
        assert chart.border_title == "Loss (nats/char) · log scale"
        assert chart._figure.view == "log scale" and min(chart._figure.train_steps) < 10
        ticks = y_ticks(chart)  # evenly spaced in log: a constant ratio, growing differences
        ratios = [high / low for low, high in itertools.pairwise(ticks)]
        assert ticks[-1] > 4 and max(ratios) == pytest.approx(min(ratios), rel=0.02)
        assert ticks[-1] - ticks[-2] > 1.5 * (ticks[1] - ticks[0])

        await press(pilot, "l")
        assert chart.border_title == "Loss (nats/char) · whole run"
        assert y_ticks(chart) == whole


async def test_b_switches_nats_and_bits_per_character(tmp_path):
    app = app_for(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        chart = await chart_with_history(pilot, app)
        nats = chart._figure
        nats_ticks = y_ticks(chart)
        await press(pilot, "b")
        assert chart.border_title == "Loss (bits/char) · whole run"
        bits = chart._figure
        assert bits.units == "bits"
        assert bits.train_losses == pytest.approx([v / math.log(2) for v in nats.train_losses])
        assert bits.val_losses == pytest.approx([v / math.log(2) for v in nats.val_losses])
        assert y_ticks(chart) == pytest.approx([v / math.log(2) for v in nats_ticks], abs=0.02)
        await press(pilot, "l")  # the units hold across views
        assert chart.border_title == "Loss (bits/char) · recent"
        await press(pilot, "b")
        assert chart.border_title == "Loss (nats/char) · recent"
        assert chart._figure.units == "nats"


async def test_the_new_keys_fit_the_key_bar_at_80_columns_and_can_be_remapped(tmp_path):
    app = app_for(tmp_path, keymap={"copy_text": "f5", "chart_view": "f6", "loss_units": "f7"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert "f6 f7 Chart" in str(app.query_one("#key-bar").render())
        chart = await chart_with_history(pilot, app)
        await press(pilot, "f6", "f7")
        assert chart.border_title == "Loss (bits/char) · recent"
        app.query_one(SampleView).show_sample(40, "sample")
        await press(pilot, "f5")
        assert app.clipboard == "sample"
    app = app_for(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        lines = str(app.query_one("#key-bar").render()).splitlines()
        assert len(lines) == 3 and "y Copy  l b Chart" in lines[1]


async def test_the_status_line_cuts_a_long_checkpoint_name_instead_of_wrapping(
        tmp_path, trained_checkpoint):
    """At 80 columns an opened checkpoint's name does not fit the first line: it is cut with an
    ellipsis, so the second line (step, speed, best val) stays in view."""
    app = app_for(tmp_path, checkpoint=trained_checkpoint.path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        status = app.main.status
        await pilot.pause()
        first, second = (status.render_line(y).text for y in range(2))
        assert "from chartui-faq-step" in first and first.rstrip().endswith("…")
        assert second.startswith(" step 20")
