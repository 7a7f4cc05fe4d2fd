"""``seg2amp spark-translate``: translate files of message lines on Apache Spark (``engine.spark``)
and write the outputs and rejects as partitioned NDJSON or Parquet, for people who do not write
Spark code. Settings, rules and inputs are checked before Spark starts."""

from __future__ import annotations

import argparse
import glob
import os
import re
import sys
import warnings
from typing import Any
from urllib.parse import urlsplit

from .settings import read_settings_file

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2

SPARK_HELP = """\
Translate message files on Apache Spark, with the same rules and code as 'seg2amp translate',
and write the outputs as partitioned files: the part files of OUTPUT_DIR (part-*.ndjson, or
part-*.parquet with --format parquet), the rejects in --rejects DIR (default OUTPUT_DIR/_rejects,
which Spark's readers skip). Needs the spark extra: pip install 'seg2amp[spark]' (and Java 17+).

INPUT: files, folders or globs of NDJSON lines ('archive/2026/*/*.ndjson.gz'); gzip files are
read as gzip. Local paths, or any URI Spark reads (s3a://, hdfs://, abfss://) with its
connector on the classpath. Blank lines are skipped, as translate skips them.

An NDJSON output line is translate's, with where it came from in place of its message number:
  {"target": "<target>", "body": {...}, "file": "/data/a.ndjson.gz", "line": 7}
which 'seg2amp send' reads as it is. A reject line is translate's record, "file" and "line" in
place of "input". "line" is the file's line number; where Spark splits an uncompressed file
larger than a partition (spark.sql.files.maxPartitionBytes, 128 MB) into parts, the lines of a
later part carry "offset", the byte that part starts at, and are counted from there (gzip files
are never split). Parquet: source, offset, line, row, target, body (JSON text) for outputs;
source, offset, line, row, error, path, record (the reject line) for rejects.

--master: local[*] (every core of this machine; the default), local[N], or a cluster's master
(yarn, spark://host:7077, k8s://...; the executors need seg2amp installed). --conf passes any
Spark setting. A summary line ends stderr: messages read, translated, rejected, outputs written.

Exit status: 0 every message translated, 1 some were rejected, 2 a usage, settings, rule or
input error (nothing is run), or a Spark job that failed (its error is printed).

Example:
  seg2amp spark-translate --platform server --settings fixtures/samples/settings.json \\
      fixtures/samples/messages.ndjson out/ && cat out/part-*.ndjson"""


def add_spark_parser(commands: Any, folders: Any) -> None:
    spark = commands.add_parser(
        "spark-translate", help="translate message files on Apache Spark into partitioned NDJSON or Parquet",
        description=SPARK_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="The README's 'Translating an archive with Spark' section has the Python API and the figures.")
    spark.add_argument("paths", nargs="+", metavar="INPUT ... OUTPUT_DIR",
                       help="input files, folders or globs, then the folder to write the outputs in")
    spark.add_argument("--platform", "-p", required=True,
                       help="platform variant, e.g. 'server' (cloud mode); see 'seg2amp platforms'")
    spark.add_argument("--settings", "-s", metavar="FILE",
                       help="destination settings, as exported (JSON or YAML), as for translate")
    spark.add_argument("--rejects", metavar="DIR", help="folder for the reject lines (default: OUTPUT_DIR/_rejects)")
    spark.add_argument("--format", choices=("ndjson", "parquet"), default="ndjson",
                       help="the files written (default: ndjson)")
    spark.add_argument("--compression", metavar="CODEC",
                       help="of the files written: for ndjson none (default), gzip, bzip2, zstd; "
                            "for parquet snappy (default), gzip, zstd, none")
    spark.add_argument("--master", metavar="URL", help="Spark master (default: local[*])")
    spark.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                       help="a Spark setting, e.g. spark.executor.memory=4g (repeatable)")
    spark.add_argument("--overwrite", action="store_true",
                       help="replace OUTPUT_DIR and the rejects folder where they exist")
    folders(spark)


class SparkUsageError(Exception):
    """A mistake in the command line, said before Spark starts."""


def run_spark_translate(args: argparse.Namespace) -> int:
    if len(args.paths) < 2:
        raise SparkUsageError("give at least one INPUT and the OUTPUT_DIR")
    *inputs, output = args.paths
    rejects = args.rejects or output.rstrip("/") + "/_rejects"
    settings = read_settings_file(args.settings) if args.settings else {}
    conf = dict(_setting(text) for text in args.conf)
    _load_or_fail(args.platform, settings, args.rules, args.schemas)
    _check_inputs(inputs)
    for place in (output, rejects):
        _check_output(place, args.overwrite)
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUsageError("spark-translate needs the spark extra: pip install 'seg2amp[spark]'") from None
    try:
        spark = session(args.master, conf)
    except Exception as exc:  # no Java, a master that cannot be reached: Spark's words, and what it needs
        said = spark_error(exc)
        if said is None:
            raise
        raise SparkUsageError(f"Spark could not start: {said} (Spark needs Java 17 or newer: java on the "
                              "PATH, or JAVA_HOME)") from None
    try:
        return _run(spark, args, inputs, output, rejects, settings)
    finally:
        spark.stop()


def _setting(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        # named by the setting's name alone: what follows it may be a secret typed with a wrong separator
        name = re.match(r"[\w.\-]*", text.strip()).group()
        raise SparkUsageError(f"--conf {name or '(no name)'}...: write KEY=VALUE, e.g. spark.executor.memory=4g")
    return key.strip(), value


def _load_or_fail(platform: str, settings: dict, rules: str | None, schemas: str | None) -> None:
    """Load the rule set here first: a bad one, or bad settings, fail before the JVM starts."""
    from . import translator as api

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", api.SettingWarning)
        loaded = api.load(platform, settings, rules, schemas)
    for warning in loaded.warnings:
        print(f"seg2amp: warning: {warning}", file=sys.stderr)


def _local(path: str) -> bool:
    scheme = urlsplit(path).scheme
    return scheme in ("", "file") or len(scheme) == 1  # a Windows drive letter is no scheme


def _check_inputs(inputs: list[str]) -> None:
    for name in inputs:
        if _local(name) and not glob.glob(urlsplit(name).path if name.startswith("file:") else name):
            raise SparkUsageError(f"input {name!r}: no such file or folder (nothing matches it)")


def _check_output(place: str, overwrite: bool) -> None:
    """A local output folder must be new or empty (or be replaced: --overwrite); Spark's writer
    refuses an existing one elsewhere."""
    if not _local(place):
        return
    path = urlsplit(place).path if place.startswith("file:") else place
    if os.path.exists(path) and not os.path.isdir(path):
        raise SparkUsageError(f"output {place!r} is a file, not a folder")
    if os.path.isdir(path) and os.listdir(path) and not overwrite:
        raise SparkUsageError(f"output folder {place!r} is not empty (--overwrite replaces it)")


_QUIET_LOGS = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
"""


def session(master: str | None, conf: dict[str, str]) -> Any:
    """A Spark session whose logs say only errors (the JVM's start-up chatter is not the
    command's to print; --conf spark.log.level=WARN brings more back once it runs)."""
    import tempfile

    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers run this interpreter, with seg2amp
    builder = SparkSession.builder.appName("seg2amp spark-translate")
    if master or "PYSPARK_GATEWAY_PORT" not in os.environ:  # under spark-submit, its --master
        builder = builder.master(master or "local[*]")
    with tempfile.NamedTemporaryFile("w", prefix="seg2amp-log4j2-", suffix=".properties") as logs:
        logs.write(_QUIET_LOGS)
        logs.flush()
        settings = {"spark.ui.showConsoleProgress": "false",
                    "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={logs.name}", **conf}
        for key, value in settings.items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()  # the JVM has read the file once this returns
    spark.sparkContext.setLogLevel(conf.get("spark.log.level", "ERROR"))
    return spark


def _run(spark: Any, args: argparse.Namespace, inputs: list[str], output: str, rejects: str,
         settings: dict) -> int:
    got = translate_files(spark, inputs, output, rejects, args.platform, settings, rules=args.rules,
                          schemas=args.schemas, form=args.format, compression=args.compression,
                          overwrite=args.overwrite)
    print(f"seg2amp: {got['read']} messages read, {got['translated']} translated, {got['rejected']} rejected, "
          f"{got['written']} outputs written (to {output}; rejects to {rejects})", file=sys.stderr)
    return EXIT_REJECTED if got["rejected"] else EXIT_OK


def translate_files(spark: Any, inputs: list[str], output: str, rejects: str, platform: str, settings: dict,
                    rules: str | None = None, schemas: str | None = None, form: str = "ndjson",
                    compression: str | None = None, overwrite: bool = False) -> dict[str, int]:
    """The command's job on a running session: read ``inputs``, translate, write the part files
    of ``output`` and ``rejects``; the counts (``engine.spark.COUNTS``: Spark's accumulators, so
    a task run again after a failure may count twice)."""
    from . import spark as translating

    counts = {name: spark.sparkContext.accumulator(0) for name in translating.COUNTS}
    lines = spark.read.text(inputs)
    given = spark.sparkContext.getConf()
    changed = {key: spark.conf.get(key, None) for key in JOB_SETTINGS if not given.contains(key)}
    for key in changed:
        spark.conf.set(key, JOB_SETTINGS[key])
    try:
        if form == "ndjson":
            written = translating.translate_lines(lines, platform, settings, rules, schemas, counts=counts)
            _writer(written, output, overwrite).option("compression", compression or "none").text(output)
        else:
            written = translating.translate_all(lines, platform, settings, rules, schemas, counts=counts)
            _writer(written, output, overwrite).option("compression", compression or "snappy").parquet(output)
    finally:
        for key, value in changed.items():
            spark.conf.unset(key) if value is None else spark.conf.set(key, value)
    _arrange(spark, output, rejects, form, overwrite)
    return {name: counter.value for name, counter in counts.items()}


#: How the job runs, unless the session was given otherwise (measured on local[1], 400,000
#: messages): each task writes both kinds of lines as they come, one file a kind, instead of
#: Spark first sorting the task's rows by kind (22,000 -> 27,500 messages/s); Arrow batches of
#: 1,000 lines instead of 10,000, so that the JVM and the Python worker overlap more (faster in
#: each of 3 interleaved rounds: +5% to +18%).
JOB_SETTINGS = {"spark.sql.optimizer.plannedWrite.enabled": "false", "spark.sql.maxConcurrentOutputFileWriters": "2",
            "spark.sql.execution.arrow.maxRecordsPerBatch": "1000"}


def _writer(written: Any, output: str, overwrite: bool) -> Any:
    """Spark's writer of both kinds into the output folder: a local one was checked to be new or
    empty (or is to be replaced), one elsewhere must not exist unless replaced."""
    mode = "overwrite" if overwrite or _local(output) else "errorifexists"
    return written.write.partitionBy("kind").mode(mode)


def _arrange(spark: Any, output: str, rejects: str, form: str, overwrite: bool) -> None:
    """Spark wrote ``kind=output/`` and ``kind=reject/`` in the output folder: the outputs' part
    files go up into it and the rejects' to their folder, NDJSON part files named ``.ndjson``.
    Through Spark's file system layer, so any file system Spark writes to works."""
    jvm = spark.sparkContext._jvm
    Path = jvm.org.apache.hadoop.fs.Path
    fs = Path(output).getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    target = {"output": Path(output), "reject": Path(rejects)}
    for kind, place in target.items():
        written = Path(output + "/kind=" + kind)
        if kind == "reject" and overwrite and fs.exists(place):
            fs.delete(place, True)
        fs.mkdirs(place)
        if not fs.exists(written):
            continue
        for status in fs.listStatus(written):
            name = status.getPath().getName()
            if form == "ndjson" and name.startswith("part-"):
                name = name.replace(".txt", ".ndjson", 1)
            if not fs.rename(status.getPath(), Path(place, name)):
                raise OSError(f"could not move {status.getPath().toString()} to {place.toString()}")
        fs.delete(written, True)


def spark_error(exc: BaseException) -> str | None:
    """What a failure of Spark's says, in one line, where ``exc`` is one (else None): the first
    line of Spark's own error, and the last line of a Python worker's traceback where there is one."""
    module = type(exc).__module__ or ""
    if not module.startswith(("pyspark", "py4j")):
        return None
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    head = lines[0] if lines else type(exc).__name__
    python = [line for line in lines if line.split(":", 1)[0].endswith(("Error", "Exception", "Rejected"))]
    return head + (f" ({python[-1]})" if python and python[-1] != head else "")
