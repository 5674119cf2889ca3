"""The one way chartui's thread workers end badly, and the guard for their late messages.

Every worker that does what the user asked for (a corpus load, a checkpoint read, a training
run, a generation, the neuron view's reading) runs its body inside `failure_posted`: whatever
it raises becomes its kind's `...Failed` message, worded by `chartui.errors.describe_failure`,
so the app keeps running and says what went wrong in one sentence. Their handlers are wrapped
in `while_running`. Two background helpers the user did not ask for end quietly instead
(`exit_on_error=False`): the warm-up import of torch (a broken torch is reported by the
training worker when a run starts) and the chart's drawing (the next points draw it again).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from textual.message import Message
from textual.message_pump import MessagePump

from chartui.errors import describe_failure


@contextmanager
def failure_posted(receiver: MessagePump, failed: Callable[[str], Message]) -> Iterator[None]:
    """Around a worker's body: an exception it raises is posted to `receiver` as
    `failed(sentence)` instead of ending the app."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - every failure is said in one sentence
        receiver.post_message(failed(describe_failure(exc)))


def while_running(handler):
    """For the handlers of workers' messages: a message that arrives once the app has begun to
    shut down (its widgets are being removed, e.g. a browser tab closed mid-generation) is
    dropped instead of raising."""
    @functools.wraps(handler)
    def handle(self, message) -> None:
        if self.app.is_running:
            handler(self, message)
    return handle
