"""Loading a platform variant: its rule file and every file it extends, each validated against
the rule-language schema, merged into one raw rule set that remembers where each part came from.

Merging: the extended files come first, in order, each before the file that extends it; a file
reached again through another path (two files that extend one shared file) is merged once, where
it is first reached, so a later merge of it cannot undo an override of its rules. A target,
fragment or rule with the same name in a later file replaces the earlier one in place; new rules
are appended; ``remove`` drops inherited rules by name. Scalars (``input``, ``settings``) are
taken from the latest file that sets them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import RuleError, did_you_mean
from .schemawords import explain
from .validation import SchemaStore, json_path
from .yamlsource import LocatedDict, line_of, load_yaml_file

RULE_SCHEMA = "rules.schema.json"


@dataclass
class RawRuleSet:
    """A variant with its base files merged; every mapping still carries ``file`` and ``line``."""

    platform: str
    folder: Path
    files: list[str] = field(default_factory=list)  # each merged file once, in merge order; the variant last
    input: dict = field(default_factory=dict)
    input_file: str | None = None
    input_lines: dict[str, int] = field(default_factory=dict)  # where each key of ``input`` was set
    settings_path: Path | None = None
    targets: dict[str, dict] = field(default_factory=dict)
    fragments: dict[str, dict] = field(default_factory=dict)
    rules: list[dict] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)


def emitted_targets(raw: RawRuleSet) -> list[str]:
    """The targets a variant's rules emit, in order of first appearance."""
    found: list[str] = []

    def walk(emit: Any) -> None:
        if isinstance(emit, list):
            for item in emit:
                walk(item)
        elif isinstance(emit, dict):
            if emit.get("target") and emit["target"] not in found:
                found.append(emit["target"])
            walk(emit.get("emit"))

    for rule in raw.rules:
        walk(rule.get("emit"))
    return found


def describe_platforms(folder: Path) -> dict[str, str]:
    """The variants of a rule set folder (the YAML files that declare ``platform``), each named by
    its file (``server-eu.yaml``: ``server-eu``, whatever it declares, so that a copy whose
    ``platform:`` was left unchanged is listed, and refused when it loads, rather than hidden),
    with the file's ``description``."""
    found = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            document = load_yaml_file(path)
        except RuleError:
            continue
        if isinstance(document, dict) and isinstance(document.get("platform"), str):
            found[path.stem] = str(document.get("description", ""))
    return found


def list_platforms(folder: Path) -> list[str]:
    """The variants of a rule set folder."""
    return list(describe_platforms(folder))


def load_variant(folder: Path, platform: str, schemas: SchemaStore) -> RawRuleSet:
    """Load ``<folder>/<platform>.yaml`` and the files it extends."""
    folder = Path(folder)
    path = folder / f"{platform}.yaml"
    if Path(platform).name != platform:  # a name, not a path: nothing outside the folder is read
        raise RuleError(f"platform {platform!r} is not a name of the rule set's folder", file=str(path))
    if not path.is_file():
        known = ", ".join(list_platforms(folder)) or "none"
        raise RuleError(f"no platform {platform!r} in this rule set (its platforms: {known})", file=str(folder))
    raw = RawRuleSet(platform=platform, folder=folder)
    _merge_file(raw, path, schemas, chain=())
    document = _read(path, schemas)
    declared = document.get("platform")
    if declared != platform:
        said = f"it declares 'platform: {declared}'" if "platform" in document else "it declares no platform"
        raise RuleError(f"the file of platform {platform!r} must declare 'platform: {platform}' ({said}; a "
                        f"variant's file is named after its platform)", file=str(path),
                        line=document.key_lines.get("platform", 1))
    if not raw.input.get("schema"):
        raise RuleError("no input schema: set input.schema in the variant or a file it extends", file=str(path))
    if raw.settings_path is None:
        raise RuleError("no settings catalog: set 'settings' in the variant or a file it extends", file=str(path))
    return raw


_cache: dict[tuple[str, float], Any] = {}


def _read(path: Path, schemas: SchemaStore, named_by: tuple[str, Path, int | None] | None = None) -> LocatedDict:
    """The rule file at ``path``, validated. ``named_by`` is the ``extends`` that names it (the name
    as written, the file and the line of its ``extends`` key): a file that is not a mapping is
    reported there."""
    key = (str(path), path.stat().st_mtime)
    document = _cache.get(key)
    if document is None:
        document = load_yaml_file(path)
        if not isinstance(document, dict):
            raise _not_a_mapping(path, document, named_by)
        validate_rule_document(document, str(path), schemas)
        _cache[key] = document
    return document


def _not_a_mapping(path: Path, document: Any, named_by: tuple[str, Path, int | None] | None) -> RuleError:
    """The error for a rule file that is not a mapping: at the ``extends`` that names it, if any."""
    kind = "empty" if document is None else "a list" if isinstance(document, list) else "a single value"
    if named_by is None:
        return RuleError(f"a rule file must be a mapping, and this one is {kind}", file=str(path), line=1)
    name, file, line = named_by
    return RuleError(f"extends {name!r}, which is not a mapping (a rule file must be one; {path.name} is {kind})",
                     file=str(file), line=line)


def _extends_line(document: LocatedDict) -> int | None:
    """The line of the document's ``extends`` key."""
    return document.key_lines.get("extends") or line_of(document, ["extends"])


def validate_rule_document(document: Any, file: str, schemas: SchemaStore, schema: str = RULE_SCHEMA) -> None:
    """Check one rule file against the rule-language schema (or the schema named, as the
    delivery description's); the error names file, line and rule."""
    if schema not in schemas:
        return
    validator = schemas.validator(schema)
    if validator.is_valid(document):  # the fast check; jsonschema says where only when it fails
        return
    from jsonschema.exceptions import best_match

    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    reason, path = explain(best_match(errors), schemas.schema(schema))
    rule = None
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        entry = document["rules"][path[1]]
        rule = entry.get("name") if isinstance(entry, dict) else None
    raise RuleError(reason, file=file, line=_key_line(document, path), rule=rule, path=json_path(path))


def _key_line(document: Any, path: list) -> int | None:
    """The line of what ``path`` names in a document: a key's own line where it is a key of a
    mapping (``emits:`` in a rule), else the line of the deepest located node on the way."""
    if path and isinstance(path[-1], str):
        parent: Any = document
        for step in path[:-1]:
            try:
                parent = parent[step]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        line = getattr(parent, "key_lines", {}).get(path[-1])
        if line:
            return line
    return line_of(document, path)


def _inherit(base: dict, rule: LocatedDict) -> LocatedDict:
    """``rule`` built on ``base``: base's keys unless given, vars merged. A rule emits or rejects,
    not both: a ``reject`` given drops the inherited ``emit`` (a variant refusing a message type its
    base translates), and an ``emit`` given drops the inherited ``reject``."""
    replaced = {"emit": "reject", "reject": "emit"}
    merged = LocatedDict({k: v for k, v in base.items()
                          if not (k in replaced and replaced[k] in rule and k not in rule)})
    merged.file, merged.line = rule.file, rule.line
    merged.key_lines = {**getattr(base, "key_lines", {}), **rule.key_lines}
    for key, value in rule.items():
        if key == "inherit":
            continue
        if key == "vars" and isinstance(base.get("vars"), dict):
            combined = LocatedDict({**base["vars"], **value})
            combined.file, combined.line = value.file, value.line
            combined.key_lines = {**getattr(base["vars"], "key_lines", {}), **value.key_lines}
            merged[key] = combined
        else:
            merged[key] = value
    if "emit" not in merged and "reject" not in merged:
        raise RuleError("an inherited rule needs emit or reject", file=rule.file, line=rule.line, rule=rule["name"])
    return merged


def _inside(folder: Path, here: Path, name: str, what: str, file: Path, line: int | None) -> Path:
    """The file ``name`` (relative to ``here``) names, which must be in the rule set's folder: not
    an absolute path, and neither ``..`` nor a symbolic link may lead out of it."""
    root = Path(folder).resolve()
    if Path(name).is_absolute():
        raise RuleError(f"{what} is an absolute path: a rule set names only files in its own folder",
                        file=str(file), line=line)
    target = (here / name).resolve()
    if not target.is_relative_to(root):
        raise RuleError(f"{what} leads out of the rule set's folder ({root}): a rule set names only files "
                        "in its own folder", file=str(file), line=line)
    return target


def _merge_file(raw: RawRuleSet, path: Path, schemas: SchemaStore, chain: tuple,
                named_by: tuple[str, Path, int | None] | None = None) -> None:
    """Merge ``path`` into ``raw`` after the files it extends, depth first; a file already merged
    (reached before through another file) is not merged again. ``chain`` is the files being merged
    that lead to this one, to find cycles; ``named_by`` is the ``extends`` that names this file.
    Errors about ``extends`` are reported at the ``extends`` key of the file that says it."""
    path = path.resolve()
    if str(path) in raw.files:
        return
    document = _read(path, schemas, named_by)
    extends = document.get("extends") or []
    if isinstance(extends, str):
        extends = [extends]
    line = _extends_line(document)
    for name in extends:
        base = _inside(raw.folder, path.parent, name, f"extends {name!r}", path, line)
        if not base.is_file():
            present = sorted(p.name for p in path.parent.glob("*.yaml") if p.is_file() and p != path)
            raise RuleError(f"extends {name!r}, which does not exist{did_you_mean(name, present)}; the rule files "
                            f"beside {path.name}: {', '.join(present) or 'none'}", file=str(path), line=line)
        lineage = (*chain, path)
        if base in lineage:
            cycle = " -> ".join(p.name for p in (*lineage[lineage.index(base):], base))
            raise RuleError(f"'extends' makes a cycle: {cycle}", file=str(path), line=line)
        _merge_file(raw, base, schemas, lineage, (name, path, line))
    raw.files.append(str(path))
    if "input" in document:
        raw.input = {**raw.input, **document["input"]}
        raw.input_file = str(path)
        raw.input_lines.update(getattr(document["input"], "key_lines", {}))
    if "settings" in document:
        raw.settings_path = _inside(raw.folder, path.parent, document["settings"],
                                    f"settings catalog {document['settings']!r}", path,
                                    line_of(document, ["settings"]))
        if not raw.settings_path.is_file():
            raise RuleError(f"settings catalog {document['settings']!r} does not exist", file=str(path),
                            line=line_of(document, ["settings"]))
    for name, target in (document.get("targets") or {}).items():
        raw.targets[name] = target
    for name, fragment in (document.get("fragments") or {}).items():
        raw.fragments[name] = fragment
    for name in document.get("remove") or []:
        before = len(raw.rules)
        raw.rules = [r for r in raw.rules if r["name"] != name]
        raw.removed.add(name)
        if len(raw.rules) == before:
            raise RuleError(f"'remove' names {name!r}, which no extended file defines", file=str(path),
                            line=line_of(document, ["remove"]))
    seen_here: set[str] = set()
    for rule in document.get("rules") or []:
        name = rule["name"]
        if name in seen_here:
            raise RuleError("duplicate rule name in one file", file=str(path), line=rule.line, rule=name)
        seen_here.add(name)
        names = [r["name"] for r in raw.rules]
        anchor = rule.get("before") or rule.get("after")
        if rule.get("inherit") and name not in names:
            raise RuleError("'inherit' builds on an inherited rule of the same name, and there is none",
                            file=str(path), line=rule.line, rule=name)
        if name in names:
            if anchor:
                raise RuleError("'before' / 'after' place a new rule; this one replaces an inherited rule in place",
                                file=str(path), line=rule.line, rule=name)
            position = names.index(name)
            raw.rules[position] = _inherit(raw.rules[position], rule) if rule.get("inherit") else rule
        elif anchor:
            if anchor not in names:
                raise RuleError(f"'{'before' if rule.get('before') else 'after'}' names {anchor!r}, which is not "
                                "an earlier rule", file=str(path), line=rule.line, rule=name)
            raw.rules.insert(names.index(anchor) + (0 if rule.get("before") else 1), rule)
        else:
            raw.rules.append(rule)
