"""The training loop.

`Trainer.run(listener)` trains until the iterations or the time budget run out, or until
`stop()` is called from another thread, calling `listener(Progress)` a few times a second.
The TUI, the CLI's progress bar and its JSON log are all just listeners.

The loop (`Trainer._train`) reads top to bottom: wait while paused, train one step, then
evaluate, sample, save and report, and at the end evaluate and save once more. Checkpoint
files are named and kept by `chartui.checkpoint.CheckpointFiles`, the run log by
`chartui.runs.RunLog`.
"""

from __future__ import annotations

import copy
import gc
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from chartui.batches import Batches, held_out_chars, held_out_loss
from chartui.checkpoint import CheckpointFiles, CheckpointWriteError, load_checkpoint
from chartui.config import TrainConfig, learning_rate
from chartui.corpus import Corpus
from chartui.errors import ChartuiError
from chartui.model import CharLSTM, ModelConfig, resolve_device
from chartui.planner import check_fits, plan_for_budget, trial_shape
from chartui.precision import ShapeTrials
from chartui.progress import Listener, LossHistory, Progress, RunState, RunSummary
from chartui.resume import ResumePoint
from chartui.runs import RunLog, RunRecord
from chartui.sampling import sample_text
from chartui.vocab import Vocabulary

PUBLISH_SECONDS = 0.25  # how stale a snapshot taken while a step runs may be
HEARTBEAT_S = 5.0  # a paused run still reports this often, for its run log's heartbeat
DIVERGENCE_FACTOR = 3.0  # char-rnn's rule: stop when the loss exceeds 3x the first loss


@dataclass
class _Timing:
    """How long the parts of this run take, so that a time budget keeps back enough for the
    final evaluation and checkpoint; and where the run began, for its ETA."""

    start_step: int  # the step this run began at
    elapsed: float = 0.0  # seconds since the time budget began, paused time not counted
    step_s: float = 0.0  # the last training step
    steps_s: float = 0.0  # all of this run's training steps, and how many
    steps: int = 0
    eval_s: float = 0.0  # the last evaluation, and how many characters it scored
    eval_chars: int = 0
    save_s: float = 0.0  # the last checkpoint

    def seconds_to_score(self, chars: int, step_chars: int) -> float:
        """About how long evaluating `chars` characters takes: at the last evaluation's pace,
        or before any, at the training steps' average pace (a generous guess for a forward
        pass; an average, so one slow step does not cut the run short)."""
        if self.eval_chars:
            return chars * self.eval_s / self.eval_chars
        if not self.steps:
            return 0.0
        return chars * self.steps_s / (self.steps * step_chars)


@dataclass
class _Loop:
    """What the phases of one run of the loop share: the time, the reports, how it ends."""

    start: float  # when the time budget began, moved on by the time spent paused
    lr: float
    first_loss: float | None  # the run's first step's (char-rnn's divergence rule)
    last_report: float  # when the last step event was sent
    pending: list[float] = field(default_factory=list)  # training losses not yet reported
    chars_since: int = 0  # training characters since the last report
    train_time: float = 0.0  # seconds of training steps since the last report
    last_speed: float = 0.0  # training chars/s at the last report
    published_at: float = 0.0  # when the weights were last published for snapshots
    ending: RunState = RunState.FINISHED
    message: str | None = None  # the done event's words (diverged, a failed final save)


class Trainer:
    """Trains a CharLSTM on a corpus; pausable and stoppable from another thread."""

    def __init__(self, corpus: Corpus, config: TrainConfig, device: str = "auto",
                 checkpoint_dir: str | Path = "checkpoints", resume: str | Path | None = None,
                 resume_payload: dict | None = None, started_at: float | None = None):
        """`resume` names a checkpoint to continue from (its model, optimiser, step, history
        and random state); build `config` for it with `resume_config`.

        `started_at` (a `time.perf_counter()` reading) is when the time budget began, e.g.
        when the program started, so that `max_time` covers start-up too (default: now).
        Setting up chooses the precision and, with a time budget, sizes the model for it
        (the empty fields of `config`); `plan_note` and `precision` say what was chosen.
        """
        self.started_at = time.perf_counter() if started_at is None else started_at
        payload = resume_payload
        if resume is not None and payload is None:
            payload = load_checkpoint(resume)
        config.validate()
        self.corpus = corpus
        self.device = resolve_device(device)
        self.train_data, self.val_data = corpus.split(config.val_fraction)
        if config.vocabulary == "printable" and corpus.vocab != Vocabulary.printable():
            raise ChartuiError("these settings use the printable vocabulary but the corpus was "
                               "loaded with its own characters; load it again with "
                               "--vocabulary printable")
        train_chars, vocab_size = len(self.train_data), len(corpus.vocab)
        check_fits(config, corpus.name, train_chars, vocab_size)  # before a trial builds a model
        trials = ShapeTrials(vocab_size, config.embedding_dim, config.num_layers, config.seq_len,
                             config.engine, self.device)
        self.precision = trials.choose_precision(config.precision,
                                                 *trial_shape(config, train_chars))
        seconds_left = (math.inf if config.max_time is None  # a new run's: planned only then
                        else config.max_time - (time.perf_counter() - self.started_at))
        plan = plan_for_budget(config, train_chars, vocab_size, seconds_left,
                               trials.speed(self.precision))
        self.config = config = plan.config
        self.plan_note = plan.summary
        check_fits(config, corpus.name, train_chars, vocab_size)

        torch.manual_seed(config.seed)
        self.model = CharLSTM(ModelConfig(len(corpus.vocab), config.embedding_dim,
                                          config.hidden_size, config.num_layers, config.dropout))
        self.batches = Batches(self.train_data, config, self.device)
        self.step = 0
        self.elapsed_before = 0.0
        self.budget_spent = False  # the run ended at its time limit (saved in checkpoints)
        self.history = LossHistory([], [])
        self.best_val_loss: float | None = None  # the best checkpoint's figure (see _improves)
        self._best_score: float | None = None  # what later evaluations are compared with
        self.resume_note: str | None = None  # set when the corpus changed since the checkpoint
        if payload is not None:
            self._go_on_from(ResumePoint.of(payload, resume, corpus))
        self.model.to(self.device).train()
        # PyTorch's default Adam on a CPU updates one tensor at a time in a Python loop (7 ms
        # a step here, as long as a sixth of a training step); its fused kernel takes 0.5 ms.
        fused = True if self.device.type == "cpu" else None
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr, fused=fused)
        if payload is not None and payload.get("optimizer_state"):
            self.optimizer.load_state_dict(payload["optimizer_state"])
            for group in self.optimizer.param_groups:
                group["fused"] = fused  # this device's choice, whatever the checkpoint's was
        self.resumed_from = str(resume) if resume is not None else None
        # A time budget covers the whole run: a resumed run goes on with the time it has left
        # and its learning-rate schedule where it was. One whose budget was used up starts a
        # new budget of the same length (a new leg, its schedule from the top).
        used = self.elapsed_before
        going_on = config.max_time is not None and not self.budget_spent and used < config.max_time
        self.budget_used = used if going_on else 0.0
        self.budget_spent = False

        self._lock = threading.Lock()
        self._published: CharLSTM | None = None  # never changed once made; see snapshot_model
        self.publish_snapshots = False  # set by whoever will call snapshot_model while it runs
        self._stop = threading.Event()
        self.stop_reason = RunState.STOPPED
        self._running = threading.Event()
        self._running.set()
        self._save_requested = threading.Event()
        self.state = RunState.IDLE
        self.checkpoints = CheckpointFiles(checkpoint_dir, corpus.name)
        self._save_error: str | None = None  # a failed save, for the next event (then cleared)
        self._save_failing = False  # a failed save was reported; quiet until one succeeds
        self.final_save_error: str | None = None  # the checkpoint at the end could not be written
        self._full_eval_step: int | None = None  # when the whole held-out text was last scored
        self._timing = _Timing(start_step=self.step)

    # --- resuming ------------------------------------------------------------------------------

    def _go_on_from(self, point: ResumePoint) -> None:
        """Take up where a checkpoint's run had got to: its model, step, time, history, best
        figure, random state and streams."""
        self.model, self.step, self.history = point.model, point.step, point.history
        self.elapsed_before, self.budget_spent = point.elapsed_s, point.budget_spent
        self.best_val_loss = self._best_score = point.best_val_loss
        self.resume_note = point.note
        if "torch" in point.rng:
            torch.set_rng_state(point.rng["torch"])
        self.batches.restore(point.rng, point.stream)

    # --- control from other threads ------------------------------------------------------------

    def pause(self) -> None:
        self._running.clear()
        if self.state is RunState.TRAINING:
            self.state = RunState.PAUSED

    def resume(self) -> None:
        if self.state is RunState.PAUSED:
            self.state = RunState.TRAINING
        self._running.set()

    def stop(self, reason: str = RunState.STOPPED) -> None:
        """Finish the current step, save a checkpoint and return from `run`.

        `reason` is how the run ends, in its last event and its run log: `stopped` (asked for
        by the user), `hangup` (the terminal or the browser tab went away) or `interrupted`
        (a signal such as SIGTERM). The first reason given stands.
        """
        if not self._stop.is_set():
            self.stop_reason = RunState(reason)
        self._stop.set()
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def request_save(self) -> None:
        """Save a checkpoint after the current step."""
        self._save_requested.set()

    def summary(self) -> RunSummary:
        """What this run is, for a UI to show (set up, not yet trained further)."""
        return RunSummary(corpus_name=self.corpus.name, vocab=self.corpus.vocab,
                          parameters=self.model.num_parameters(), device=str(self.device),
                          precision=self.precision.name, step=self.step,
                          total_steps=self.config.iterations, best_val_loss=self.best_val_loss,
                          history=self.loss_history())

    def loss_history(self) -> LossHistory:
        """A copy of every step's training loss and every evaluation so far."""
        return self.history.copy()

    def snapshot_model(self) -> CharLSTM:
        """A copy of the model's weights taken between steps, in eval mode.

        With `publish_snapshots` set, it never waits for a running step: then it copies the
        weights published after a recent step (at most `PUBLISH_SECONDS` old), so a generation
        starts at once while training.
        """
        if self._lock.acquire(blocking=self._published is None):
            try:
                model = copy.deepcopy(self.model)
            finally:
                self._lock.release()
        else:
            model = copy.deepcopy(self._published)
        return model.eval()

    # --- the loop -----------------------------------------------------------------------------

    def get_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next training batch: inputs and targets, shape (batch, seq_len) (`Batches.next`)."""
        return self.batches.next()

    def train_step(self, lr: float) -> float:
        """One optimisation step on one batch; returns its loss."""
        x, y = self.get_batch()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with self.precision.autocast(self.device):
            logits, state = self.model(x, self.batches.state_for(x.shape[0]),
                                       engine=self.config.engine)
        self.batches.carry(state)
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip)
        self.optimizer.step()
        return loss.item()

    def evaluate(self, max_chars: int | None = None) -> float | None:
        """Mean loss (nats/char) on the held-out text, or on a subset of `max_chars` spread
        over it (default: up to `eval_max_chars`); None without a split (`held_out_loss`)."""
        return held_out_loss(self.model, self.val_data, self.config.seq_len,
                             max_chars or self.config.eval_max_chars, self.device)

    def draw_sample(self) -> str:
        c = self.config
        top_k = None if c.sample_top_k is None else min(c.sample_top_k, len(self.corpus.vocab))
        return sample_text(self.model, self.corpus.vocab, c.sample_prime, c.sample_length,
                           c.sample_temperature, top_k, seed=c.seed + self.step)

    def run(self, listener: Listener | None = None, report_interval: float = 0.25,
            should_stop: Callable[[], bool] | None = None) -> Progress:
        """Train; returns the final ("done") Progress, which is also sent to the listener.

        `should_stop` is asked before every step (e.g. a worker's cancellation flag). With a
        time budget (which began at the trainer's `started_at`) the run stops early enough to
        leave time for its final evaluation and checkpoint. The run keeps a run log
        (`chartui.runs`) in the checkpoint folder.

        The objects alive when it starts (torch's modules, the model, the corpus) are moved
        out of the garbage collector's way (`gc.freeze`): a full collection over them stopped
        every Python thread, the UI's too, for about 0.3 s every few seconds. Garbage is
        collected first, so none is kept for good (after the app's warm-up froze torch's
        objects, that takes a few milliseconds).
        """
        gc.collect()
        gc.freeze()
        run_log = self._run_log()
        try:
            return self._train(run_log.listener(listener), report_interval, should_stop)
        except BaseException as exc:
            run_log.fail(exc, self.step, self.best_val_loss)
            raise

    def _run_log(self) -> RunLog:
        """This run's log in the checkpoint folder, begun now."""
        corpus = self.corpus
        record = RunRecord.new(
            corpus={"name": corpus.name, "source": corpus.source,
                    "fingerprint": corpus.fingerprint},
            config=self.config.to_dict(), parameters=self.model.num_parameters(),
            device=str(self.device), precision=self.precision.name, step=self.step,
            resumed_from=self.resumed_from)
        return RunLog(self.checkpoints.folder, record, self.history, self.checkpoints)

    def _train(self, emit: Listener, report_interval: float,
               should_stop: Callable[[], bool] | None) -> Progress:
        """The loop: until the run should end, wait while paused, or train one step and then
        evaluate, sample, save and report as due; a loss or model gone bad ends it (diverged).
        Then finish: the final evaluation, checkpoint and done event."""
        loop = self._begin()
        emit(self._progress("start", loop, message=self.start_message()))
        while True:
            elapsed = self._timing.elapsed = time.perf_counter() - loop.start
            reserve = self._time_reserve()
            ending = self._reason_to_end(elapsed, reserve, should_stop)
            if ending is not None:
                loop.ending = ending
                break
            if not self._running.is_set():
                self._wait_while_paused(loop, emit, should_stop)
                continue
            problem = self._train_one_step(loop, elapsed, reserve)
            if problem is None:
                problem = self._after_step(loop, emit, report_interval)
            if problem is not None:  # the last good file stays the last: nothing bad is saved
                loop.ending, loop.message = RunState.DIVERGED, self._divergence_message(problem)
                break
        return self._finish(loop, emit)

    def _begin(self) -> _Loop:
        """This run's timing from zero, its state `training`."""
        self.state = RunState.TRAINING
        self._timing = _Timing(start_step=self.step)
        return _Loop(start=self.started_at, lr=learning_rate(self.config, self.step, 0.0),
                     first_loss=self.history.train[0] if self.history.train else None,
                     last_report=self.started_at)

    def _time_reserve(self) -> float:
        """Seconds of the time budget kept back for the final evaluation (about as long as the
        whole held-out text takes to score) and checkpoint, with a margin."""
        c, timing = self.config, self._timing
        final_eval = timing.seconds_to_score(held_out_chars(self.val_data, c.eval_max_chars),
                                             c.batch_size * c.seq_len)
        return 1.5 * (final_eval + timing.save_s) + timing.step_s + 0.5

    def _reason_to_end(self, elapsed: float, reserve: float,
                       should_stop: Callable[[], bool] | None) -> RunState | None:
        """How the run ends now (asked to stop, its steps done, its time spent), or None."""
        c = self.config
        if self._stop.is_set() or (should_stop is not None and should_stop()):
            return self.stop_reason
        if c.iterations is not None and self.step >= c.iterations:
            return RunState.FINISHED
        if c.max_time is not None and self.budget_used + elapsed + reserve >= c.max_time:
            return RunState.TIME_LIMIT
        return None

    def _wait_while_paused(self, loop: _Loop, emit: Listener,
                           should_stop: Callable[[], bool] | None) -> None:
        """Wait until resumed or stopped; meanwhile save when asked and say every
        `HEARTBEAT_S` that the run is alive. Paused time is not training time."""
        self.state = RunState.PAUSED
        emit(self._progress("step", loop))
        paused_at = beat_at = time.perf_counter()
        while not self._running.wait(0.05):
            now = time.perf_counter()
            if self._save_requested.is_set():  # "save now" works while paused too
                self._save_requested.clear()
                saved = self._save_quietly(None)
                emit(self._progress("step", loop, paused_s=now - paused_at, checkpoint=saved,
                                    message=self._take_save_error()))
            elif now - beat_at >= HEARTBEAT_S:  # the run log shows it is alive
                emit(self._progress("step", loop, paused_s=now - paused_at))
                beat_at = now
            if should_stop is not None and should_stop():
                self._stop.set()
                break
        loop.start += time.perf_counter() - paused_at
        if not self._stop.is_set():
            self.state = RunState.TRAINING
        loop.last_report = time.perf_counter()

    def _train_one_step(self, loop: _Loop, elapsed: float, reserve: float) -> str | None:
        """One optimisation step at the scheduled learning rate, timed; its loss goes into the
        history, unless it shows the run diverged: then it says what went wrong."""
        c = self.config
        time_fraction = ((self.budget_used + elapsed) / max(1e-9, c.max_time - reserve)
                         if c.max_time else 0.0)
        loop.lr = learning_rate(c, self.step, time_fraction)
        step_start = time.perf_counter()
        with self._lock:
            loss = self.train_step(loop.lr)
            self.step += 1
            if (self.publish_snapshots
                    and time.perf_counter() - loop.published_at >= PUBLISH_SECONDS):
                self._published, loop.published_at = copy.deepcopy(self.model), time.perf_counter()
        timing = self._timing
        timing.step_s = time.perf_counter() - step_start
        timing.steps_s += timing.step_s
        timing.steps += 1
        loop.train_time += timing.step_s
        if loop.first_loss is None:
            loop.first_loss = loss
        if not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * loop.first_loss:
            return f"the loss became {loss:.4g}"
        self.history.train.append(loss)
        loop.pending.append(loss)
        loop.chars_since += c.batch_size * c.seq_len
        return None

    def _after_step(self, loop: _Loop, emit: Listener, report_interval: float) -> str | None:
        """Evaluate, sample and save when it is time (or asked), then report; returns what
        went wrong, before saving, if the model went bad."""
        c = self.config
        val_loss = sample = checkpoint = None
        # the last step's evaluation and checkpoint are the run's final ones (_finish)
        evaluating = (self.step % c.eval_every == 0
                      and (c.iterations is None or self.step < c.iterations))
        saving = evaluating or self._save_requested.is_set()
        best = False
        if evaluating:
            val_loss = self._record_eval(c.eval_sample_chars)
            best = self._improves(val_loss)
        problem = self._unhealthy(val_loss, loop.first_loss) if saving else None
        if problem:  # never save weights that went bad
            return problem
        if evaluating:
            checkpoint = self._save_quietly(val_loss, best)
        if c.sample_every and self.step % c.sample_every == 0:
            sample = self.draw_sample()
        if self._save_requested.is_set():
            self._save_requested.clear()
            checkpoint = self._save_quietly(val_loss, best)
        now = time.perf_counter()
        if now - loop.last_report >= report_interval or val_loss is not None or sample \
                or checkpoint:
            loop.last_speed = loop.chars_since / max(loop.train_time, 1e-9)  # no evals in it
            emit(self._progress("step", loop, float(np.mean(loop.pending)), val_loss,
                                sample=sample, checkpoint=checkpoint,
                                message=self._take_save_error()))
            loop.last_report, loop.pending, loop.chars_since, loop.train_time = now, [], 0, 0.0
        return None

    def _finish(self, loop: _Loop, emit: Listener) -> Progress:
        """The end: evaluate on the whole held-out text and save (unless that was just done,
        or the weights are no good), then report how the run ended."""
        self.budget_spent = loop.ending is RunState.TIME_LIMIT
        val_loss = self.history.val[-1][1] if self.history.val else None
        latest = self.checkpoints.latest
        checkpoint = str(latest) if latest else None
        already_saved = (latest is not None and self.checkpoints.latest_step == self.step
                         and self._full_eval_step == self.step)
        if loop.ending is not RunState.DIVERGED and self.history.train and not already_saved:
            if self._full_eval_step != self.step:
                val_loss = self._record_eval()
            problem = self._unhealthy(val_loss, loop.first_loss)
            if problem:
                loop.ending, loop.message = RunState.DIVERGED, self._divergence_message(problem)
            else:
                checkpoint = self._save_final(loop, val_loss) or checkpoint
        self.state = loop.ending
        train_loss = float(np.mean(self.history.train[-50:])) if self.history.train else None
        done = self._progress("done", loop, train_loss, val_loss, checkpoint=checkpoint,
                              message=loop.message)
        emit(done)
        return done

    def _save_final(self, loop: _Loop, val_loss: float | None) -> str | None:
        """The run's last checkpoint; None when it could not be written (then
        `final_save_error` and the done event's message say why)."""
        try:
            return str(self.save(val_loss, self._final_is_best(val_loss)))
        except CheckpointWriteError as exc:
            kept = self.kept_checkpoint_phrase("nothing was saved")
            loop.message = self.final_save_error = (
                f"could not save the final checkpoint in '{exc.path.parent}' ({exc.reason}); "
                f"{kept}; {exc.hint}")
            return None

    def _progress(self, event: str, loop: _Loop, train_loss: float | None = None,
                  val_loss: float | None = None, paused_s: float = 0.0, **extra) -> Progress:
        """An event as things stand; `paused_s`: time paused so far, not training time."""
        elapsed = time.perf_counter() - loop.start - paused_s
        c = self.config
        eta = None
        if c.iterations is not None and self.step > 0 and elapsed > 0:
            done_here = self.step - self._timing.start_step
            if done_here > 0:
                eta = (c.iterations - self.step) * elapsed / done_here
        if c.max_time is not None:
            remaining = max(0.0, c.max_time - self.budget_used - elapsed)
            eta = remaining if eta is None else min(eta, remaining)
        return Progress(event=event, step=self.step, total_steps=c.iterations,
                        train_loss=train_loss, val_loss=val_loss, lr=loop.lr,
                        chars_per_s=loop.last_speed, elapsed_s=self.elapsed_before + elapsed,
                        eta_s=eta, state=self.state, best_val_loss=self.best_val_loss,
                        precision=self.precision.name, **extra)

    def _take_save_error(self) -> str | None:
        """The failed save to report in the next event, once."""
        error, self._save_error = self._save_error, None
        return error

    def start_message(self) -> str:
        """The first progress line's words: the precision and why, the planned model, and
        where a resumed run comes from."""
        parts = [f"training in {self.precision.name} ({self.precision.reason})"]
        if self.plan_note:
            parts.append(self.plan_note)
        if self.resumed_from:
            parts.append(f"resumed from {self.resumed_from}")
        if self.resume_note:
            parts.append(f"note: {self.resume_note}")
        return "; ".join(parts)

    def _record_eval(self, max_chars: int | None = None) -> float | None:
        """Evaluate (on a subset of `max_chars`, or the whole held-out text up to
        `eval_max_chars`) and keep the result in the history."""
        began = time.perf_counter()
        val_loss = self.evaluate(max_chars)
        self._timing.eval_s = time.perf_counter() - began
        whole = held_out_chars(self.val_data, self.config.eval_max_chars)
        self._timing.eval_chars = min(whole, max_chars or whole)
        if self._timing.eval_chars == whole:
            self._full_eval_step = self.step
        if val_loss is not None and math.isfinite(val_loss):  # a bad value ends the run instead
            if self.history.val and self.history.val[-1][0] == self.step:
                self.history.val.pop()  # the whole text's figure replaces a subset's
            self.history.val.append((self.step, val_loss))
        return val_loss

    def _improves(self, score: float | None, shown: float | None = None) -> bool:
        """Whether `score` (a periodic evaluation's, on the subset) is the run's best so far;
        if so it becomes the best, shown as `shown` (default: the score itself)."""
        if score is None or not math.isfinite(score):
            return False
        if self._best_score is not None and score > self._best_score:
            return False
        self._best_score = score
        self.best_val_loss = score if shown is None else shown
        return True

    def _final_is_best(self, val_loss: float | None) -> bool:
        """The best checkpoint is chosen like with like: the final model's score on the same
        subset the periodic evaluations read decides, and its whole-text figure is shown."""
        subset = self.config.eval_sample_chars
        score = val_loss if self._timing.eval_chars <= subset else self.evaluate(subset)
        return self._improves(score, shown=val_loss)

    def _unhealthy(self, val_loss: float | None, first_loss: float | None) -> str | None:
        """What is wrong with the model now (checked before saving it), or None."""
        if val_loss is not None and (not math.isfinite(val_loss) or (
                first_loss is not None and val_loss > DIVERGENCE_FACTOR * first_loss)):
            return f"the validation loss became {val_loss:.4g}"
        if not self.weights_finite():
            return "the weights are no longer finite numbers"
        return None

    def weights_finite(self) -> bool:
        with torch.no_grad():
            return all(bool(torch.isfinite(p).all()) for p in self.model.parameters())

    def _divergence_message(self, what: str) -> str:
        kept = self.kept_checkpoint_phrase("no checkpoint had been saved yet")
        return (f"training stopped at step {self.step}: {what} (diverged); {kept}; try a lower "
                f"learning rate (now --lr {self.config.lr:g})")

    # --- checkpoints ---------------------------------------------------------------------------

    def checkpoint_payload(self, val_loss: float | None) -> dict:
        """Everything needed to sample from or resume this run, as plain values and tensors."""
        return {
            "model_config": self.model.config.to_dict(),
            "precision": self.precision.name,
            "vocabulary": self.corpus.vocab.to_string(),
            "model_state": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer_state": self.optimizer.state_dict(),
            "train_config": self.config.to_dict(),
            "step": self.step,
            "val_loss": val_loss,
            "best_val_loss": self.best_val_loss,
            "elapsed_s": self.elapsed_before + self._timing.elapsed,
            "time_budget_spent": self.budget_spent,
            "history": self.history.to_payload(),
            "rng": {"torch": torch.get_rng_state(), "batches": self.batches.generator.get_state()},
            "stream": self.batches.stream_payload(),
            "corpus": {"name": self.corpus.name, "source": self.corpus.source,
                       "fingerprint": self.corpus.fingerprint, "n_chars": len(self.corpus)},
        }

    def save(self, val_loss: float | None = None, best: bool = False) -> Path:
        """Write a checkpoint (`best`: this one is the run's best so far); the run keeps only
        its latest and its best (`checkpoints`). Raises CheckpointWriteError."""
        began = time.perf_counter()
        with self._lock:  # the payload shares the model's tensors: no step while it is written
            path = self.checkpoints.save(self.checkpoint_payload(val_loss), self.step, val_loss,
                                         best)
        self._timing.save_s = time.perf_counter() - began
        return path

    def kept_checkpoint_phrase(self, otherwise: str) -> str:
        """Names the newest good file of this run (or the one it resumed from)."""
        last = self.checkpoints.latest or self.resumed_from
        return f"the last good checkpoint is {last}" if last else otherwise

    def _save_quietly(self, val_loss: float | None, best: bool = False) -> str | None:
        """Save during training; a failed write is reported in the next event, training goes on.

        A failure is reported once, not at every save, until a save succeeds again; the files
        already written stay as they are.
        """
        if not self.weights_finite():
            self._save_error = ("not saved: the weights are no longer finite numbers "
                                "(training diverged); the last good checkpoint is kept")
            return None
        try:
            path = str(self.save(val_loss, best))
        except CheckpointWriteError as exc:
            if not self._save_failing:
                self._save_error = (f"could not save a checkpoint in '{exc.path.parent}' "
                                    f"({exc.reason}); training goes on and tries again at the "
                                    f"next save ({exc.hint})")
            self._save_failing = True
            return None
        self._save_failing = False
        return path

