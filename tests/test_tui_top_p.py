"""Top-p (nucleus sampling) in the app: its keys, the knob line, the inspector's cut."""

from textual.widgets import Input, Static

from chartui.generation import TOP_P_STEPS
from chartui.sampling import sample_text
from chartui.tui.widgets.inspector import NextCharInspector

from tui_helpers import app_for, press, settle, wait_for


async def test_top_p_keys_turn_the_nucleus_and_the_inspector_shows_the_cut(
        tmp_path, trained_checkpoint):
    checkpoint, model, vocab = trained_checkpoint
    app = app_for(tmp_path, checkpoint=str(checkpoint))
    main = app.main
    session = main.generation_session
    async with app.run_test(size=(110, 32)) as pilot:
        await settle(pilot, app)
        await wait_for(pilot, lambda: main.checkpoints.opened is not None, what="checkpoint opened")
        knobs = app.query_one("#gen-knobs", Static)
        assert session.settings.top_p is None and "top-p off" in str(knobs.render())
        await press(pilot, "comma", "comma", "comma")  # off → 0.95 → 0.9 → 0.8
        assert session.settings.top_p == 0.8 and "top-p 0.8" in str(knobs.render())
        app.query_one("#prime", Input).value = "Th"
        app.query_one("#seed", Input).value = "7"
        for _ in range(5):
            await press(pilot, "n")
            await wait_for(pilot, lambda: main.generation_panel.worker is None
                           and session.current, what="a step")
        temperature = session.settings.temperature
        assert main.generation_panel.output_text() == sample_text(
            model, vocab, "Th", 5, temperature=temperature, top_p=0.8, seed=7)
        inspector = app.query_one(NextCharInspector)
        for _ in TOP_P_STEPS:  # down to the narrowest nucleus, and no further
            await press(pilot, "comma")
        assert session.settings.top_p == TOP_P_STEPS[0]
        assert inspector.border_subtitle == f"T {temperature:.1f} · p {TOP_P_STEPS[0]:g}"
        candidates = session.candidates()
        kept = [char for char, now, _ in candidates if now > 0]
        assert kept and len(kept) < len(candidates)  # the rest lie outside the nucleus
        lines = str(inspector.render()).splitlines()
        for line, (_, now, _) in zip(lines, candidates, strict=False):  # then the legend
            assert line.rstrip().endswith("cut") == (now == 0), line
        await press(pilot, "full_stop")
        assert session.settings.top_p == TOP_P_STEPS[1]
        for _ in TOP_P_STEPS:
            await press(pilot, "full_stop")
        assert session.settings.top_p is None and "top-p off" in str(knobs.render())
        assert all(now > 0 for _, now, _ in session.candidates())  # nothing cut now
        assert "cut" not in str(inspector.render())
