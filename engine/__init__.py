"""A generic engine that translates JSON messages by declarative YAML rules.

    >>> import engine
    >>> translator = engine.load("server", {"apiKey": "..."})
    >>> translator.translate({"type": "track", ...})
    [{"target": "...", "body": {...}}]

Modules, one per stage: ``yamlsource`` (located YAML), ``loader`` (rule files and ``extends``),
``settings`` (catalog and resolution), ``validation`` (JSON Schemas), ``compiler`` (rules to
constructs), ``nodes`` (the constructs, one class each: evaluation, explanation, the code each
writes), ``plan`` (the generated fast path; ``planruntime`` what its code runs with; ``codecache``
and ``plancache`` keep it between runs), ``run`` (one message: the plan, else the walk),
``explain`` (the walk, saying why), ``functions`` (selector functions and filters), ``reader``
and ``jsonio`` (input and output streams), ``batches`` (``--jobs``), ``translator`` (this public
API) and ``cli``; ``lint``, ``docs`` and ``examples`` are the authoring tools.
"""

from typing import Any

from .errors import EngineError, FieldDropped, Rejected, RuleError, SettingsError, SettingWarning

_API = {"Result", "Translator", "load", "platforms"}


def __getattr__(name: str) -> Any:
    """The API of ``translator``, imported on first use: a command that runs a plan kept between
    runs (``plancache``) never loads the compiler, nor the libraries it needs."""
    if name in _API:
        from . import translator

        return getattr(translator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "EngineError",
    "FieldDropped",
    "Rejected",
    "Result",
    "RuleError",
    "SettingWarning",
    "SettingsError",
    "Translator",
    "load",
    "platforms",
]
