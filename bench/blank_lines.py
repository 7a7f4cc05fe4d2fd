"""Reading inputs made mostly of blank lines: seconds (and MB/s) for `seg2amp translate` over a
plain file, standard input and a gzip of MEGABYTES of newlines, and of lines of white space,
around two messages. Blank lines are neither messages nor rejects; what matters is that reading
past them costs about what reading the bytes costs.

    python bench/blank_lines.py                 # 50 MB
    python bench/blank_lines.py --megabytes 200

Figures, not a test.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MESSAGE = json.dumps({"type": "track", "event": "E", "userId": "user-12345"}) + "\n"


def _time(command: list[str], stdin: Path | None = None) -> float:
    started = time.perf_counter()
    with open(stdin, "rb") if stdin else open("/dev/null", "rb") as given:
        done = subprocess.run(command, stdin=given, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT,
                              text=True)
    took = time.perf_counter() - started
    assert "2 messages read, 2 translated" in done.stderr, done.stderr
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=50)
    args = parser.parse_args()
    size = args.megabytes << 20
    with tempfile.TemporaryDirectory() as folder:
        settings = Path(folder) / "settings.json"
        settings.write_text(json.dumps({"apiKey": "0123456789abcdef0123456789abcdef"}))
        inputs = {}
        for name, blank in (("newlines", "\n"), ("white-space lines", " \t\n")):
            path = Path(folder) / f"{name.replace(' ', '-')}.txt"
            path.write_text(MESSAGE + blank * (size // len(blank)) + MESSAGE)
            inputs[name] = path
        zipped = Path(folder) / "newlines.ndjson.gz"
        zipped.write_bytes(gzip.compress(inputs["newlines"].read_bytes(), compresslevel=6))
        base = [sys.executable, "-m", "engine.cli", "translate", "-p", "server", "-s", str(settings)]
        runs = [(f"{name}, file", base + [str(path)], None) for name, path in inputs.items()]
        runs += [("newlines, stdin", base + ["-"], inputs["newlines"]),
                 (f"newlines, gzip ({zipped.stat().st_size >> 10} KB)", base + [str(zipped)], None)]
        print(f"{args.megabytes} MB of blank lines around 2 messages")
        for label, command, stdin in runs:
            took = _time(command, stdin)
            print(f"  {label:<32} {took:6.2f} s  {args.megabytes / took:7.1f} MB/s")


if __name__ == "__main__":
    main()
