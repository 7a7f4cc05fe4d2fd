"""Generic helpers for rules: JMESPath functions and Jinja filters.

They are named for what they do, not for any product. Every function accepts null where its
natural input is missing and then returns null, so a selector on an incomplete message yields a
missing value instead of an error; the three that build a collection to merge or look keys up
in give an empty one instead (``keys_with_value``: [], ``with_value`` and ``select_paths``: {}).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any

from jmespath import functions

from . import jsonio
from .planruntime import same

_DATE_ONLY = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_FRACTION = re.compile(r"[.,](\d+)")
_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
# The common shape, computed without datetime: date, time to the second, fraction, Z or offset.
_COMMON = re.compile(r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?"
                     r"(?:([Zz])|([+-])(\d\d):?(\d\d))?$", re.ASCII)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def epoch_millis(value: Any) -> int | None:
    """ISO 8601 text (any offset; no offset means UTC) to integer milliseconds since the epoch.
    Numbers are taken as milliseconds already. Anything else gives None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:  # the usual timestamp in one C call; what it refuses (a lower-case z, odd fractions) goes on below
        moment = _fast_parse(text)
    except ValueError:
        pass
    else:
        return _since_epoch(moment)
    common = _COMMON.match(text)
    if common:
        millis = _common_millis(common)
        if millis is not None:
            return millis
    match = _DATE_ONLY.match(text)
    if match:
        year, month, day = (int(part) if part else 1 for part in match.groups())
        try:
            moment = datetime(year, month, day, tzinfo=timezone.utc)
        except ValueError:
            return None
    else:
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        # Older Pythons accept only ".", 3 or 6 fraction digits and "+hh:mm": normalise to that.
        text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
        text = _OFFSET.sub(r"\1:\2", text)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    return _since_epoch(moment)


_fast_parse = datetime.fromisoformat  # Python 3.11 reads most of ISO 8601 (Z, any fraction, offsets)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _since_epoch(moment: datetime) -> int:
    """Milliseconds from the epoch to ``moment`` (no offset: UTC), rounded down."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _common_millis(match: re.Match) -> int | None:
    """epoch_millis of the common shape by arithmetic; None to leave an unusual value (a day
    that does not exist, a leap second, an offset of 24 hours) to the general path."""
    year, month, day, hour, minute, second, fraction, _zulu, sign, off_hours, off_minutes = match.groups()
    hour, minute, second = int(hour), int(minute), int(second)
    if hour > 23 or minute > 59 or second > 59:
        return None
    try:
        days = date(int(year), int(month), int(day)).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        return None
    seconds = ((days * 24 + hour) * 60 + minute) * 60 + second
    if sign:
        off_hours, off_minutes = int(off_hours), int(off_minutes)
        if off_hours > 23 or off_minutes > 59:
            return None
        offset = (off_hours * 60 + off_minutes) * 60
        seconds = seconds - offset if sign == "+" else seconds + offset
    return seconds * 1000 + (int((fraction + "00")[:3]) if fraction else 0)


_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$", re.ASCII)


def to_number(value: Any) -> int | float | None:
    """A number, or text holding one in JSON's decimal notation ("32" -> 32, "-2.5" -> -2.5);
    anything else (other digit systems, "1_0", NaN, infinities) gives None."""
    kind = type(value)
    if kind is int:  # the usual values first, by their exact type
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is not str:
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else None
        if not isinstance(value, str):
            return None
    text = value.strip()
    if not _NUMBER.match(text):
        return None
    if "." not in text and "e" not in text and "E" not in text:
        return int(text)
    number = float(text)
    return number if math.isfinite(number) else None


def _missing(value: Any) -> bool:
    return value is None or value == ""


def depth(value: Any) -> int:
    """How many levels of objects and arrays nest in ``value`` (0 for anything else)."""
    kind = type(value)
    if kind is dict:
        children = value.values()
    elif kind is list:
        children = value
    elif isinstance(value, dict):
        children = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return 0
    deepest = 0
    try:
        for child in children:
            kind = type(child)
            if kind is str or kind is int or kind is float or kind is bool or child is None:
                continue
            if isinstance(child, (dict, list)):
                found = depth(child)
                if found > deepest:
                    deepest = found
    except RecursionError:  # deeper than the stack: counted without recursion
        return _depth_by_hand(value)
    return deepest + 1


def json_size(value: Any) -> int:
    """How many bytes ``value`` takes written as compact JSON text in UTF-8, as outputs are written
    (text that is not valid Unicode counted as it is held). The text of an object measured is kept
    for the writer (``jsonio.measured``): a body checked for its size is not written twice."""
    return jsonio.measured(value)


def _depth_by_hand(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _version(part: Any) -> str | None:
    numbers = [n for n in (part.major, part.minor, part.patch, getattr(part, "patch_minor", None)) if n]
    return ".".join(numbers) or None


# Agents longer than this are parsed each time, not memoised: the memo's size stays bounded
# (4,096 entries of at most this many characters) whatever the input holds.
_MEMO_LONGEST_AGENT = 1024


@lru_cache(maxsize=1)
def _agent_parser() -> Any:
    """ua-parser's parser on its bundled rules with the best matcher installed (ua-parser-rs), made
    on first use, paid only when a rule set parses an agent. The rules are read as their lazy
    matchers: ua-parser-rs compiles the rules' regular expressions itself, so Python's need not
    (the same rules and answers; 0.19 s to make instead of 0.34 s and more). Without ua-parser's
    own cache, which would keep agents of any length: user_agent memoises."""
    from ua_parser import BestAvailableResolver, Parser, load_lazy_builtins

    return Parser(BestAvailableResolver(load_lazy_builtins()))


def _parse_agent(text: str) -> dict:
    """user_agent's answer for one string. Never handed out itself (see user_agent)."""
    result = _agent_parser().parse(text)
    os_part, device, browser = result.os, result.device, result.user_agent
    parts = {
        "os": {"family": os_part.family, "version": _version(os_part)} if os_part else {},
        "device": {"family": device.family, "brand": device.brand, "model": device.model} if device else {},
        "browser": {"family": browser.family, "version": _version(browser)} if browser else {},
    }
    return {name: {k: v for k, v in part.items() if v and v != "Other"} for name, part in parts.items()}


# Memoised: one message asks for several fields of its agent, and a stream repeats a few browsers.
_parsed_agent = lru_cache(maxsize=4096)(_parse_agent)


def user_agent(text: Any) -> dict | None:
    """A user-agent string parsed by ua-parser (the uap-core rules): {"os": {family, version},
    "device": {family, brand, model}, "browser": {family, version}}, each part holding only what
    the rules could tell ("Other" and empty values left out). Anything but text gives None. Each
    call gets objects of its own, so nothing is shared between messages."""
    if not isinstance(text, str):
        return None
    parsed = _parsed_agent(text) if len(text) <= _MEMO_LONGEST_AGENT else _parse_agent(text)
    return {name: part.copy() for name, part in parsed.items()}


class RuleFunctions(functions.Functions):
    """JMESPath functions available to every selector. ``settings`` is the rule set's settings,
    fixed when the rule set is compiled, read by ``setting(name)``; ``secrets`` the names of those
    whose value is never shown."""

    def __init__(self, settings: dict | None = None, secrets: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.settings = settings or {}
        self.secrets = secrets

    @functions.signature({"types": ["string"]})
    def _func_setting(self, name):
        """setting(name): the value of a setting of the rule set (not of a secret one)."""
        if name in self.secrets:
            raise ValueError(f"setting({name!r}) reads a secret setting, which is never a value")
        return self.settings.get(name)

    @functions.signature({"types": []})
    def _func_epoch_millis(self, value):
        """epoch_millis(t): ISO 8601 timestamp to milliseconds since 1970-01-01T00:00:00Z."""
        return epoch_millis(value)

    @functions.signature({"types": []})
    def _func_number(self, value):
        """number(x): a number, or numeric text converted ("32" -> 32); otherwise null."""
        return to_number(value)

    @functions.signature({"types": []})
    def _func_text(self, value):
        """text(x): text as is, a number as its decimal text; anything else null."""
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        return None

    @functions.signature({"types": []})
    def _func_integer(self, value):
        """integer(x): a whole number from a number or numeric text, cut toward zero as the SDKs'
        integer setters do (2.5 -> 2); otherwise null."""
        number = to_number(value)
        if number is None:
            return None
        try:
            return int(number)
        except (OverflowError, ValueError):
            return None

    @functions.signature({"types": ["object", "null"]})
    def _func_numeric_values(self, obj):
        """numeric_values(obj): obj with numeric text values turned into numbers; other values kept."""
        if obj is None:
            return None
        return {k: (to_number(v) if isinstance(v, str) and to_number(v) is not None else v) for k, v in obj.items()}

    @functions.signature({"types": ["object", "null"]}, {"types": ["array", "null"]})
    def _func_pick(self, obj, keys):
        """pick(obj, keys): obj with only the listed keys (in obj's order)."""
        if obj is None:
            return None
        wanted = set(_flat_strings(keys))
        return {k: v for k, v in obj.items() if k in wanted}

    @functions.signature({"types": ["object", "null"]}, {"types": ["array", "null"]})
    def _func_omit(self, obj, keys):
        """omit(obj, keys): obj without the listed keys (keys may hold nested lists)."""
        if obj is None:
            return None
        unwanted = set(_flat_strings(keys))
        return {k: v for k, v in obj.items() if k not in unwanted}

    @functions.signature({"types": ["object", "null"]}, {"types": ["object"]})
    def _func_rename_keys(self, obj, renames):
        """rename_keys(obj, {old: new}): obj with keys renamed, in obj's order."""
        if obj is None:
            return None
        return {renames.get(k, k) if isinstance(renames.get(k, k), str) else k: v for k, v in obj.items()}

    @functions.signature({"types": ["object", "null"]}, {"types": ["array", "null"]})
    def _func_omit_ignore_case(self, obj, keys):
        """omit_ignore_case(obj, keys): obj without the listed keys, compared ignoring case."""
        if obj is None:
            return None
        unwanted = {key.casefold() for key in _flat_strings(keys)}
        return {k: v for k, v in obj.items() if k.casefold() not in unwanted}

    @functions.signature({"types": ["object", "null"]}, {"types": []})
    def _func_get(self, obj, key):
        """get(obj, key): the value under a key computed at run time; null when absent."""
        if obj is None or not isinstance(key, str):
            return None
        return obj.get(key)

    @functions.signature({"types": ["object", "null"]}, {"types": ["string"]})
    def _func_get_ignore_case(self, obj, key):
        """get_ignore_case(obj, key): the value of the first key equal to ``key`` ignoring case."""
        if obj is None:
            return None
        if key in obj:
            return obj[key]
        folded = key.casefold()
        for name, value in obj.items():
            if name.casefold() == folded:
                return value
        return None

    @functions.signature({"types": ["object", "null"]})
    def _func_entries(self, obj):
        """entries(obj): [[key, value], ...] in obj's order (the inverse of from_items)."""
        if obj is None:
            return None
        return [[k, v] for k, v in obj.items()]

    @functions.signature({"types": []}, {"types": ["object", "null"]})
    def _func_select_paths(self, obj, paths):
        """select_paths(obj, {"a.b": "key"}): {"key": obj.a.b} for every dotted path present in obj."""
        result = {}
        for path, key in (paths or {}).items():
            value = obj
            for step in str(path).split("."):
                value = value.get(step) if isinstance(value, dict) else None
            if not _missing(value) and isinstance(key, str):
                result[key] = value
        return result

    @functions.signature({"types": ["string", "null"]}, {"types": ["string"]})
    def _func_split(self, text, separator):
        """split(s, sep): the parts of s between separators."""
        if text is None or separator == "":
            return None
        return text.split(separator)

    @functions.signature({"types": ["array", "null"]})
    def _func_from_items(self, pairs):
        """from_items([[key, value], ...]): an object; pairs with a missing key or value are skipped."""
        if pairs is None:
            return None
        result = {}
        for pair in pairs:
            if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) and pair[0] != "" \
                    and not _missing(pair[1]):
                result[pair[0]] = pair[1]
        return result

    @functions.signature({"types": ["object", "null"]})
    def _func_compact(self, obj):
        """compact(obj): obj without the keys whose value is null or empty text."""
        if obj is None:
            return None
        return {k: v for k, v in obj.items() if not _missing(v)}

    @functions.signature({"types": ["string", "null"]})
    def _func_lower(self, text):
        """lower(s): lower-case text."""
        return None if text is None else text.lower()

    @functions.signature({"types": ["string", "null"]})
    def _func_upper(self, text):
        """upper(s): upper-case text."""
        return None if text is None else text.upper()

    @functions.signature({"types": ["object", "null"]}, {"types": []})
    def _func_keys_with_value(self, obj, wanted):
        """keys_with_value(obj, v): the keys of obj whose value equals v, in obj's order."""
        if obj is None:
            return []
        return [k for k, v in obj.items() if same(v, wanted)]

    @functions.signature({"types": []})
    def _func_depth(self, value):
        """depth(x): how many levels of objects and arrays nest in x (0 for anything else, 1 for
        an object of plain values)."""
        return depth(value)

    @functions.signature({"types": []})
    def _func_json_size(self, value):
        """json_size(x): how many bytes x takes written as compact JSON text in UTF-8."""
        return json_size(value)

    @functions.signature({"types": []})
    def _func_user_agent(self, text):
        """user_agent(s): a user-agent string parsed into {os: {family, version}, device: {family,
        brand, model}, browser: {family, version}}; null for anything but text."""
        return user_agent(text)

    @functions.signature({"types": ["array", "null"]}, {"types": []})
    def _func_with_value(self, keys, value):
        """with_value(keys, v): an object giving every key the same value v; empty when v is missing."""
        if keys is None or _missing(value):
            return {}
        return {k: value for k in keys if isinstance(k, str)}


# Functions whose value is a plain function of their arguments (no settings), for generated code
# to call directly once the argument types are checked.
PLAIN_FUNCTIONS = {"epoch_millis": epoch_millis, "number": to_number, "length": len, "depth": depth,
                   "json_size": json_size, "user_agent": user_agent}
# Of those, the ones that give back an argument of these exact types as it is, and null for null:
# generated code skips the call for them (``number`` of a whole number is that number).
GIVEN_BACK = {"number": (int,)}


def _keep(keys: Any) -> Any:
    wanted = frozenset(_flat_strings(keys))
    return lambda obj: None if obj is None else {k: v for k, v in obj.items() if k in wanted}


def _drop(keys: Any) -> Any:
    unwanted = frozenset(_flat_strings(keys))
    return lambda obj: None if obj is None else {k: v for k, v in obj.items() if k not in unwanted}


def _drop_ignoring_case(keys: Any) -> Any:
    unwanted = frozenset(key.casefold() for key in _flat_strings(keys))
    return lambda obj: None if obj is None else {k: v for k, v in obj.items() if k.casefold() not in unwanted}


# Functions whose keys argument, when it is a constant (a literal, or settings folded when rules
# compile), can be prepared once: name -> prepare(keys), giving the function of the object alone.
# Each gives what the function of the same name gives.
PREPARED_FUNCTIONS = {"pick": _keep, "omit": _drop, "omit_ignore_case": _drop_ignoring_case}


def _flat_strings(keys: Any) -> list[str]:
    out: list[str] = []
    for key in keys or ():
        if isinstance(key, list):
            out.extend(_flat_strings(key))
        elif isinstance(key, str):
            out.append(key)
    return out


FUNCTION_NAMES = frozenset(
    name[len("_func_"):] for name in dir(RuleFunctions) if name.startswith("_func_")
)

#: Jinja filters available to templates.
TEMPLATE_FILTERS = {
    "epoch_millis": epoch_millis,
    "number": to_number,
}
