"""What a ``send`` run has finished, kept so that the same command resumes after a crash or a
stop. The file is a journal, appended to with one write a request (``d 17-2016,2020``: those
lines are finished: acknowledged by the API, or written to the failed file first), so a run
killed at any point leaves every whole line true; a last line cut short is not read. Lines are
counted over the inputs as read, blank lines left out, from 1. The journal's first line names the
input it was made for (a digest of its first line): resuming with other input is refused. On
resuming, the journal is rewritten as merged ranges (a temporary file, then a rename)."""

from __future__ import annotations

import bisect
import os
from pathlib import Path

_HEADER = "seg2amp send checkpoint 1"


class CheckpointError(Exception):
    """A checkpoint file that cannot be used (another input's, or not a checkpoint)."""


class Checkpoint:
    """The finished lines of a run: ``finished(n)`` asks (lines asked in increasing order),
    ``record`` adds some, at once on disk (the operating system has them: a killed process loses
    nothing it recorded)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._starts: list[int] = []
        self._ends: list[int] = []  # ranges [start, end] finished, merged and sorted
        self._input: str | None = None
        self._fd: int | None = None
        self.resumed = 0  # lines finished before this run
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        try:
            text = self.path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CheckpointError(f"{self.path}: cannot be read as a checkpoint ({exc})") from None
        lines = text.split("\n")
        complete = lines[:-1]  # the last piece has no newline: cut short by a kill, or empty
        if not complete:
            return
        if complete[0] != _HEADER:
            raise CheckpointError(f"{self.path}: not a seg2amp send checkpoint (its first line is not {_HEADER!r})")
        ranges: list[tuple[int, int]] = []
        for number, line in enumerate(complete[1:], 2):
            kind, _, rest = line.partition(" ")
            if kind == "input":
                self._input = rest
            elif kind == "d":
                try:
                    for part in rest.split(","):
                        low, _, high = part.partition("-")
                        ranges.append((int(low), int(high or low)))
                except ValueError:
                    raise CheckpointError(f"{self.path}:{number}: not a checkpoint line: {line[:60]!r}") from None
            elif line:
                raise CheckpointError(f"{self.path}:{number}: not a checkpoint line: {line[:60]!r}")
        for low, high in sorted(ranges):
            if self._ends and low <= self._ends[-1] + 1:
                self._ends[-1] = max(self._ends[-1], high)
            else:
                self._starts.append(low)
                self._ends.append(high)
        self.resumed = sum(high - low + 1 for low, high in zip(self._starts, self._ends, strict=True))

    def begin(self, first_line: bytes) -> None:
        """Open the journal for this run, whose first input line is ``first_line``: a journal
        made for other input is refused; an existing one is rewritten merged."""
        from .codecache import digest

        fingerprint = digest(first_line.strip()).hexdigest()[:32]
        if self._input is not None and self._input != fingerprint:
            raise CheckpointError(f"{self.path} was written for other input (its first line differs): "
                                  "give the same input to resume, or another checkpoint file")
        self._input = fingerprint
        text = [_HEADER, f"input {fingerprint}"]
        if self._starts:
            text.append("d " + ",".join(_span(a, b) for a, b in zip(self._starts, self._ends, strict=True)))
        temporary = self.path.with_name(self.path.name + ".new")
        temporary.write_text("\n".join(text) + "\n")
        os.replace(temporary, self.path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)

    def finished(self, number: int) -> bool:
        at = bisect.bisect_right(self._starts, number) - 1
        return at >= 0 and number <= self._ends[at]

    def record(self, numbers: list[int]) -> None:
        if not numbers or self._fd is None:
            return
        numbers = sorted(numbers)
        parts = []
        low = high = numbers[0]
        for number in numbers[1:]:
            if number == high + 1:
                high = number
            else:
                parts.append(_span(low, high))
                low = high = number
        parts.append(_span(low, high))
        os.write(self._fd, ("d " + ",".join(parts) + "\n").encode())

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            except OSError:
                pass
            os.close(self._fd)
            self._fd = None


def _span(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"
