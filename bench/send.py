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
import resource
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
    parser.add_argument("--null", action="store_true",
                        help="the fake answers 200 without looking (--accept-all): send's cost without the fake's")
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
                                 "--api-key", SETTINGS["apiKey"], *(["--accept-all"] if args.null else [])],
                                stdout=subprocess.PIPE, text=True)
        try:
            url = fake.stdout.readline().split()[-1]
            send = [python, "-m", "engine.cli", "send", "-s", str(settings), "--endpoint", url]
            walls: dict[str, list[float]] = {"translate": [], "send (its outputs, from a file)": [],
                                             "translate | send": []}
            cpus: dict[str, list[float]] = {label: [] for label in walls}
            fake_cpu: list[float] = []
            for _ in range(args.rounds):
                for label, run in (("translate", lambda: _timed([*translate, "--output", os.devnull])),
                                   ("send (its outputs, from a file)", lambda: _timed([*send, str(translated)])),
                                   ("translate | send", lambda: _pipeline(translate, send))):
                    before, fake_before = _children_cpu(), _process_cpu(fake.pid)
                    walls[label].append(run())
                    cpus[label].append(_children_cpu() - before)
                    if label.startswith("send"):
                        fake_cpu.append(_process_cpu(fake.pid) - fake_before)
            stats = json.loads(urllib.request.urlopen(url + "/_stats", timeout=30).read())
        finally:
            fake.terminate()
            fake.wait(10)
    stored = "a null endpoint (--null)" if args.null else (
        f"fake stored {stats['events']:,} distinct events ({stats['duplicates']:,} copies dropped)")
    print(f"corpus: {args.messages:,} messages -> {outputs:,} outputs; python {sys.version.split()[0]}; "
          f"{os.cpu_count()} cpus; {stored}\n")
    print(f"whole processes: wall time, median of {args.rounds} interleaved rounds (min to max); CPU time "
          "of the command's own processes, median")
    for label, times in walls.items():
        median = statistics.median(times)
        print(f"  {label:<34}{median:>8.3f} s ({min(times):.3f} to {max(times):.3f})"
              f"{args.messages / median:>10,.0f} messages/s{outputs / median:>10,.0f} outputs/s"
              f"{statistics.median(cpus[label]):>8.2f} s CPU")
    if fake_cpu and min(fake_cpu) >= 0:
        print(f"  (the fake's own CPU while send ran alone: {statistics.median(fake_cpu):.2f} s)")
    cost = statistics.median(cpus["send (its outputs, from a file)"]) / statistics.median(cpus["translate"])
    print(f"\nsending's CPU / translating's CPU, the same messages: {cost:.2f}")
    ratio = statistics.median(t / p for t, p in zip(walls["translate"], walls["translate | send"], strict=True))
    met = "met" if ratio >= 0.8 else "NOT MET"
    print(f"\ntarget: translate | send at least 0.80 of translate's rate: {ratio:.2f}  {met}")
    return 0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    """A running process's CPU seconds (Linux's /proc), or -1 where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return -1.0


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
