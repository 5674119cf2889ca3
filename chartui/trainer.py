"""The training loop.

`Trainer.run(listener)` trains until the iterations or the time budget run out, or until
`stop()` is called from another thread, calling `listener(Progress)` a few times a second.
The TUI, the CLI's progress bar and its JSON log are all just listeners.

The loop (`Trainer._train`) reads top to bottom: wait while paused, train one step, then
evaluate, sample, save and report, and at the end evaluate and save once more. What it leans on
has modules of its own: `run_setup`, `resume` (where a run starts), `batches` (the text read in
batches; the held-out loss), `controls` (what other threads may do), `budget` (the time),
`judging` (divergence; the best checkpoint), `saving`, `checkpoint` and `runs` (the run log).

Under torchrun (`chartui.distributed`) every process runs this loop on its share of the batch,
with the model wrapped in DistributedDataParallel for the step. Once per step the processes
agree (`ControlledRun.agree`) on rank 0's clock and on whether any of them was asked to stop
or save, so they all take the same steps at the same learning rates and end together; the
losses they judge by are the global batch's. Rank 0 alone writes checkpoints and the run log.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from chartui.batches import Batches, held_out_chars, held_out_loss
from chartui.budget import RunTiming, TimeBudget
from chartui.checkpoint import CheckpointFiles, CheckpointWriteError, load_checkpoint
from chartui.config import TrainConfig, learning_rate
from chartui.controls import ControlledRun
from chartui.corpus import Corpus
from chartui.distributed import World
from chartui.judging import BestScore, diverged, model_problem, weights_finite
from chartui.model import CharRNN, ModelConfig, resolve_device
from chartui.progress import Listener, Progress, RunState, RunSummary
from chartui.resume import StartPoint
from chartui.run_setup import RunSetup, make_optimizer
from chartui.runs import RunLog, RunRecord
from chartui.sampling import sample_text
from chartui.saving import QuietSaves, save_on_main

HEARTBEAT_S = 5.0  # a paused run still reports this often, for its run log's heartbeat


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
    ending: RunState = RunState.FINISHED
    message: str | None = None  # the done event's words (diverged, a failed final save)


class Trainer(ControlledRun):
    """Trains a CharRNN on a corpus; pausable and stoppable from another thread."""

    def __init__(self, corpus: Corpus, config: TrainConfig, device: str = "auto",
                 checkpoint_dir: str | Path = "checkpoints", resume: str | Path | None = None,
                 resume_payload: dict | None = None, started_at: float | None = None,
                 world: World | None = None):
        """`resume` names a checkpoint to continue from (its model, optimiser, step, history
        and random state); build `config` for it with `chartui.resume.resume_config`.

        `started_at` (a `time.perf_counter()` reading) is when the time budget began, e.g.
        when the program started, so that `max_time` covers start-up too (default: now).
        Setting up chooses the precision and, with a time budget, sizes the model for it
        (the empty fields of `config`); `plan_note` and `precision` say what was chosen.

        `world`: this process's place among several training one model under torchrun (a
        joined `chartui.distributed.World`; default: a single process). `batch_size` is then
        the global batch, which the number of processes must divide; rank 0 chooses the
        precision and the model and tells the others.
        """
        super().__init__()
        self.world = world = world or World()  # see ControlledRun.agree
        self.started_at = time.perf_counter() if started_at is None else started_at
        payload = resume_payload
        if resume is not None and payload is None:
            payload = load_checkpoint(resume)
        config.validate()
        self.corpus = corpus
        self.device = resolve_device(device)
        self.train_data, self.val_data = corpus.split(config.val_fraction)
        setup = world.decided_by_main(lambda: RunSetup.choose(
            config, corpus, len(self.train_data), self.device, self.started_at))
        self.config = config = setup.config
        self.precision, self.plan_note = setup.precision, setup.plan_note
        world.shared_batch(config.batch_size)

        torch.manual_seed(config.seed)
        new_model = CharRNN(ModelConfig(len(corpus.vocab), config.embedding_dim,
                                         config.hidden_size, config.num_layers, config.dropout,
                                         config.cell))
        self.batches = Batches(self.train_data, config, self.device, world)
        self._start_from(StartPoint(new_model) if payload is None
                         else StartPoint.of(payload, resume, corpus))
        self.model.to(self.device).train()
        self._step_model = world.step_model(self.model, self.device, config.seed + self.step)
        saved_optimizer = None if payload is None else payload.get("optimizer_state")
        self.optimizer = make_optimizer(self.model, config.lr, self.device, saved_optimizer)
        self.resumed_from = str(resume) if resume is not None else None
        self.checkpoints = CheckpointFiles(checkpoint_dir, corpus.name)
        self.saves = QuietSaves(self.checkpoints, self.resumed_from, self.save,
                                lambda: weights_finite(self.model))
        self.final_save_error: str | None = None  # the checkpoint at the end could not be written
        self._full_eval_step: int | None = None  # when the whole held-out text was last scored
        self._timing = RunTiming(self.step, held_out_chars(self.val_data, config.eval_max_chars),
                                 config.batch_size * config.seq_len)

    def _start_from(self, point: StartPoint) -> None:
        """Take up the run where `point` says: its model, step, time and time budget, history,
        best figure, random state and streams."""
        self.model, self.step, self.history = point.model, point.step, point.history
        self.elapsed_before = point.elapsed_s  # training time of the legs this run resumes
        self.budget = TimeBudget.of_run(self.config.max_time, point.elapsed_s, point.budget_spent)
        self.budget_spent = False  # this leg ended at its time limit (saved in checkpoints)
        self.best = BestScore(point.best_val_loss)
        self.resume_note = point.note
        if "torch" in point.rng:
            torch.set_rng_state(point.rng["torch"])
        self.batches.restore(point.rng, point.stream)

    def pause(self) -> None:
        """Pause between steps (`ControlledRun.pause`); not with several processes, which
        could only wait for one another: pausing is the app's, and the app does not run under
        torchrun."""
        if not self.world.active:
            super().pause()

    # --- what the run is --------------------------------------------------------------------------

    @property
    def budget_used(self) -> float:
        """Seconds of the time budget the legs before this one used (0 in a new leg)."""
        return self.budget.used

    def summary(self) -> RunSummary:
        """What this run is, for a UI to show (set up, not yet trained further)."""
        return RunSummary(corpus_name=self.corpus.name, vocab=self.corpus.vocab,
                          parameters=self.model.num_parameters(), device=str(self.device),
                          precision=self.precision.name, step=self.step,
                          total_steps=self.config.iterations, best_val_loss=self.best.val_loss,
                          history=self.loss_history(), cell=self.model.config.cell)

    def start_message(self) -> str:
        """The first progress line's words: the cell (unless the default LSTM), the precision
        and why, the planned model, and where a resumed run comes from."""
        cell = self.model.config.cell
        cells = "" if cell == "lstm" else f"{cell.upper()} cells "
        parts = [f"training {cells}in {self.precision.name} ({self.precision.reason})"]
        if self.world.active:
            parts.insert(0, self.world.describe())
        if self.plan_note:
            parts.append(self.plan_note)
        if self.resumed_from:
            parts.append(f"resumed from {self.resumed_from}")
        if self.resume_note:
            parts.append(f"note: {self.resume_note}")
        return "; ".join(parts)

    # --- one step, an evaluation, a sample --------------------------------------------------------

    def get_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next training batch: inputs and targets, shape (batch, seq_len) (`Batches.next`)."""
        return self.batches.next()

    def train_step(self, lr: float) -> float:
        """One optimisation step on one batch; returns its loss (with several processes, the
        mean of theirs: the global batch's, the same on every process)."""
        x, y = self.get_batch()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with self.precision.autocast(self.device):
            logits, state = self._step_model(x, self.batches.state_for(x.shape[0]),
                                             engine=self.config.engine)
        self.batches.carry(state)
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip)
        self.optimizer.step()
        return self.world.mean(loss.item())  # the global batch's

    def evaluate(self, max_chars: int | None = None) -> float | None:
        """Mean loss (nats/char) on the held-out text, or on a subset of `max_chars` spread
        over it (default: up to `eval_max_chars`); None without a split (`held_out_loss`)."""
        return held_out_loss(self.model, self.val_data, self.config.seq_len,
                             max_chars or self.config.eval_max_chars, self.device, self.world)

    def draw_sample(self) -> str:
        c = self.config
        top_k = None if c.sample_top_k is None else min(c.sample_top_k, len(self.corpus.vocab))
        return sample_text(self.model, self.corpus.vocab, c.sample_prime, c.sample_length,
                           c.sample_temperature, top_k, seed=c.seed + self.step)

    # --- the loop ---------------------------------------------------------------------------------

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
        if not self.world.main:  # rank 0 keeps the run log
            return self._train(listener or (lambda p: None), report_interval, should_stop)
        run_log = self._run_log()
        try:
            return self._train(run_log.listener(listener), report_interval, should_stop)
        except BaseException as exc:
            run_log.fail(exc, self.step, self.best.val_loss)
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
            elapsed = time.perf_counter() - loop.start
            reserve = self._timing.reserve()
            if self.world.active:
                elapsed, reserve = self.agree(elapsed, reserve, should_stop)
            self._timing.elapsed = elapsed
            ending = self._reason_to_end(elapsed, reserve, should_stop)
            if ending is not None:
                loop.ending = ending
                break
            if not self._running.is_set() and not self.world.active:  # no pausing under torchrun
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
        self._timing = self._timing.restarted(self.step)
        return _Loop(start=self.started_at, lr=learning_rate(self.config, self.step, 0.0),
                     first_loss=self.history.train[0] if self.history.train else None,
                     last_report=self.started_at)

    def _reason_to_end(self, elapsed: float, reserve: float,
                       should_stop: Callable[[], bool] | None) -> RunState | None:
        """How the run ends now (asked to stop, its steps done, its time spent), or None. With
        several processes, asked to stop means any of them was (`agree`)."""
        c = self.config
        asked = self._asked_to_stop(should_stop)
        if asked is not None:
            return asked
        if c.iterations is not None and self.step >= c.iterations:
            return RunState.FINISHED
        if self.budget.spent(elapsed, reserve):
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
                saved = self.saves.save(None)
                emit(self._progress("step", loop, paused_s=now - paused_at, checkpoint=saved,
                                    message=self.saves.take_error()))
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
        loop.lr = learning_rate(self.config, self.step, self.budget.fraction(elapsed, reserve))
        step_start = time.perf_counter()
        with self._lock:
            loss = self.train_step(loop.lr)
            self.step += 1
            self._publish_snapshot()
        loop.train_time += self._timing.took_step(time.perf_counter() - step_start)
        if loop.first_loss is None:
            loop.first_loss = loss
        if diverged(loss, loop.first_loss):
            return f"the loss became {loss:.4g}"
        self.history.train.append(loss)
        loop.pending.append(loss)
        loop.chars_since += self._timing.step_chars
        return None

    def _after_step(self, loop: _Loop, emit: Listener, report_interval: float) -> str | None:
        """Evaluate, sample and save when it is time (or asked), then report; returns what
        went wrong, before saving, if the model went bad."""
        c = self.config
        val_loss = sample = checkpoint = None
        # the last step's evaluation and checkpoint are the run's final ones (_finish)
        evaluating = (self.step % c.eval_every == 0
                      and (c.iterations is None or self.step < c.iterations))
        asked_to_save = self._save_asked()
        saving = evaluating or asked_to_save
        best = False
        if evaluating:
            val_loss = self._record_eval(c.eval_sample_chars)
            best = self.best.improves(val_loss)
        problem = model_problem(self.model, val_loss, loop.first_loss) if saving else None
        if problem:  # never save weights that went bad
            return problem
        if evaluating:
            checkpoint = self.saves.save(val_loss, best)
        if c.sample_every and self.step % c.sample_every == 0 and self.world.main:
            sample = self.draw_sample()
        if asked_to_save:
            self._save_taken()
            checkpoint = self.saves.save(val_loss, best)
        now = time.perf_counter()
        if now - loop.last_report >= report_interval or val_loss is not None or sample \
                or checkpoint:
            loop.last_speed = loop.chars_since / max(loop.train_time, 1e-9)  # no evals in it
            emit(self._progress("step", loop, float(np.mean(loop.pending)), val_loss,
                                sample=sample, checkpoint=checkpoint,
                                message=self.saves.take_error()))
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
            problem = model_problem(self.model, val_loss, loop.first_loss)
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

    def _progress(self, event: str, loop: _Loop, train_loss: float | None = None,
                  val_loss: float | None = None, paused_s: float = 0.0, **extra) -> Progress:
        """An event as things stand; `paused_s`: time paused so far, not training time."""
        elapsed = time.perf_counter() - loop.start - paused_s
        c = self.config
        eta = self._timing.eta(self.step, c.iterations, elapsed, self.budget.remaining(elapsed))
        return Progress(event=event, step=self.step, total_steps=c.iterations,
                        train_loss=train_loss, val_loss=val_loss, lr=loop.lr,
                        chars_per_s=loop.last_speed, elapsed_s=self.elapsed_before + elapsed,
                        eta_s=eta, state=self.state, best_val_loss=self.best.val_loss,
                        precision=self.precision.name, **extra)

    # --- evaluations ------------------------------------------------------------------------------

    def _record_eval(self, max_chars: int | None = None) -> float | None:
        """Evaluate (on a subset of `max_chars`, or the whole held-out text up to
        `eval_max_chars`) and keep the result in the history."""
        began = time.perf_counter()
        val_loss = self.evaluate(max_chars)
        if self._timing.took_eval(time.perf_counter() - began, max_chars):
            self._full_eval_step = self.step
        if val_loss is not None and math.isfinite(val_loss):  # a bad value ends the run instead
            if self.history.val and self.history.val[-1][0] == self.step:
                self.history.val.pop()  # the whole text's figure replaces a subset's
            self.history.val.append((self.step, val_loss))
        return val_loss

    def _divergence_message(self, what: str) -> str:
        return self.saves.divergence(self.step, what, self.config.lr)

    # --- checkpoints ------------------------------------------------------------------------------

    def checkpoint_payload(self, val_loss: float | None) -> dict:
        """Everything needed to sample from or resume this run, as plain values and tensors
        (read back by `chartui.resume`)."""
        return {
            "model_config": self.model.config.to_dict(),
            "precision": self.precision.name,
            "vocabulary": self.corpus.vocab.to_string(),
            "model_state": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "optimizer_state": self.optimizer.state_dict(),
            "train_config": self.config.to_dict(),
            "step": self.step,
            "val_loss": val_loss,
            "best_val_loss": self.best.val_loss,
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
        its latest and its best (`checkpoints`). Raises CheckpointWriteError.

        With several processes every one calls this at the same step: they put the streams'
        state together, rank 0 writes the file, and the others learn what it wrote (or why
        it could not), so that they all go on alike."""
        began = time.perf_counter()
        with self._lock:  # the payload shares the model's tensors: no step while it is written
            payload = self.checkpoint_payload(val_loss)
            if not self.world.active:
                path = self.checkpoints.save(payload, self.step, val_loss, best)
            else:
                path = save_on_main(self.world, self.checkpoints, payload, self.step,
                                    val_loss, best)
        self._timing.save_s = time.perf_counter() - began
        return path

    def kept_checkpoint_phrase(self, otherwise: str) -> str:
        """Names the newest good file of this run (or the one it resumed from)."""
        return self.saves.kept(otherwise)

    def _save_final(self, loop: _Loop, val_loss: float | None) -> str | None:
        """The run's last checkpoint; None when it could not be written (then
        `final_save_error` and the done event's message say why).

        Whether it is the best is judged like with like: the final model's score on the same
        subset the periodic evaluations read decides, and its whole-text figure is shown."""
        subset = self.config.eval_sample_chars
        score = val_loss if self._timing.eval_chars <= subset else self.evaluate(subset)
        best = self.best.improves(score, shown=val_loss)
        try:
            return str(self.save(val_loss, best))
        except CheckpointWriteError as exc:
            loop.message = self.final_save_error = self.saves.final_failure(exc)
            return None
