"""The main screen's keys, each with an id by which a user's keymap can remap it (the key bar
and the help screen list them in this order)."""

from __future__ import annotations

from textual.binding import Binding

TEMPERATURE_KEYS = Binding.Group("Temp", compact=True)
TOP_K_KEYS = Binding.Group("Top-k", compact=True)
TOP_P_KEYS = Binding.Group("Top-p", compact=True)
CHART_KEYS = Binding.Group("Chart", compact=True)

MAIN_KEYS = [
    Binding("t", "toggle_training", "Train", id="toggle_training",
            tooltip="start, pause or resume training"),
    Binding("x", "stop_training", "Stop", id="stop_training",
            tooltip="stop training and save a checkpoint"),
    Binding("w", "save_checkpoint", "Save", id="save_checkpoint",
            tooltip="save a checkpoint now"),
    Binding("g", "focus_prime", "Gen", id="focus_prime",
            tooltip="type a prime to generate from"),
    Binding("left_square_bracket", "temperature(-1)", "temperature down",
            id="temperature_down", group=TEMPERATURE_KEYS),
    Binding("right_square_bracket", "temperature(1)", "temperature up",
            id="temperature_up", group=TEMPERATURE_KEYS),
    Binding("left_curly_bracket", "top_k(-1)", "top-k down", id="top_k_down",
            group=TOP_K_KEYS),
    Binding("right_curly_bracket", "top_k(1)", "top-k up", id="top_k_up",
            group=TOP_K_KEYS),
    Binding("comma", "top_p(-1)", "top-p down", id="top_p_down", group=TOP_P_KEYS,
            tooltip="top-p down: the nucleus keeps fewer of the likeliest characters"),
    Binding("full_stop", "top_p(1)", "top-p up", id="top_p_up", group=TOP_P_KEYS,
            tooltip="top-p up: the nucleus keeps more of them (up to off, p = 1)"),
    Binding("n", "step_generation", "Step", id="step_generation",
            tooltip="generate exactly one more character (starts from the prime if needed)"),
    Binding("i", "toggle_inspector", "Next", id="toggle_inspector",
            tooltip="show or hide the next-character inspector"),
    *(Binding(str(rank), f"choose_next({rank})", f"choose candidate {rank}",
              id=f"choose_{rank}", show=False,
              tooltip=f"steer: the inspector's candidate {rank} is the next character")
      for rank in range(1, 9)),
    Binding("v", "neurons", "Neurons", id="neurons",
            tooltip="neuron view: colour text by one LSTM unit; find units that track "
                    "quotes, brackets, the position in the line"),
    Binding("escape", "escape", "stop the running generation, or leave a text box",
            id="escape", show=False),
    Binding("y", "copy_text", "Copy", id="copy_text",
            tooltip="copy the generated text (else the latest sample) to the clipboard"),
    Binding("l", "chart_view", "chart view: whole run, recent half, log scale",
            id="chart_view", group=CHART_KEYS),
    Binding("b", "loss_units", "chart units: nats or bits per character", id="loss_units",
            group=CHART_KEYS),
    Binding("e", "settings", "Set", id="settings", tooltip="training settings"),
    Binding("c", "pick_corpus", "Corpus", id="pick_corpus", tooltip="choose a corpus"),
    Binding("o", "open_checkpoint", "Open", id="open_checkpoint",
            tooltip="open or resume a checkpoint"),
    Binding("r", "runs", "Runs", id="runs",
            tooltip="every run's settings and results; compare validation curves"),
    Binding("s", "export", "Export", id="export",
            tooltip="save the loss history (CSV or JSON) or the generated text to a file"),
    Binding("question_mark", "help", "Help", id="help", tooltip="every key"),
]
