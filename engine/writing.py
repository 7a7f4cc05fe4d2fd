"""Writing a run's results so that whatever stops it lands between messages: a signal (SIGINT,
SIGTERM, SIGHUP) that arrives while a batch is written is held until the lines of the message
being written are out, and the counts say what was written."""

from __future__ import annotations

import bisect
import io
import os
import signal
import threading
from typing import IO, Any

from .batches import BatchResult

STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


class Stop(BaseException):
    """A run stopped by a signal (not an error: nothing in the run catches it as one)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Stops:
    """While installed (a ``with`` block, in the main thread), SIGINT, SIGTERM and SIGHUP stop
    the run: at once (``Stop`` raised where the run is) outside ``held()``, after the lines being
    written inside it. The first signal counts; later ones are ignored while the run cleans up."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.writing = False
        self._previous: dict = {}

    def __enter__(self) -> Stops:
        if threading.current_thread() is threading.main_thread():
            for name in STOP_SIGNALS:
                signum = getattr(signal, name, None)
                if signum is not None:
                    self._previous[signum] = signal.signal(signum, self._arrived)
        return self

    def __exit__(self, *exc: Any) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _arrived(self, signum: int, frame: Any) -> None:
        if self.signum is not None:
            return
        self.signum = signum
        if not self.writing:
            raise Stop(signum)

    def held(self) -> _Held:
        """A block in which a signal waits for the block to end (``Stop`` raised then)."""
        return _Held(self)


class _Held:
    def __init__(self, stops: Stops) -> None:
        self.stops = stops

    def __enter__(self) -> None:
        self.stops.writing = True

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        self.stops.writing = False
        if exc_type is None and self.stops.signum is not None:
            raise Stop(self.stops.signum)


class Sink:
    """Where outputs go (a file, or stdout), written through its descriptor so that it is known
    how much was written; a stream without one is written whole."""

    def __init__(self, stream: Any, name: str) -> None:
        self.stream, self.name = stream, name
        try:
            stream.flush()
            self.fd: int | None = stream.fileno()
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            self.fd = None

    def write(self, result: BatchResult, stops: Stops | None = None) -> int:
        """Write the outputs of a batch; how many of its messages had all their lines written
        (all of them, unless a signal arrived: then the lines of the message being written are
        finished and the rest is left out)."""
        if self.fd is None:
            if result.spooled is not None:
                with open(result.spooled, "rb") as spooled:
                    result.data = spooled.read()
                os.unlink(result.spooled)
                result.spooled = None
            self.stream.write(result.data)
            return result.read
        if result.spooled is None:
            return _write(result, lambda start, end: os.write(self.fd, memoryview(result.data)[start:end]), stops)
        try:
            with open(result.spooled, "rb") as spooled:
                source = spooled.fileno()

                def send(start: int, end: int) -> int:
                    try:
                        return os.sendfile(self.fd, source, start, end - start)
                    except OSError:
                        if start == 0:
                            raise _NoSendfile from None  # this kind of output takes no sendfile
                        raise

                try:
                    if hasattr(os, "sendfile"):  # not on every system
                        return _write(result, send, stops)
                except _NoSendfile:
                    pass
                result.data = spooled.read()  # one batch: a few MB
            return _write(result, lambda start, end: os.write(self.fd, memoryview(result.data)[start:end]), stops)
        finally:
            os.unlink(result.spooled)
            result.spooled = None


class _NoSendfile(Exception):
    """An output that takes no sendfile (nothing was written)."""


def _write(result: BatchResult, send: Any, stops: Stops | None) -> int:
    """Send a batch's output bytes (``send(start, end)`` writes some of them, says how many) to
    the end, or, once a signal has arrived, to the end of the lines of the message being written;
    how many messages are written whole."""
    total = result.ends[-1] if result.ends else 0
    target = 0 if stops is not None and stops.signum is not None else total
    done = 0
    while done < target:
        sent = send(done, target)
        if sent == 0:
            raise OSError(f"could not write the outputs of messages {result.first} to "
                          f"{result.first + result.read - 1}")
        done += sent
        if stops is not None and stops.signum is not None and target == total:
            target = result.ends[bisect.bisect_left(result.ends, done)]  # the end of this message's lines
    return bisect.bisect_right(result.ends, target)


def write_rejects(stream: IO[str], result: BatchResult, messages: int) -> int:
    """Write the rejection records of the first ``messages`` messages of a batch; how many."""
    last = result.first + messages
    records = [record for record in result.rejects if record["input"] < last]
    if records:
        stream.write("".join(_reject_line(record) for record in records))
    return len(records)


def _reject_line(record: dict) -> str:
    import json

    return json.dumps(record, separators=(",", ":")) + "\n"  # ASCII: safe whatever the message held
