"""Writing a run's results so that whatever stops it lands between messages: a signal (SIGINT,
SIGTERM, SIGHUP) that arrives while a batch is written is held until the lines of the message
being written are out, and the counts say what was written."""

from __future__ import annotations

import bisect
import contextlib
import errno
import io
import itertools
import json
import os
import signal
import stat
import threading
from typing import Any

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


class WriteFailed(Exception):
    """Writing to ``name`` failed (``error``, an OSError) after ``items`` messages (or records)
    were written whole: a line cut by the failure is taken back where the output is a file."""

    def __init__(self, name: str, error: OSError, items: int) -> None:
        super().__init__(name, error, items)
        self.name, self.error, self.items = name, error, items

    def __str__(self) -> str:
        return f"{self.name}: {self.error.strerror or self.error}"


class Sink:
    """Where outputs or rejection records go (a file, stdout, stderr), written through its
    descriptor so that it is known how much was written; a stream without one is written whole."""

    def __init__(self, stream: Any, name: str) -> None:
        self.stream, self.name = stream, name
        self.text = isinstance(stream, io.TextIOBase)
        try:
            stream.flush()
            self.fd: int | None = stream.fileno()
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            self.fd = None

    def write(self, result: BatchResult, stops: Stops | None = None) -> int:
        """Write the outputs of a batch; how many of its messages had all their lines written
        (all of them, unless a signal arrived: then the lines of the message being written are
        finished and the rest is left out). A failed write raises ``WriteFailed``."""
        if result.spooled is None:
            return self.send(result.data, result.ends, stops)
        try:
            if self.fd is not None and hasattr(os, "sendfile"):  # not on every system
                with open(result.spooled, "rb") as spooled:
                    source = spooled.fileno()

                    def send(start: int, end: int) -> int:
                        try:
                            return os.sendfile(self.fd, source, start, end - start)
                        except OSError:
                            if start == 0:
                                raise _NoSendfile from None  # this kind of output takes no sendfile
                            raise

                    with contextlib.suppress(_NoSendfile):
                        return self._send(send, result.ends, stops)
            with open(result.spooled, "rb") as spooled:
                data = spooled.read()  # one batch: a few MB
            return self.send(data, result.ends, stops)
        finally:
            os.unlink(result.spooled)
            result.spooled = None

    def send(self, data: bytes, ends: list[int], stops: Stops | None = None) -> int:
        """Write ``data``, lines of items (messages, records) that end at ``ends``; how many items
        were written whole."""
        if self.fd is None:
            try:
                self.stream.write(data.decode("utf-8") if self.text else data)
            except OSError as exc:
                raise WriteFailed(self.name, exc, 0) from exc
            return len(ends)
        view = memoryview(data)
        return self._send(lambda start, end: os.write(self.fd, view[start:end]), ends, stops)

    def _send(self, send: Any, ends: list[int], stops: Stops | None) -> int:
        """Send bytes (``send(start, end)`` writes some of them, says how many) to the end, or,
        once a signal has arrived, to the end of the lines of the item being written; how many
        items were written whole."""
        total = ends[-1] if ends else 0
        target = 0 if stops is not None and stops.signum is not None else total
        done = 0
        try:
            while done < target:
                sent = send(done, target)
                if sent == 0:
                    raise OSError(errno.EIO, "the output takes no more bytes")
                done += sent
                if stops is not None and stops.signum is not None and target == total:
                    target = ends[bisect.bisect_left(ends, done)]  # the end of this item's lines
        except OSError as exc:
            items = bisect.bisect_right(ends, done)
            whole = ends[items - 1] if items else 0
            if done > whole:
                self._take_back(done - whole)
            raise WriteFailed(self.name, exc, items) from exc
        return bisect.bisect_right(ends, target)

    def _take_back(self, size: int) -> None:
        """Remove the last ``size`` bytes written (a cut line) where the output is a file."""
        with contextlib.suppress(OSError):
            if self.fd is not None and stat.S_ISREG(os.fstat(self.fd).st_mode):
                end = os.lseek(self.fd, 0, os.SEEK_CUR) - size
                os.ftruncate(self.fd, end)
                os.lseek(self.fd, end, os.SEEK_SET)


class _NoSendfile(Exception):
    """An output that takes no sendfile (nothing was written)."""


def write_rejects(sink: Sink, result: BatchResult, messages: int) -> int:
    """Write the rejection and warning records of the first ``messages`` messages of a batch; how many."""
    last = result.first + messages
    lines = [reject_line(record) for record in result.rejects if record["input"] < last]
    if not lines:
        return 0
    ends = list(itertools.accumulate(len(line) for line in lines))
    return sink.send(b"".join(lines), ends)


def reject_line(record: dict) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode() + b"\n"  # ASCII: safe whatever the message held
