"""A compiled rule set kept between runs, so that ``seg2amp translate`` starts without reading,
checking and compiling its rules: the generated plan (``plan``) with what its code reads made
again from Python source (``Writer.const``: JSON data, the rule functions, importable functions,
the schemas' validators), and the settings' warnings. A command that finds its entry imports only
what running the plan needs; the rules are loaded (``make_full``) the first time a message needs
the reference walk (a refusal, a warning, anything the plan gives up).

The key is a digest of everything the plan is made of: the engine's own source files, Python's
bytecode magic, the installed files of the libraries whose meaning the generated code holds
(their size and time), every file of the rule set folder and of the schemas folder (path and
bytes), the platform and the settings. Any change of these gives another key, so no entry can be
stale. Entries are kept by ``codecache`` (digest-checked, written whole, a private folder only,
``SEG2AMP_CACHE=off`` turns them off); a rule set whose plan holds anything that cannot be made
again this way (a construct left to its own node), or whose module text would hold a secret
setting's value, is never kept."""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
from collections.abc import Callable
from pathlib import Path
from types import CodeType
from typing import Any

from . import codecache
from .planruntime import planned

_LIBRARIES = ("jmespath", "jinja2", "jsonschema_rs", "msgspec", "orjson", "ua_parser", "yaml")
_FORMAT = b"seg2amp plan 1\0"
_ENGINE = Path(__file__).resolve().parent
_MOST_BYTES = 64 << 20  # rule and schema folders bigger than this are read at every start, not digested


def cache_key(platform: str, settings: dict, rules_dir: Path, schemas_dir: Path) -> str:
    """The digest of everything a plan is made of (see the module's text); ``ValueError`` for
    folders too big to digest at every start, ``OSError`` for one that cannot be read."""
    digest = codecache.digest(_FORMAT + importlib.util.MAGIC_NUMBER)
    for path in sorted(_ENGINE.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in _LIBRARIES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None and spec.origin else ""
        size = mtime = 0
        if origin:
            status = os.stat(origin)
            size, mtime = status.st_size, status.st_mtime_ns
        digest.update(f"{name}\0{origin}\0{size}\0{mtime}\0".encode())
    read = 0
    for label, root in (("rules", rules_dir), ("schemas", schemas_dir)):
        root = Path(root).resolve()
        digest.update(f"{label}\0{root}\0".encode())
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            data = path.read_bytes()
            read += len(data)
            if read > _MOST_BYTES:
                raise ValueError(f"{root} holds more than {_MOST_BYTES} bytes: its plan is not kept")
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + data + b"\0")
    digest.update(platform.encode() + b"\0")
    digest.update(json.dumps(settings, sort_keys=True, ensure_ascii=False, default=repr).encode())
    return digest.hexdigest()


class CachedTranslator:
    """A translator running a kept plan: ``translate_parsed`` as ``Translator.translate_parsed``
    gives it (the same outputs, refusals and warnings), the plan where it takes the message to
    the end, else the loaded rules (``make_full``, called once, on first need)."""

    def __init__(self, plan: Callable[[dict], Any], input_check: Callable[[Any], bool], warnings: list[str],
                 make_full: Callable[[], Any]) -> None:
        self.plan = plan
        self.input_check = input_check
        self.warnings = warnings
        self._make_full = make_full
        self._full: Any = None

    def full(self) -> Any:
        """The translator of the loaded rules (the reference)."""
        if self._full is None:
            self._full = self._make_full()
        return self._full

    def translate_parsed(self, message: Any, index: int | None = None, warnings: list | None = None) -> list[dict]:
        if type(message) is dict:
            outputs = planned(self.plan, self.input_check, message)
            if outputs is not None:
                return outputs
        return self.full().translate_parsed(message, index, warnings=warnings)

    def translate(self, message: Any, index: int | None = None, warnings: list | None = None) -> list[dict]:
        return self.full().translate(message, index, warnings=warnings)


def load_kept(key: str, make_full: Callable[[], Any]) -> CachedTranslator | None:
    """The translator of the plan kept under ``key``, or None where there is none (or it cannot be
    run: then the rules are loaded as usual)."""
    payload = codecache.fetch(key)
    if payload is None or not payload.startswith(_FORMAT):
        return None
    try:
        meta_text, code = marshal.loads(payload[len(_FORMAT):])
        meta = json.loads(meta_text)
        if not isinstance(code, CodeType):
            return None
        names = _runtime(meta)
        exec(code, names)  # noqa: S102 - code this package generated, from a private folder, digest-checked
        return CachedTranslator(names["plan"], names["_validator"](meta["input"]), meta["warnings"], make_full)
    except Exception:  # noqa: BLE001 - an entry that cannot run is not used: the rules are loaded
        return None


def keep_plan(key: str, translator: Any, schemas: Any) -> bool:
    """Keep the plan of a loaded ``translator`` under ``key``; False where it cannot be kept (a
    run goes on as well without it)."""
    try:
        return _keep_plan(key, translator, schemas)
    except Exception:  # noqa: BLE001 - keeping is a saving only: nothing of the run depends on it
        return False


def _keep_plan(key: str, translator: Any, schemas: Any) -> bool:
    ruleset = translator.ruleset
    plan = ruleset.plan
    sources = getattr(plan, "sources", None)
    if plan is None or sources is None or any(source is None for source in sources.values()):
        return False
    if ruleset.input_validator.fast is None:
        return False
    functions = ruleset.options.custom_functions if ruleset.options is not None else None
    secrets = sorted(getattr(functions, "secrets", ()) or ())
    settings = {key: value for key, value in ruleset.settings.items() if key not in secrets}
    text = "".join(f"{name} = {source}\n" for name, source in sources.items()) + plan.source
    for name in secrets:  # never on disk: a secret's value in the module's text
        value = ruleset.settings.get(name)
        if value not in (None, "") and (str(value) in text or json.dumps(value) in text):
            return False
    used = {ruleset.input_schema, *(target.schema for target in ruleset.targets.values())}
    meta = {"settings": settings, "secrets": secrets, "input": ruleset.input_schema,
            "warnings": list(translator.warnings), "resources": schemas.resources(),
            "schemas": {name: schemas.schema(name) for name in sorted(used)}}
    try:
        code = compile(text, f"<plan of the {ruleset.platform} rules>", "exec")
        payload = _FORMAT + marshal.dumps((json.dumps(meta), code))
    except (SyntaxError, ValueError, TypeError, RecursionError):
        return False
    codecache.keep(key, payload)
    return True


def _runtime(meta: dict) -> dict:
    """The names a kept plan's code reads: the plan's runtime names, the rule functions (made
    with the settings, secrets left out: the functions refuse to read them), ``_import``,
    ``_validator`` (jsonschema-rs's yes/no of a schema of the folder) and ``_comparator``."""
    import jsonschema_rs
    from jmespath.visitor import TreeInterpreter

    from .functions import RuleFunctions
    from .planruntime import base_names
    from .validation import nothing_outside

    resources = [(uri, contents) for uri, contents in meta["resources"]]
    by_name = meta["schemas"]
    registry = jsonschema_rs.Registry(resources, retriever=nothing_outside)

    def validator(name: str) -> Callable[[Any], bool]:
        return jsonschema_rs.validator_for(by_name[name], registry=registry, retriever=nothing_outside,
                                           validate_formats=True).is_valid

    def import_(module: str, qualname: str) -> Any:
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
        return found

    names = base_names()
    names.update(FUNCTIONS=RuleFunctions(meta["settings"], frozenset(meta["secrets"])), _import=import_,
                 _validator=validator, _comparator=TreeInterpreter.COMPARATOR_FUNC.__getitem__)
    return names
