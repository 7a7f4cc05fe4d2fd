"""Where the bundled rules and schemas are: inside the installed wheel (``engine/_bundled``), or at
the top of a source checkout (editable installs and running from the repository)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """The bundled folder ``name`` (``rules`` or ``schemas``)."""
    installed = _HERE / "_bundled" / name
    if installed.is_dir():
        return installed
    checkout = _HERE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"bundled folder {name!r} not found beside the engine ({installed} or {checkout})")


def default_rules_dir() -> Path:
    """The rule set shipped with the package: the only rule set folder under the bundled rules."""
    return find_rule_set(bundled_dir("rules"))


def find_rule_set(path: Path) -> Path:
    """A rule set folder is one that holds variant files. Given a folder that holds exactly one
    rule set folder (like the bundled ``rules/``), step into it."""
    path = Path(path)
    if any(path.glob("*.yaml")):
        return path
    subdirs = [p for p in sorted(path.iterdir()) if p.is_dir() and any(p.glob("*.yaml"))] if path.is_dir() else []
    if len(subdirs) == 1:
        return subdirs[0]
    return path
