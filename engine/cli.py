"""The command line: ``seg2amp translate`` and ``seg2amp platforms``."""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import stat
import sys
import warnings
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .batches import BatchResult, default_jobs, translate_batches
from .errors import Rejected, RuleError, SettingsError
from .reader import FORMS, REST_SKIPPED, BadInput, read_batches, read_located
from .settings import read_settings_file
from .writing import Sink, Stop, Stops, WriteFailed, write_rejects

if TYPE_CHECKING:  # imported where used: translate may run a kept plan without the compiler (plancache)
    from . import translator as api

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2

_TRANSLATE_HELP = """\
Translate messages into what the destination receives, by the rules of one platform variant.

INPUT files hold NDJSON (one message a line), a JSON array of messages, or JSON messages
(pretty-printed is fine); .gz files are read as gzip; "-" or no INPUT reads standard input.
The form is told by the name (.ndjson/.jsonl: one message a line, whatever a line holds; .json:
an array or documents) or by --format; otherwise a first line that is a whole value means NDJSON.
Input is streamed, so files of any size work. A message nested deeper than 512 levels is rejected.

Output (stdout, or --output): one JSON line per output, in order:
  {"target": "<target>", "body": {...}, "input": N}
where N is the 1-based number of the input message it came from.

A message that cannot be translated is rejected: one JSON line on stderr (or --rejects FILE)
  {"input": N, "error": "...", "path": "$.groupId", "file": "in.ndjson", "line": 7}
("file" and "line": where it was read, the line a message starts on) and the run goes on.
A field of the wrong type that the rules declare optional (input.optional) is left out instead,
and the message translated without it: a warning line goes with the rejects
  {"input": N, "warning": "...", "path": "$.context.library.name", "file": "in.ndjson", "line": 7}
A summary line ends stderr: messages read, translated, translated with warnings (when there are
some), rejected, outputs.

The compiled rules are kept between runs in ~/.cache/seg2amp (or $XDG_CACHE_HOME/seg2amp, or the
folder SEG2AMP_CACHE names; SEG2AMP_CACHE=off keeps nothing), keyed by every file of the rules
and schemas, the settings and the engine: a change anywhere is never met by an old entry.

Exit status: 0 every message translated (warnings or not), 1 some were rejected, 2 a usage, settings or rule error
(nothing translated: inputs, outputs, settings and rules are checked first) or an input that
cannot be read to its end or an output that cannot be written (a full disk), 130 stopped by
Ctrl-C (SIGINT), 143 by SIGTERM, 129 by SIGHUP
(the summary says how far it got; outputs end with whole lines).

Examples:
  seg2amp translate --platform server --settings settings.json messages.ndjson
  gzip -dc archive.ndjson.gz | seg2amp translate --platform server --settings s.json - > out.ndjson
  seg2amp translate --platform server --settings s.json --rules ./my-rules --rejects bad.ndjson in.json
"""


_BATCH = 1000  # messages a batch: what a worker takes at a time, and what is held in memory per worker


def max_jobs() -> int:
    """The most worker processes ``--jobs`` starts: 4 a core, and never fewer than 64 (more
    only slow a run down, and a mistyped number would start processes until the system refuses)."""
    return max(64, 4 * (os.cpu_count() or 1))


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, not {text!r}")
    if value > max_jobs():
        raise argparse.ArgumentTypeError(f"expected at most {max_jobs()} worker processes (4 a core, and never "
                                         f"fewer than 64), not {text}")
    return value


def _describe_platforms(rules_dir: str | None, schemas_dir: str | None) -> str:
    """Each platform with the targets its rules emit."""
    from . import translator as api
    from .loader import emitted_targets, load_variant
    from .resources import default_rules_dir, find_rule_set

    folder = find_rule_set(Path(rules_dir)) if rules_dir else default_rules_dir()
    store = api.schema_store(schemas_dir)
    lines = [f"platforms in {folder}:"]
    for name in api.platforms(rules_dir):
        try:
            raw = load_variant(folder, name, store)
        except RuleError as exc:
            lines.append(f"  {name:<10} (broken: {exc})")
            continue
        emitted = emitted_targets(raw)
        lines.append(f"  {name:<10} emits: {', '.join(emitted) or 'nothing'}")
        for target in emitted:
            description = (raw.targets.get(target) or {}).get("description", "")
            if description:
                lines.append(f"      {target}: {' '.join(description.split())}")
    return "\n".join(lines)


def _bundled_summary() -> str:
    try:
        from .resources import default_rules_dir

        return default_rules_dir().name
    except OSError:
        return "none found"


class _UsageError(Exception):
    """A command line that cannot be run as given (exit 2, nothing done)."""


def _check_inputs(inputs: list[str], output: str | None = None, rejects: str | None = None,
                  translating: bool = False) -> list[str]:
    """The inputs to read (stdin when none), once each is known to be readable. A missing file,
    stdin twice, a folder to write into that does not exist, a file written (``output``,
    ``rejects``, or stdout and stderr where they are not given) that is also an input, or two of
    the places written (outputs, rejects, the summary on stderr) in one file where they would
    overwrite each other (``--rejects f > f``, ``-o f 2> f``, and when ``translating``, whose rejects
    go to stderr, ``> f 2> f``: not ``> f 2>&1``) stop the run before anything is done."""
    inputs = inputs or ["-"]
    if inputs.count("-") > 1:
        raise _UsageError("standard input ('-') can be read only once")
    read: dict[tuple[int, int], str] = {}
    for name in inputs:
        if name != "-" and not os.path.exists(name):
            raise _UsageError(f"input {name}: no such file")
        if name != "-" and (os.path.isdir(name) or not os.access(name, os.R_OK)):
            raise _UsageError(f"input {name}: not a readable file")
        identity = _file_identity(0 if name == "-" else name)
        if identity is not None:
            read[identity] = "standard input" if name == "-" else name
    # what the run writes: outputs (output or stdout), rejects (rejects or stderr), the summary (stderr)
    places = [(output, 1, "outputs"), (rejects, 2, "rejects"), (None, 2, "the summary")]
    written: list[tuple[tuple[int, int], str | None, int, str]] = []
    for name, fallback, what in places:
        if name and not os.path.exists(name):
            folder = os.path.dirname(os.path.abspath(name))
            if not os.path.isdir(folder):
                raise _UsageError(f"{name}: the folder {folder} does not exist")
            continue
        identity = _file_identity(name or fallback)
        if identity is None:
            continue
        where = name or ("standard output" if fallback == 1 else "standard error")
        if identity in read:
            raise _UsageError(f"{where} is the input {read[identity]}: writing to it would destroy it")
        for other, other_name, other_fallback, other_what in written:
            if other != identity or (name or None, fallback) == (other_name or None, other_fallback):
                continue
            if name and other_name:
                raise _UsageError(f"{name} and {other_name} are one file: {other_what} and {what} "
                                  "would overwrite each other")
            if name or other_name:
                stream = "standard output" if (other_fallback if name else fallback) == 1 else "standard error"
                raise _UsageError(f"{stream} is redirected to {name or other_name}: {other_what} and {what} "
                                  "would overwrite each other")
            if translating and not _one_open_file(1, 2):
                raise _UsageError("standard output and standard error are one file opened twice: "
                                  f"{other_what} and {what} would overwrite each other (use 2>&1, or --rejects)")
        written.append((identity, name, fallback, what))
    if output and rejects and not os.path.exists(output) and os.path.abspath(output) == os.path.abspath(rejects):
        raise _UsageError(f"{rejects}: outputs and rejects cannot go to the same file")
    return inputs


def _one_open_file(first: int, second: int) -> bool:
    """Whether two descriptors of one regular file write without overwriting each other: one
    open file with one offset (``2>&1``), or both opened to append (``>> f 2>> f``)."""
    try:
        import fcntl

        if fcntl.fcntl(first, fcntl.F_GETFL) & fcntl.fcntl(second, fcntl.F_GETFL) & os.O_APPEND:
            return True
        here = os.lseek(first, 0, os.SEEK_CUR)
        if os.lseek(second, 0, os.SEEK_CUR) != here:
            return False
        os.lseek(first, here + 1, os.SEEK_SET)  # moved through one, seen through the other: one offset
        try:
            return os.lseek(second, 0, os.SEEK_CUR) == here + 1
        finally:
            os.lseek(first, here, os.SEEK_SET)
    except (ImportError, OSError):
        return False


def _file_identity(target: str | int) -> tuple[int, int] | None:
    """Device and inode of a regular file (a path, or a descriptor such as stdout); None for
    anything else (a terminal, a pipe, /dev/null), which reading and writing cannot destroy."""
    try:
        status = os.fstat(target) if isinstance(target, int) else os.stat(target)
    except OSError:
        return None
    return (status.st_dev, status.st_ino) if stat.S_ISREG(status.st_mode) else None


class _TextSink:
    """Bytes written to a text stream that has no binary buffer under it."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, data: bytes) -> None:
        self.stream.write(data.decode("utf-8"))

    def flush(self) -> None:
        self.stream.flush()


class _LazyText(str):
    """Help text computed only when help is shown (reading every platform's rules takes time that
    a translation should not pay)."""

    def __new__(cls, make) -> _LazyText:
        text = super().__new__(cls, "")
        text._make = make
        return text

    def __str__(self) -> str:
        return self._make()


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    def _format_text(self, text: str) -> str:
        return super()._format_text(str(text))


def _platforms_epilog() -> str:
    """The bundled platforms and what each emits, from the rule files' own descriptions."""
    from .loader import describe_platforms
    from .resources import default_rules_dir

    try:
        described = describe_platforms(default_rules_dir())
    except OSError:
        return ""
    lines = ["Platforms of the bundled rules (see 'seg2amp platforms' for their targets):"]
    for name, text in described.items():
        lines.append(f"  {name:<9} {' '.join(text.split())}")
    return "\n".join(lines)


class _Counts:
    """What a run has done so far: messages read, translated, rejected, outputs written, and the
    signal that stopped it."""

    def __init__(self) -> None:
        self.read = self.translated = self.rejected = self.written = 0
        self.warned = 0  # of the translated: with warnings (optional fields dropped)
        self.stopped: int | None = None
        self.cut_short = False  # an input could not be read to its end

    def summary(self) -> str:
        if self.stopped is None:
            how = ""
        elif self.stopped == signal.SIGINT:
            how = " (interrupted)"
        else:
            how = f" (stopped by {signal.Signals(self.stopped).name})"
        # read = translated + translated with warnings + rejected; the second only when there are some
        warned = f"{self.warned} translated with warnings, " if self.warned else ""
        return (f"seg2amp: {self.read} messages read, {self.translated - self.warned} translated, {warned}"
                f"{self.rejected} rejected, {self.written} outputs written{how}")


def _say(text: str) -> None:
    """A line on stderr; nothing where stderr is closed (``print`` would write it to stdout) or
    nobody reads it any more (a broken pipe: from then on it goes to the null device)."""
    if sys.stderr is None:
        return
    try:
        print(text, file=sys.stderr, flush=True)
    except OSError:
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, sys.stderr.fileno())
            os.close(null)
        except (OSError, ValueError):  # not a stream of this process's own (a test's capture)
            pass


def _check_streams(output: str | None, rejects: str | None) -> None:
    """A closed stdout where outputs go, or a closed stderr where rejects go, stops the run before
    anything is done (they would be lost). A closed standard descriptor is then held open on the
    null device, so that no file the run opens takes its number (and what is meant for stdout or
    stderr never lands in it)."""
    if sys.stdout is None and not output:
        raise _UsageError("standard output is closed: the outputs would be lost (open it, or give --output FILE)")
    if sys.stderr is None and not rejects:
        raise _UsageError("standard error is closed: rejects and the summary would be lost (open it, or give "
                          "--rejects FILE)")
    for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
        if stream is None:
            null = os.open(os.devnull, os.O_WRONLY)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def _check_stdout_for(args: argparse.Namespace) -> None:
    """A command that prints its answer on stdout stops before anything is done where stdout is
    closed (``translate`` checks its streams itself)."""
    if sys.stdout is not None or args.run is _cmd_translate:
        return
    if args.run is _cmd_docs and getattr(args, "out", "-") != "-":
        return
    raise _UsageError("standard output is closed: what this command prints would be lost (open it)")


def _cmd_translate(args: argparse.Namespace) -> int:
    _check_streams(args.output, args.rejects)
    inputs = _check_inputs(args.inputs, args.output, args.rejects, translating=True)
    counts = _Counts()
    failed = None
    with Stops() as stops:
        try:
            _translate(args, inputs, stops, counts)
        except Stop as stop:
            counts.stopped = stop.signum
        except KeyboardInterrupt:  # where Stops cannot take signals (not the main thread)
            counts.stopped = signal.SIGINT
        except WriteFailed as exc:
            if isinstance(exc.error, BrokenPipeError) and exc.name == "standard output":
                raise exc.error from None  # the reader stopped reading (| head): not an error
            failed = exc
    if failed is not None:
        _say(f"seg2amp: error: {failed}")
    _say(counts.summary() + (" (stopped: the write failed)" if failed else ""))
    if failed is not None:
        return EXIT_USAGE
    if counts.stopped is not None:
        return 128 + counts.stopped  # as a shell reports a command a signal stopped (Ctrl-C: 130)
    if counts.cut_short:
        return EXIT_USAGE
    return EXIT_REJECTED if counts.rejected else EXIT_OK


def _load(platform: str, settings: dict, rules: str | None, schemas: str | None) -> api.Translator:
    """``engine.load`` for the command, which prints the settings' warnings in its own words
    (``seg2amp: warning: ...``) rather than as Python warnings."""
    from . import translator as api

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", api.SettingWarning)
        return api.load(platform, settings, rules, schemas)


def _load_translate(platform: str, settings: dict, rules: str | None, schemas: str | None) -> Any:
    """The translator ``translate`` runs: the plan kept for these very rules, schemas, settings
    and engine where there is one (``plancache``: the rules are then loaded only if a message
    needs the walk), else the rules loaded, and their plan kept for the next run."""
    from . import codecache, plancache
    from .resources import bundled_dir, default_rules_dir, find_rule_set

    full = functools.partial(_load, platform, settings, rules, schemas)
    if codecache.cache_folder() is None:
        return full()
    try:
        rules_dir = find_rule_set(Path(rules)) if rules else default_rules_dir()
        schemas_dir = Path(schemas) if schemas else bundled_dir("schemas")
        key = plancache.cache_key(platform, settings, rules_dir, schemas_dir)
    except (OSError, ValueError):  # a folder that cannot be read: loading says where
        return full()
    kept = plancache.load_kept(key, full)
    if kept is not None:
        return kept
    translator = full()
    from . import translator as api

    plancache.keep_plan(key, translator, api.schema_store(schemas))
    return translator


def _translate(args: argparse.Namespace, inputs: list[str], stops: Stops, counts: _Counts) -> None:
    """Run ``translate``, counting in ``counts`` what has been written: a signal stops it between
    messages (the lines of the message being written are finished), and what the counts say was
    written was written whole, outputs and rejection records."""
    settings = read_settings_file(args.settings) if args.settings else {}
    make = functools.partial(_load_translate, args.platform, settings, args.rules, args.schemas)  # workers too
    translator = make()
    for warning in translator.warnings:
        _say(f"seg2amp: warning: {warning}")
    if args.output:
        out = open(args.output, "wb", buffering=0)  # noqa: SIM115
    else:
        sys.stdout.flush()
        out = getattr(sys.stdout, "buffer", None) or _TextSink(sys.stdout)
    sink = Sink(out, args.output or "standard output")
    rejects = open(args.rejects, "wb", buffering=0) if args.rejects else sys.stderr  # noqa: SIM115
    reject_sink = Sink(rejects, args.rejects or "standard error")
    jobs = args.jobs if args.jobs is not None else default_jobs()
    results = translate_batches(read_batches(inputs, _BATCH, args.format), translator, jobs, make)
    try:
        for result in results:
            with stops.held():
                try:
                    done = sink.write(result, stops)
                except WriteFailed as failed:  # the messages written whole are counted, with their rejects
                    _count(counts, result, failed.items, write_rejects(reject_sink, result, failed.items))
                    raise
                try:
                    rejected = write_rejects(reject_sink, result, done)
                except WriteFailed as failed:
                    _count(counts, result, done, failed.items)
                    raise
                _count(counts, result, done, rejected)
    finally:
        results.close()  # workers stopped and their spool removed, whatever ended the loop
        if args.output:
            out.close()
        else:
            out.flush()
        if args.rejects:
            rejects.close()


def _count(counts: _Counts, result: BatchResult, messages: int, rejected: int) -> None:
    """Count the first ``messages`` messages of a batch, whose outputs were written, and the
    ``rejected`` rejection records written."""
    counts.read += messages
    last = result.first + messages
    errors = [record for record in result.rejects if "error" in record]
    counts.rejected += sum(1 for record in result.rejects[:rejected] if "error" in record)
    counts.cut_short = counts.cut_short or any(REST_SKIPPED in record["error"] for record in errors)
    counts.translated += messages - sum(1 for record in errors if record["input"] < last)
    counts.warned += len({record["input"] for record in result.rejects
                          if "warning" in record and record["input"] < last})
    counts.written += result.outputs[messages - 1] if messages else 0


def _load_for(args: argparse.Namespace, platform: str, settings: dict | None = None):
    if settings is None:
        settings = read_settings_file(args.settings) if args.settings else {}
    return _load(platform, settings, args.rules, args.schemas)


def _cmd_explain(args: argparse.Namespace) -> int:
    from .explain import printable, render

    translator = _load_for(args, args.platform)
    for warning in translator.warnings:
        print(f"seg2amp: warning: {warning}", file=sys.stderr)
    rejected = cut_short = False
    for index, (label, line, message) in enumerate(read_located(_check_inputs(args.inputs), args.format), 1):
        try:
            if isinstance(message, BadInput):
                raise Rejected(f"{message.reason} ({message.source})", "$", index)
            explanation = translator.explain(message, index)
            explanation.file, explanation.line = label, line
            if explanation.rejected is not None:
                explanation.rejected.update(file=label, line=line)
            text = json.dumps(explanation.as_dict(), ensure_ascii=False) if args.json \
                else render(explanation, args.all)
        except (Rejected, RecursionError) as exc:
            if isinstance(exc, RecursionError):
                exc = Rejected("the message is nested too deeply to explain", "$", index)
            exc.file, exc.line = label, line
            record = exc.as_record()
            cut_short = cut_short or REST_SKIPPED in record["error"]
            text = json.dumps({"index": index, "file": label, "line": line, "rejected": record}) if args.json \
                else f"message {index} ({label}:{line}): rejected: {record['error']}"
            rejected = True
        else:
            rejected = rejected or explanation.rejected is not None
        print(printable(text, sys.stdout.encoding))
        if not args.json:
            print()
    return _exit_status(rejected, cut_short)


def _exit_status(rejected: bool, cut_short: bool) -> int:
    """2 where an input could not be read to its end, else 1 where a message was rejected, else 0."""
    if cut_short:
        return EXIT_USAGE
    return EXIT_REJECTED if rejected else EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    from . import translator as api
    from .batches import output_lines
    from .explain import printable

    platforms = args.platforms.split(",") if args.platforms else api.platforms(args.rules)
    settings = read_settings_file(args.settings) if args.settings else {}
    translators = {name: _load_for(args, name, settings) for name in platforms}
    for warning in next(iter(translators.values())).warnings if translators else []:
        print(f"seg2amp: warning: {warning}", file=sys.stderr)
    rejected = cut_short = False
    for index, (label, line, message) in enumerate(read_located(_check_inputs(args.inputs), args.format), 1):
        results = {}
        for name, translator in translators.items():
            try:
                if isinstance(message, BadInput):
                    raise Rejected(f"{message.reason} ({message.source})", "$", index)
                results[name] = translator.translate_parsed(message, index)
                output_lines([dict(output) for output in results[name]], index)  # what translate would write
            except Rejected as exc:
                exc.file, exc.line = label, line
                results[name] = {"rejected": exc.as_record()}
                rejected = True
                cut_short = cut_short or REST_SKIPPED in exc.message
        if args.json:
            print(printable(json.dumps({"input": index, "file": label, "line": line, "platforms": results},
                                       ensure_ascii=False), sys.stdout.encoding))
            continue
        print(f"message {index} ({label}:{line})")
        width = max(len(name) for name in results)
        for name, outputs in results.items():
            if isinstance(outputs, dict):
                record = outputs["rejected"]
                print(printable(f"  {name:<{width}}  rejected: {record['path']}: {record['error']}",
                                sys.stdout.encoding))
                continue
            if not outputs:
                print(f"  {name:<{width}}  (nothing)")
            for number, output in enumerate(outputs, 1):
                label = name if number == 1 else ""
                body = json.dumps(output["body"], ensure_ascii=False, separators=(", ", ": "))
                print(printable(f"  {label:<{width}}  {number}. {output['target']:<22} {body}", sys.stdout.encoding))
        print()
    return _exit_status(rejected, cut_short)


def _rules_dir(option: str | None) -> Path:
    """The rule set a command reads: ``--rules``, else the bundled one. Run in a folder that holds
    a rule set of its own (a checkout's ``rules/``) that differs from the bundled one, as after an
    edit in a checkout whose seg2amp was installed as a copy (``pip install .``, not ``-e``), the
    command says which it reads, on stderr."""
    from .resources import default_rules_dir, find_rule_set

    if option:
        return find_rule_set(Path(option))
    folder = default_rules_dir()
    local = find_rule_set(Path("rules")) if Path("rules").is_dir() else None
    if local is not None and any(local.glob("*.yaml")) and local.resolve() != folder.resolve():
        names = {path.name for path in local.glob("*.yaml")} | {path.name for path in folder.glob("*.yaml")}
        if any(not (local / name).is_file() or not (folder / name).is_file()
               or (local / name).read_bytes() != (folder / name).read_bytes() for name in sorted(names)):
            print(f"seg2amp: note: reading the installed rules ({folder}), not {local} here, which differ from "
                  f"them; pass --rules {local}, or install this checkout with pip install -e . to read its rules",
                  file=sys.stderr)
    return folder


def _cmd_lint(args: argparse.Namespace) -> int:
    from . import translator as api
    from .lint import lint_folder

    if args.rules_dir and args.rules:
        raise _UsageError("lint: give the rule set folder as RULES_DIR or as --rules DIR, not both")
    folder = _rules_dir(args.rules_dir or args.rules)
    findings = lint_folder(folder, api.schema_store(args.schemas))
    for finding in findings:
        print(finding)
    errors = sum(1 for f in findings if f.level == "error")
    warnings = len(findings) - errors
    print(f"seg2amp lint: {folder}: {errors} errors, {warnings} warnings", file=sys.stderr)
    return EXIT_REJECTED if errors else EXIT_OK


_MODELINE = "# yaml-language-server: $schema="


def _cmd_init(args: argparse.Namespace) -> int:
    """A rule set of one's own: the bundled rule set copied into DIR, with the rule-language schema
    beside its files and each file's editor modeline naming it (``$schema=rules.schema.json``). A
    copy of the schema in DIR, rather than a path to the installed one, keeps the modeline working
    wherever DIR goes (moved, committed, used from another virtual environment or machine), and an
    editor then checks the files against the language they were started with."""
    import shutil

    from .loader import RULE_SCHEMA
    from .resources import bundled_dir, default_rules_dir

    target = Path(args.dir)
    if target.exists() and not target.is_dir():
        raise _UsageError(f"{target} is a file, not a folder")
    if target.is_dir() and any(target.iterdir()):
        raise _UsageError(f"{target} is not empty: give a new or empty folder for the rule set")
    source = default_rules_dir()
    schema = (Path(args.schemas) if args.schemas else bundled_dir("schemas")) / RULE_SCHEMA
    if not schema.is_file():
        raise _UsageError(f"the rule-language schema {schema} does not exist")
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    for path in sorted(source.iterdir()):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8")
        if path.suffix == ".yaml":
            lines = text.splitlines(keepends=True)
            for number, line in enumerate(lines):
                if line.startswith(_MODELINE):
                    ending = line[len(line.rstrip("\r\n")):]
                    lines[number] = f"{_MODELINE}{RULE_SCHEMA}{ending}"
            text = "".join(lines)
        (target / path.name).write_bytes(text.encode("utf-8"))
        copied += 1
    shutil.copyfile(schema, target / RULE_SCHEMA)
    print(f"seg2amp init: copied the {source.name} rule set ({copied} files) from {source} into {target}, with "
          f"{RULE_SCHEMA} beside them for editors (each file's '{_MODELINE}{RULE_SCHEMA}' names it)")
    print("next:")
    print(f"  edit {target / '*.yaml'}  (a variant is one more file: see README, 'Adding a platform variant')")
    print(f"  seg2amp lint --rules {target}")
    print(f"  seg2amp translate --rules {target} --platform server --settings SETTINGS.json INPUT")
    print(f"  seg2amp explain --rules {target} --platform server --settings SETTINGS.json MESSAGE.json")
    print(f"  seg2amp platforms --rules {target}")
    return EXIT_OK


def _cmd_docs(args: argparse.Namespace) -> int:
    from .docs import failures, generate
    from .examples import load_examples

    folder = _rules_dir(args.rules)
    fixtures = Path(args.fixtures)
    base = read_settings_file(fixtures / "base-settings.json") if (fixtures / "base-settings.json").is_file() else {}
    text = generate(folder, load_examples(fixtures), base, args.schemas)
    failed = failures(text)
    if failed:
        print(f"seg2amp docs: {failed} documented cases do not conform (see the FAIL rows)", file=sys.stderr)
    if args.check:
        current = Path(args.out).read_text(encoding="utf-8") if Path(args.out).is_file() else ""
        if current != text:
            state = "is out of date" if Path(args.out).is_file() else "does not exist"
            print(f"seg2amp docs: {args.out} {state}; run: seg2amp docs --fixtures {args.fixtures} "
                  f"--out {args.out}", file=sys.stderr)
            return EXIT_REJECTED
        print(f"seg2amp docs: {args.out} is up to date", file=sys.stderr)
        return EXIT_REJECTED if failed else EXIT_OK
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"seg2amp docs: wrote {args.out}", file=sys.stderr)
    return EXIT_REJECTED if failed else EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    """Every case of a folder of documented examples against a rule set: one line per case whose
    outputs differ from its stated outcome (file:line, case, stated against given); exit 1 when
    any differs."""
    from .examples import load_examples, run_cases

    folder = _rules_dir(args.rules)
    fixtures = Path(args.fixtures)
    examples = load_examples(fixtures)
    if not any(example.cases for example in examples):
        raise _UsageError(f"{fixtures}: no documented example to check (no *.yaml file with cases)")
    base = read_settings_file(fixtures / "base-settings.json") if (fixtures / "base-settings.json").is_file() else {}
    total = differ = 0
    for case, _, _, found in run_cases(examples, folder, base, args.schemas):
        total += 1
        if found:
            differ += 1
            print(f"{case.where}: {'; '.join(found)}", flush=True)
    print(f"seg2amp check: {total} documented cases, {total - differ} hold, {differ} differ", file=sys.stderr)
    return EXIT_REJECTED if differ else EXIT_OK


def _cmd_platforms(args: argparse.Namespace) -> int:
    print(_describe_platforms(args.rules, args.schemas))
    return EXIT_OK


def _folders(parser: argparse.ArgumentParser, rules: bool = True) -> None:
    """The options every command shares: another rule set folder, another schemas folder."""
    if rules:
        parser.add_argument("--rules", metavar="DIR",
                            help="rule set folder to use instead of the bundled rules (copy it, edit it, run it)")
    parser.add_argument("--schemas", metavar="DIR", help="schemas folder (default: the bundled schemas)")


def _input_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMS, default=None,
                        help="how every input is read: ndjson (one message a line, whatever the first line "
                             "holds), json (an array, or documents), auto (told from the start, NDJSON where "
                             "the first line is a whole value); default: by the file name (.ndjson, .jsonl: "
                             "ndjson; .json: json; .gz aside), auto for others and stdin")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser: every command's, or only ``command``'s where it is one (a
    run builds only the parser it runs with)."""
    parser = argparse.ArgumentParser(
        prog="seg2amp",
        description="Translate analytics messages into the requests or SDK calls a destination receives, "
                    "by declarative YAML rules (the bundled rule set: " + _bundled_summary() + ").",
        epilog="Run 'seg2amp COMMAND --help' for a command's options. "
               "'seg2amp platforms' lists the platform variants and what each emits.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add in _COMMANDS.items():
        if command is None or command == name or command not in _COMMANDS:
            add(commands)
    return parser


def _translate_parser(commands: Any) -> None:
    translate = commands.add_parser(
        "translate", help="translate messages (NDJSON or JSON) into outputs (NDJSON)",
        description=_TRANSLATE_HELP, epilog=_LazyText(_platforms_epilog), formatter_class=_HelpFormatter)
    translate.add_argument("inputs", nargs="*", metavar="INPUT",
                           help="message files (NDJSON, JSON array or JSON document; .gz ok); '-' is stdin")
    translate.add_argument("--platform", "-p", required=True,
                           help="platform variant, e.g. 'server' (cloud mode); see 'seg2amp platforms'")
    _input_format(translate)
    translate.add_argument("--settings", "-s", metavar="FILE",
                           help="destination settings, as exported (JSON or YAML); needed whenever the "
                                "settings catalog has required keys (the bundled one requires apiKey); missing "
                                "keys take the catalog's defaults")
    _folders(translate)
    translate.add_argument("--output", "-o", metavar="FILE", help="write outputs here instead of stdout")
    translate.add_argument("--rejects", metavar="FILE", help="write rejected-message records here instead of stderr")
    translate.add_argument("--jobs", "-j", type=_jobs, metavar="N",
                           help=f"worker processes (default: one per core, here {default_jobs()}; at most "
                                f"{max_jobs()}); output order "
                                f"is input order whatever N; inputs up to {_BATCH} messages run in one process")
    translate.set_defaults(run=_cmd_translate)


def _explain_parser(commands: Any) -> None:
    explain = commands.add_parser(
        "explain", help="show which rule, selector, fallback and setting produced every output field",
        description="Translate messages as 'translate' does and explain each output: the rule that made it "
                    "(file, line, spec section), and for each field the selector or template, the fallback "
                    "or case that matched and the settings that gated it; then every rule that did not fire "
                    "and why.",
        epilog="Example: seg2amp explain --platform server --settings settings.json message.json")
    explain.add_argument("inputs", nargs="*", metavar="MESSAGE",
                         help="message files (a JSON message, an array, or NDJSON); '-' is stdin")
    explain.add_argument("--platform", "-p", required=True, help="platform variant; see 'seg2amp platforms'")
    _input_format(explain)
    explain.add_argument("--settings", "-s", metavar="FILE",
                         help="destination settings (JSON or YAML), as for translate (required keys included)")
    explain.add_argument("--json", action="store_true", help="one JSON object per message, for tools")
    explain.add_argument("--all", "--verbose", dest="all", action="store_true",
                         help="also show each field left out only because the message has none of the fields it "
                              "reads (by default they are counted: '(N more fields left out ...)')")
    _folders(explain)
    explain.set_defaults(run=_cmd_explain)


def _diff_parser(commands: Any) -> None:
    diff = commands.add_parser(
        "diff", help="the outputs of every platform for the same messages, side by side",
        description="Translate each message for every platform (or those given) with the same settings and "
                    "show the outputs together, to see how the platforms differ.",
        epilog="Example: seg2amp diff --settings settings.json screen.json")
    diff.add_argument("inputs", nargs="*", metavar="MESSAGE", help="message files; '-' is stdin")
    diff.add_argument("--settings", "-s", metavar="FILE",
                      help="destination settings (JSON or YAML), as for translate (required keys included)")
    diff.add_argument("--platforms", metavar="LIST", help="comma-separated platforms (default: all)")
    _input_format(diff)
    diff.add_argument("--json", action="store_true", help="one JSON object per message, for tools")
    _folders(diff)
    diff.set_defaults(run=_cmd_diff)


def _lint_parser(commands: Any) -> None:
    linting = commands.add_parser(
        "lint", help="check a rule set: schema, compilation, and static checks",
        description="Validate every rule file against the rule-language schema, compile every platform, then "
                    "check statically: selector paths the input schema cannot hold or does not declare (at every "
                    "depth, for the message types of each rule's on), template names no message has, "
                    "settings not in the catalog (and catalog settings no rule reads), and rules that can "
                    "emit the same target for one message. Each finding names file, line and rule. Exit "
                    "status 1 when there are errors.",
        epilog="Example: seg2amp lint --rules my-rules/   (or: seg2amp lint my-rules/)")
    linting.add_argument("rules_dir", nargs="?", metavar="RULES_DIR",
                         help="rule set folder (default: bundled); the same as --rules DIR")
    _folders(linting)
    linting.set_defaults(run=_cmd_lint)


def _init_parser(commands: Any) -> None:
    init = commands.add_parser(
        "init", help="start a rule set of one's own: copy the bundled rules into a new folder",
        description="Copy the bundled rule set into DIR (new or empty), with the rule-language schema beside "
                    "its files (rules.schema.json) and each file's yaml-language-server modeline pointing at it, "
                    "so that editors validate the copy wherever it goes; then say what to run next.",
        epilog="Example: seg2amp init my-rules && seg2amp lint --rules my-rules")
    init.add_argument("dir", metavar="DIR", help="the folder to create (or an empty one)")
    _folders(init, rules=False)
    init.set_defaults(run=_cmd_init)


def _docs_parser(commands: Any) -> None:
    docs = commands.add_parser(
        "docs", help="generate the reference: platforms, settings, documented examples, decisions",
        description="Generate the reference (Markdown) from the rules and the documented examples: the "
                    "platforms and their targets, the settings catalog, every documented example and table "
                    "row with the outcome the spec states beside what the rules give (computed by running "
                    "the engine) and the rules that gave it, and the decisions recorded where the spec and "
                    "the real integrations disagree.",
        epilog="Example: seg2amp docs --fixtures fixtures --out REFERENCE.md   (--check: fail if out of date)")
    docs.add_argument("--fixtures", metavar="DIR", default="fixtures", help="documented examples (default: fixtures)")
    docs.add_argument("--out", metavar="FILE", default="REFERENCE.md", help="output file, or - (default: REFERENCE.md)")
    docs.add_argument("--check", action="store_true", help="exit 1 when the file differs from what would be written")
    _folders(docs)
    docs.set_defaults(run=_cmd_docs)


def _check_parser(commands: Any) -> None:
    checking = commands.add_parser(
        "check", help="run every documented example against the rules: the cases that differ from their stated outcome",
        description="Translate every case of the documented examples (fixture files: messages, settings and the "
                    "outcome the spec states) with the rules and print one line per case whose outputs differ: "
                    "the fixture file and line, the case, the platform, and what the rules give against what "
                    "the case states. A summary line ends stderr. Exit status 0 when every case holds, 1 when "
                    "some differ, 2 on an error (a rule set or fixture file that cannot be read).",
        epilog="Example: seg2amp check --rules my-rules --fixtures fixtures   (after editing a rule: what it changed)")
    checking.add_argument("--fixtures", metavar="DIR", default="fixtures",
                          help="documented examples (default: fixtures)")
    _folders(checking)
    checking.set_defaults(run=_cmd_check)


def _platforms_parser(commands: Any) -> None:
    listing = commands.add_parser("platforms", help="list the platform variants and the targets each emits",
                                  description="List the platform variants of a rule set and their targets.")
    _folders(listing)
    listing.set_defaults(run=_cmd_platforms)


def _send_parser(commands: Any) -> None:
    from .sendcommand import add_send_parser

    add_send_parser(commands, _folders)
    commands.choices["send"].set_defaults(run=_cmd_send)


def _cmd_send(args: argparse.Namespace) -> int:
    from .sendcommand import CheckpointError, run_send

    try:
        return run_send(args)
    except CheckpointError as exc:
        print(f"seg2amp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _spark_parser(commands: Any) -> None:
    from .sparkcommand import add_spark_parser

    add_spark_parser(commands, _folders)
    commands.choices["spark-translate"].set_defaults(run=_cmd_spark_translate)


def _cmd_spark_translate(args: argparse.Namespace) -> int:
    from .sparkcommand import SparkUsageError, run_spark_translate, spark_error

    try:
        return run_spark_translate(args)
    except SparkUsageError as exc:
        print(f"seg2amp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a Spark job that failed: Spark's own words, in a line
        said = spark_error(exc)
        if said is None:
            raise
        print(f"seg2amp: error: the Spark job failed: {said}", file=sys.stderr)
        return EXIT_USAGE


#: Each command and what adds its parser, in the order ``--help`` lists them.
_COMMANDS = {"translate": _translate_parser, "send": _send_parser, "spark-translate": _spark_parser,
             "explain": _explain_parser, "diff": _diff_parser, "lint": _lint_parser, "init": _init_parser,
             "docs": _docs_parser, "check": _check_parser, "platforms": _platforms_parser}


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(words[0] if words else None)
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        _check_stdout_for(args)
        return args.run(args)
    except (RuleError, SettingsError, _UsageError) as exc:
        print(f"seg2amp: error: {exc}", file=sys.stderr)
        if isinstance(exc, SettingsError) and hasattr(args, "settings") and not args.settings:
            print("seg2amp: no --settings FILE was given, and the rule set's settings catalog requires "
                  "this key (a checkout has a sample: --settings fixtures/samples/settings.json)", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        print(f"seg2amp: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
