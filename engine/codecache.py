"""Compiled generated code, kept between runs: Python's ``compile`` of a rule set's plan (thousands
of lines) costs 50-130 ms at every start, reading it back from a file well under 1 ms.

Entries are addressed by their content: the key is a digest of the source text itself, its label
and the interpreter's bytecode magic number, so a change of the rules, the settings, the schemas
or the engine (anything that changes the generated source) gives another key, and no entry can be
stale. Each file holds a digest of its payload, checked before the payload is read: a damaged
file is recompiled and rewritten, never trusted. Files are written whole (a temporary file, then
a rename), so runs sharing the folder never see half an entry. The folder is the one
``SEG2AMP_CACHE`` names, else ``$XDG_CACHE_HOME/seg2amp`` (``~/.cache/seg2amp``);
``SEG2AMP_CACHE=off`` compiles every time. At most ``MAX_ENTRIES`` are kept (the least recently
written go first), and a folder that cannot be written only means compiling. Code read from the
folder is run, so a folder that others may write (not owned by this user, or writable by its group
or by anyone, as /tmp is) is not used."""

from __future__ import annotations

import contextlib
import importlib.util
import marshal
import os
import time
from pathlib import Path
from types import CodeType
from typing import Any

try:  # BLAKE2 as the interpreter builds it in: hashlib would load OpenSSL first (4-6 ms a start)
    from _blake2 import blake2b as _blake2b
except ImportError:  # an interpreter without it: hashlib has BLAKE2 on every platform
    from hashlib import blake2b as _blake2b

CACHE_VARIABLE = "SEG2AMP_CACHE"
MAX_ENTRIES = 64
_SUFFIX = ".code"


def cache_folder() -> Path | None:
    """Where entries are kept, or None when caching is off."""
    named = os.environ.get(CACHE_VARIABLE, "")
    if named.lower() == "off":
        return None
    if named:
        return Path(named)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "seg2amp"


def digest(data: bytes = b"") -> Any:
    """A new 256-bit BLAKE2b digest (``update``, ``digest``, ``hexdigest``) of ``data``: the keys
    and the payloads' checks of this folder."""
    return _blake2b(data, digest_size=32)


def compile_cached(source: str, label: str) -> CodeType:
    """``compile(source, label, "exec")``, from the cache when it holds this very source."""
    key = digest(importlib.util.MAGIC_NUMBER + label.encode() + b"\0" + source.encode()).hexdigest()
    payload = fetch(key)
    if payload is not None:
        try:
            code = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            code = None
        if isinstance(code, CodeType):
            return code
    code = compile(source, label, "exec")
    keep(key, marshal.dumps(code))
    return code


def fetch(key: str) -> bytes | None:
    """The payload kept under ``key`` (hex digits), or None: caching off, no such entry, a folder
    others may write, or an entry whose digest does not match (damaged: never trusted)."""
    folder = cache_folder()
    if folder is None or not _private(folder):
        return None
    try:
        data = (folder / f"{key}{_SUFFIX}").read_bytes()
    except OSError:
        return None
    check, payload = data[:32], data[32:]
    if len(check) != 32 or digest(payload).digest() != check:
        return None  # damaged (or not ours): made again, and the file rewritten
    return payload


def keep(key: str, payload: bytes) -> None:
    """Keep ``payload`` under ``key``, whole (a temporary file, then a rename) or not at all."""
    folder = cache_folder()
    if folder is None or not _private(folder):
        return
    try:
        import tempfile

        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".new-", suffix=_SUFFIX)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(digest(payload).digest() + payload)
            os.replace(temporary, folder / f"{key}{_SUFFIX}")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _prune(folder)
    except OSError:
        return  # a folder that cannot be written: made each time, nothing else


def _private(folder: Path) -> bool:
    """Whether ``folder`` (made, private, if missing) is written by this user alone."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = folder.stat()
    except OSError:
        return False
    if not hasattr(os, "getuid"):
        return True  # no POSIX owners here: the user's own profile folder
    return status.st_uid == os.getuid() and not status.st_mode & 0o022


def _prune(folder: Path) -> None:
    entries = []
    for entry in folder.glob(f"*{_SUFFIX}"):
        with contextlib.suppress(OSError):
            written = entry.stat().st_mtime
            if entry.name.startswith(".new-"):  # a write a killed run left: gone after an hour
                if written < time.time() - 3600:
                    entry.unlink()
                continue
            entries.append((written, entry))
    for _, entry in sorted(entries)[:-MAX_ENTRIES]:
        with contextlib.suppress(OSError):
            entry.unlink()
