"""A rule set's delivery description (its ``delivery.yaml``): where each target's outputs go, how
the requests are made and limited, and what the answers mean. ``load_delivery`` reads it once and
checks it against ``delivery.schema.json`` (an error names the file, the line and the JSON path);
``Delivery.routes`` makes, for one run's settings, region and endpoint, each target's ``Route``:
its URL, its limits and the bytes around its items, so that a request is its items' own bytes
joined, never serialised again. ``Delivery.answer`` says what an answer means (``Answer``)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .errors import RuleError, SettingsError

DELIVERY_SCHEMA = "delivery.schema.json"
OUTCOMES = ("delivered", "stop", "refuse", "split", "throttle", "retry")
_MARK = "\x00items\x00"  # where the items go in a request's text, made once a run


@dataclass(frozen=True)
class Response:
    """One entry of ``responses``: the answers it matches and what they mean."""

    low: int
    high: int
    when: Any  # a compiled JMESPath expression over the answer's JSON, or None
    outcome: str
    reason: str
    wait: float | None
    items: tuple[tuple[str, str], ...]  # (list name, reason)
    quota: tuple[tuple[str, str, str], ...]  # (list name, body field, reason)

    def matches(self, status: int, answer: Any) -> bool:
        if not self.low <= status <= self.high:
            return False
        if self.when is None:
            return True
        try:
            found = self.when.search(answer if isinstance(answer, dict) else {})
        except Exception:  # noqa: BLE001 - an answer the expression cannot read does not match
            return False
        return found not in (None, False, "", [], {})


@dataclass(frozen=True)
class Answer:
    """What one answer means for the items of its request. ``outcome`` as in ``OUTCOMES``;
    ``refused`` maps an item's index to why it goes to the failed file; ``throttled`` lists the
    indexes that wait (empty: all of them, for a throttle); ``wait`` the seconds they wait."""

    outcome: str
    reason: str
    refused: dict[int, str]
    throttled: tuple[int, ...] = ()
    wait: float = 0.0


@dataclass(frozen=True)
class Route:
    """How one target's items are sent in this run: the request is ``head`` + the items joined
    by ``between`` + ``tail`` (for a form, each item's bytes URL-quoted first)."""

    target: str
    url: str
    form: bool
    basic: bool
    head: bytes
    between: bytes
    tail: bytes
    max_items: int
    max_bytes: int
    interval: float
    identity: tuple[str, ...]
    dedup: str | None
    unusable: str = ""  # why its items cannot be sent in this run (they go to the failed file)

    @property
    def content_type(self) -> str:
        return "application/x-www-form-urlencoded" if self.form else "application/json"

    def size(self, count: int, items_bytes: int) -> int:
        """The length of a request of ``count`` items whose (quoted) bytes add up to ``items_bytes``."""
        return len(self.head) + len(self.tail) + items_bytes + len(self.between) * max(count - 1, 0)

    def request(self, parts: list[bytes]) -> bytes:
        return self.head + self.between.join(parts) + self.tail


class Delivery:
    """A loaded delivery description (``load_delivery``)."""

    def __init__(self, document: dict, file: str) -> None:
        import jmespath

        self.file = file
        spec = document["delivery"]
        self.description = spec.get("description", "")
        credentials = spec.get("credentials", {})
        self.key_setting: str | None = credentials.get("key")
        self.secret_setting: str | None = credentials.get("secret")
        regions = spec.get("regions") or {"default": "", "hosts": {"": {}}}
        self.region_setting: str | None = regions.get("setting")
        self.default_region: str = regions["default"]
        self.hosts: dict[str, dict[str, str]] = {
            name: {k: v for k, v in hosts.items() if k != "names"} for name, hosts in regions["hosts"].items()}
        self.region_names: dict[str, str] = {}
        for name, hosts in regions["hosts"].items():
            self.region_names[name] = name
            for other in hosts.get("names", []):
                self.region_names[other] = name
        if self.default_region not in self.hosts:
            raise RuleError(f"regions.default {self.default_region!r} is not one of the regions "
                            f"({', '.join(self.hosts)})", file=file, path="$.delivery.regions.default")
        self.alternate_setting: str | None = (spec.get("alternate") or {}).get("setting")
        self.targets: dict[str, dict] = dict(spec["targets"])
        self.responses: list[Response] = []
        for number, entry in enumerate(spec["responses"]):
            where = f"$.delivery.responses[{number}]"
            when = None
            if entry.get("when"):
                try:
                    when = jmespath.compile(entry["when"])
                except jmespath.exceptions.JMESPathError as exc:
                    raise RuleError(f"when {entry['when']!r} is not a JMESPath expression: {exc}", file=file,
                                    path=f"{where}.when") from None
            low, high = entry["status"]
            self.responses.append(Response(
                low=low, high=high, when=when, outcome=entry["outcome"], reason=entry.get("reason", ""),
                wait=entry.get("wait"), items=tuple((i["list"], i.get("reason", "")) for i in entry.get("items", [])),
                quota=tuple((q["list"], q["field"], q["reason"]) for q in entry.get("quota", []))))
        retry = spec.get("retry", {})
        self.attempts: int = retry.get("attempts", 10)
        self.first_wait: float = float(retry.get("first_wait", 0.5))
        self.max_wait: float = float(retry.get("max_wait", 30))
        self.give_up_after: float = float(retry.get("give_up_after", 600))
        for name, target in self.targets.items():
            for url in (target["url"], (target.get("alternate") or {}).get("url")):
                if url is not None:
                    self._host_of(url, name)

    # ---------------------------------------------------------------- routes

    def region(self, chosen: str | None, settings: dict) -> str:
        """The region a run sends to: ``chosen`` (--region), else the settings' region setting,
        else the default; a name no region has is an error naming where it came from."""
        if chosen:
            if chosen not in self.region_names:
                raise SettingsError(f"--region {chosen!r}: the regions are {', '.join(sorted(self.hosts))}")
            return self.region_names[chosen]
        value = settings.get(self.region_setting) if self.region_setting else None
        if isinstance(value, str) and value in self.region_names:
            return self.region_names[value]
        return self.default_region  # an unknown or empty region setting: the default, as the platform does

    def alternate(self, chosen: bool, settings: dict) -> bool:
        """Whether the targets' ``alternate`` URLs are used: --batch-api, or the setting that says so."""
        return chosen or (bool(settings.get(self.alternate_setting)) if self.alternate_setting else False)

    def credentials(self, settings: dict) -> tuple[str, str]:
        """The key and the secret (empty when not set) as the settings hold them."""
        key = settings.get(self.key_setting) if self.key_setting else ""
        secret = settings.get(self.secret_setting) if self.secret_setting else ""
        return (key if isinstance(key, str) else ""), (secret if isinstance(secret, str) else "")

    def routes(self, settings: dict, region: str, alternate: bool, endpoint: str | None) -> dict[str, Route]:
        """Each target's route for a run: its URL (``endpoint`` in place of the region's host where
        given), its limits, and its request's bytes around the items. A request that needs the key
        when the settings have none is a ``SettingsError`` naming the setting; one that needs the
        secret when they have none is a route whose items fail (``Route.unusable``)."""
        key, secret = self.credentials(settings)
        routes = {}
        for name, target in self.targets.items():
            other = target.get("alternate") if alternate else None
            url = (other or target)["url"]
            host, path = self._host_of(url, name)
            base = endpoint.rstrip("/") if endpoint else self.hosts[region].get(host)
            if base is None:
                raise RuleError(f"target {name}: region {region!r} has no host {host!r}", file=self.file,
                                path=f"$.delivery.targets.{name}.url")
            body = target.get("json", target.get("form"))
            uses = _placeholders(body)
            if "$key" in uses and not key:
                raise SettingsError(f"is empty, and target {name} is sent with it", self.key_setting or "key")
            unusable = ""
            if (target.get("auth") == "basic" or "$secret" in uses) and not (key and secret):
                what = self.secret_setting if not secret else self.key_setting
                unusable = f"the settings have no {what}, which {name} requests need (HTTP Basic)"
            values = {"$key": key, "$secret": secret}
            values.update({f"$setting.{name}": value for name, value in settings.items()})
            head, between, tail = _framing(name, body, "form" in target, values, self.file)
            routes[name] = Route(
                target=name, url=base + path, form="form" in target, basic=target.get("auth") == "basic",
                head=head, between=between, tail=tail,
                max_items=(other or {}).get("max_items", target["max_items"]),
                max_bytes=(other or {}).get("max_bytes", target.get("max_bytes", math.inf)),
                interval=float(target.get("interval", 0.0)), identity=tuple(target["identity"]),
                dedup=target.get("dedup"), unusable=unusable)
        return routes

    def _host_of(self, url: str, target: str) -> tuple[str, str]:
        """``{ingest}/v1/events`` -> (``ingest``, ``/v1/events``)."""
        if not url.startswith("{") or "}" not in url:
            raise RuleError(f"target {target}: url {url!r} must start with a region's host, as {{ingest}}/path",
                            file=self.file, path=f"$.delivery.targets.{target}.url")
        host, _, path = url[1:].partition("}")
        if not any(host in hosts for hosts in self.hosts.values()):
            raise RuleError(f"target {target}: url {url!r} names host {host!r}, which no region has",
                            file=self.file, path=f"$.delivery.targets.{target}.url")
        return host, path

    # ---------------------------------------------------------------- answers

    def answer(self, status: int, text: bytes, count: int, bodies: list[dict] | None = None,
               secrets: tuple[str, ...] = ()) -> Answer:
        """What an answer means for a request of ``count`` items (``bodies``: the items decoded,
        needed only by quota lists). Reasons never hold a secret."""
        try:
            decoded = json.loads(text) if text else None
        except (ValueError, UnicodeDecodeError, RecursionError):
            decoded = None
        fields = decoded if isinstance(decoded, dict) else {}
        for response in self.responses:
            if response.matches(status, decoded):
                break
        else:
            response = Response(0, 0, None, "refuse", "the answer {status} means nothing known", None, (), ())
        reason = _hide(_fill(response.reason, fields, status=status), secrets) or f"answered {status}"
        refused: dict[int, str] = {}
        listed: list[int] = []
        for name, why in response.items:
            for index, field in _indexes(fields.get(name), count):
                listed.append(index)
                if response.outcome == "refuse":
                    text_why = _fill(why, fields, status=status, field=field) if why else reason
                    refused.setdefault(index, _hide(f"{text_why} ({status})", secrets))
        if response.outcome == "refuse" and not refused:
            refused = {index: f"{reason} ({status})" for index in range(count)}
        if response.outcome == "throttle":
            for name, field, why in response.quota:
                over = fields.get(name)
                if isinstance(over, dict) and bodies is not None:
                    for index, body in enumerate(bodies):
                        value = body.get(field) if isinstance(body, dict) else None
                        if isinstance(value, str) and value in over:
                            refused.setdefault(index, _hide(f"{why} ({status})", secrets))
        wait = float(response.wait) if response.wait is not None else 0.0
        return Answer(response.outcome, reason, refused, tuple(i for i in listed if i not in refused), wait)


def find_delivery(folder: Path) -> Path | None:
    """The delivery description of a rule set folder: its YAML file whose top key is ``delivery``."""
    from .yamlsource import load_yaml_file

    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            document = load_yaml_file(path)
        except RuleError:
            continue
        if isinstance(document, dict) and "delivery" in document:
            return path
    return None


def load_delivery(folder: Path, schemas: Any) -> Delivery:
    """The rule set's delivery description, checked against its schema; ``RuleError`` where there
    is none or it is wrong (file, line, JSON path)."""
    from .loader import validate_rule_document
    from .yamlsource import load_yaml_file, plain

    path = find_delivery(folder)
    if path is None:
        raise RuleError("this rule set has no delivery description (a YAML file whose top key is "
                        "'delivery'): its outputs cannot be sent", file=str(folder))
    document = load_yaml_file(path)
    validate_rule_document(document, str(path), schemas, DELIVERY_SCHEMA)
    return Delivery(plain(document), str(path))


# ---------------------------------------------------------------- helpers

def _placeholders(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value} if value.startswith("$") else set()
    if isinstance(value, dict):
        return set().union(*(_placeholders(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_placeholders(v) for v in value))
    return set()


def _framing(target: str, body: Any, form: bool, values: dict, file: str) -> tuple[bytes, bytes, bytes]:
    """The bytes before, between and after the items of a request made from ``body``."""

    def fill(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("$"):
            if value == "$items":
                return _MARK
            if value == "$item":
                return _MARK
            if value not in values:
                raise RuleError(f"target {target}: {value} names nothing (the placeholders are $key, $secret, "
                                "$items, $item and $setting.NAME, NAME a setting of the catalog)",
                                file=file, path=f"$.delivery.targets.{target}")
            return values[value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    filled = fill(body)
    single = "$item" in _placeholders(body)
    if form:
        pairs = []
        for name, value in filled.items():
            text = value if isinstance(value, str) else json.dumps(value)
            pairs.append(quote(name, safe="") + "=" + (_MARK if text == _MARK else quote(text, safe="")))
        text = "&".join(pairs)
        open_, comma, close = (quote("["), quote(","), quote("]")) if not single else ("", "", "")
    else:
        text = json.dumps(filled, ensure_ascii=False, separators=(",", ":")).replace(json.dumps(_MARK), _MARK)
        open_, comma, close = ("[", ",", "]") if not single else ("", "", "")
    if text.count(_MARK) != 1:
        raise RuleError(f"target {target}: its request must hold $items (or $item) once", file=file,
                        path=f"$.delivery.targets.{target}")
    before, after = text.split(_MARK)
    return (before + open_).encode(), comma.encode(), (close + after).encode()


def _indexes(listed: Any, count: int) -> list[tuple[int, str]]:
    """(index, field) for each item an answer lists: an array of indexes, or an object of
    field: indexes. Indexes out of range are left out."""
    found: list[tuple[int, str]] = []
    if isinstance(listed, list):
        found = [(i, "") for i in listed if isinstance(i, int) and not isinstance(i, bool)]
    elif isinstance(listed, dict):
        for field, indexes in listed.items():
            if isinstance(indexes, list):
                found += [(i, str(field)) for i in indexes if isinstance(i, int) and not isinstance(i, bool)]
    return [(i, f) for i, f in found if 0 <= i < count]


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def _fill(template: str, fields: dict, **more: Any) -> str:
    values = _Blank({k: (v if isinstance(v, str) else json.dumps(v)) for k, v in fields.items()})
    values.update({k: str(v) for k, v in more.items()})
    try:
        return template.format_map(values)
    except (ValueError, IndexError, AttributeError, KeyError):
        return template


def _hide(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text[:500]
