"""A generic engine that translates JSON messages by declarative YAML rules.

    >>> import engine
    >>> translator = engine.load("server", {"apiKey": "..."})
    >>> translator.translate({"type": "track", ...})
    [{"target": "...", "body": {...}}]

Modules, one per stage: ``yamlsource`` (located YAML), ``loader`` (rule files and ``extends``),
``settings`` (catalog and resolution), ``validation`` (JSON Schemas), ``compiler`` (rules to
``nodes``), ``nodes`` (the evaluation semantics), ``evaluator`` (one message), ``reader`` (input
streams), ``translator`` (this public API) and ``cli``.
"""

from .errors import EngineError, Rejected, RuleError, SettingsError
from .translator import Result, Translator, load, platforms

__all__ = [
    "EngineError",
    "Rejected",
    "Result",
    "RuleError",
    "SettingsError",
    "Translator",
    "load",
    "platforms",
]
