"""A run's time budget (`max_time`): what is left of it, and what to keep back for the end.

A time budget covers the whole run: a resumed run goes on with the time it has left and its
learning-rate schedule where it was; one whose budget was used up starts a new budget of the
same length (a new leg, its schedule from the top). A run stops early enough to leave time for
its final evaluation and checkpoint, judged by how long its steps, evaluations and checkpoints
have taken so far (`RunTiming`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RunTiming:
    """How long the parts of one run take, so that a time budget keeps back enough for the
    final evaluation and checkpoint; and where the run began, for its ETA."""

    start_step: int  # the step this run began at
    final_eval_chars: int  # how many characters the final evaluation scores
    step_chars: int  # how many characters a training step reads
    elapsed: float = 0.0  # seconds since the time budget began, paused time not counted
    step_s: float = 0.0  # the last training step
    steps_s: float = 0.0  # all of this run's training steps, and how many
    steps: int = 0
    eval_s: float = 0.0  # the last evaluation, and how many characters it scored
    eval_chars: int = 0
    save_s: float = 0.0  # the last checkpoint

    def restarted(self, step: int) -> RunTiming:
        """The timing of a run that begins now, at `step`."""
        return RunTiming(step, self.final_eval_chars, self.step_chars)

    def took_step(self, seconds: float) -> float:
        """Count a training step that took `seconds`; returns them."""
        self.step_s = seconds
        self.steps_s += seconds
        self.steps += 1
        return seconds

    def took_eval(self, seconds: float, max_chars: int | None) -> bool:
        """Count an evaluation of up to `max_chars` (None: all the final one scores) that took
        `seconds`; returns whether it scored the whole held-out text."""
        self.eval_s = seconds
        whole = self.final_eval_chars
        self.eval_chars = min(whole, max_chars or whole)
        return self.eval_chars == whole

    def seconds_to_score(self, chars: int) -> float:
        """About how long evaluating `chars` characters takes: at the last evaluation's pace,
        or before any, at the training steps' average pace (a generous guess for a forward
        pass; an average, so one slow step does not cut the run short)."""
        if self.eval_chars:
            return chars * self.eval_s / self.eval_chars
        if not self.steps:
            return 0.0
        return chars * self.steps_s / (self.steps * self.step_chars)

    def reserve(self) -> float:
        """Seconds of a time budget to keep back for the final evaluation (about as long as the
        whole held-out text takes to score) and checkpoint, with a margin."""
        final_eval = self.seconds_to_score(self.final_eval_chars)
        return 1.5 * (final_eval + self.save_s) + self.step_s + 0.5

    def eta(self, step: int, iterations: int | None, elapsed: float,
            remaining: float | None) -> float | None:
        """Seconds until the run ends at `iterations`, at this run's pace so far (`elapsed`
        seconds to `step`), or when its time budget's `remaining` seconds run out, if sooner."""
        eta = None
        if iterations is not None and step > 0 and elapsed > 0:
            done_here = step - self.start_step
            if done_here > 0:
                eta = (iterations - step) * elapsed / done_here
        if remaining is not None:
            eta = remaining if eta is None else min(eta, remaining)
        return eta


@dataclass(frozen=True)
class TimeBudget:
    """A run's `max_time` (None: no budget) and how much of it earlier legs used."""

    max_time: float | None
    used: float = 0.0  # seconds spent by the legs this run resumes

    @classmethod
    def of_run(cls, max_time: float | None, elapsed_before: float, spent: bool) -> TimeBudget:
        """The budget of a run that has trained `elapsed_before` seconds so far; `spent`: its
        last leg ended at its time limit (then a new leg begins)."""
        going_on = max_time is not None and not spent and elapsed_before < max_time
        return cls(max_time, elapsed_before if going_on else 0.0)

    def spent(self, elapsed: float, reserve: float) -> bool:
        """Whether `elapsed` seconds of this leg leave no more than `reserve` of the budget."""
        return self.max_time is not None and self.used + elapsed + reserve >= self.max_time

    def fraction(self, elapsed: float, reserve: float) -> float:
        """The share of the budget (less `reserve`) used after `elapsed` seconds of this leg,
        for the learning-rate schedule; 0 without a budget."""
        if not self.max_time:
            return 0.0
        return (self.used + elapsed) / max(1e-9, self.max_time - reserve)

    def remaining(self, elapsed: float) -> float | None:
        """Seconds left after `elapsed` seconds of this leg; None without a budget."""
        if self.max_time is None:
            return None
        return max(0.0, self.max_time - self.used - elapsed)
