"""The cost of sending: `seg2amp translate | seg2amp send` against the local fake of Amplitude's APIs
(tests/fake_amplitude.py, no faults), next to `translate` alone and `send` alone over the same
messages. Whole processes, interleaved round by round; wall times, their median, and the rates.

    python bench/send.py [--messages 100000] [--rounds 3] [--jobs N]

Target (issue 16): the pipeline at least 80% of translate's rate (sending costs less than
translating)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

SETTINGS = {"apiKey": "0123456789abcdef0123456789abcdef", "trackNamedPages": True, "trackAllPages": True,
            "traitsToIncrement": ["logins"], "minIdLength": 5}
_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None, help="translate's --jobs (default: its own default)")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        source, settings = scratch / "corpus.ndjson", scratch / "settings.json"
        with source.open("w") as out:
            for message in corpus.messages(args.messages):
                out.write(json.dumps(message, separators=(",", ":")) + "\n")
        settings.write_text(json.dumps(SETTINGS))
        jobs = ["--jobs", str(args.jobs)] if args.jobs else []
        translate = [python, "-m", "engine.cli", "translate", "-p", "server", "-s", str(settings), str(source), *jobs]
        translated = scratch / "outputs.ndjson"
        subprocess.run([*translate, "--output", str(translated)], cwd=ROOT, env=_ENV, check=True,
                       stderr=subprocess.DEVNULL)
        outputs = sum(1 for _ in translated.open("rb"))
        fake = subprocess.Popen([python, str(ROOT / "tests" / "fake_amplitude.py"), "--port", "0",
                                 "--api-key", SETTINGS["apiKey"]], stdout=subprocess.PIPE, text=True)
        try:
            url = fake.stdout.readline().split()[-1]
            send = [python, "-m", "engine.cli", "send", "-s", str(settings), "--endpoint", url]
            walls: dict[str, list[float]] = {"translate": [], "send (its outputs, from a file)": [],
                                             "translate | send": []}
            for _ in range(args.rounds):
                walls["translate"].append(_timed([*translate, "--output", os.devnull]))
                walls["send (its outputs, from a file)"].append(_timed([*send, str(translated)]))
                walls["translate | send"].append(_pipeline(translate, send))
            stats = json.loads(urllib.request.urlopen(url + "/_stats", timeout=30).read())
        finally:
            fake.terminate()
            fake.wait(10)
    print(f"corpus: {args.messages:,} messages -> {outputs:,} outputs; python {sys.version.split()[0]}; "
          f"{os.cpu_count()} cpus; fake stored {stats['events']:,} distinct events "
          f"({stats['duplicates']:,} copies dropped)\n")
    print(f"whole processes, wall time: median of {args.rounds} interleaved rounds (min to max)")
    for label, times in walls.items():
        median = statistics.median(times)
        print(f"  {label:<34}{median:>8.3f} s ({min(times):.3f} to {max(times):.3f})"
              f"{args.messages / median:>10,.0f} messages/s{outputs / median:>10,.0f} outputs/s")
    ratio = statistics.median(t / p for t, p in zip(walls["translate"], walls["translate | send"], strict=True))
    met = "met" if ratio >= 0.8 else "NOT MET"
    print(f"\ntarget: translate | send at least 0.80 of translate's rate: {ratio:.2f}  {met}")
    return 0


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=_ENV, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _pipeline(first: list[str], second: list[str]) -> float:
    start = time.perf_counter()
    producer = subprocess.Popen(first, cwd=ROOT, env=_ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    consumer = subprocess.Popen(second, cwd=ROOT, env=_ENV, stdin=producer.stdout, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    producer.stdout.close()
    consumer.wait()
    producer.wait()
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
