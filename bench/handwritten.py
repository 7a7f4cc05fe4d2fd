"""A hand-written translator used ONLY as the benchmark's yardstick: how fast a direct Python
translation of the same messages can go. The product never uses it; the YAML rules and the engine
remain the definition of the translation.

It is fixed to cloud mode (platform server) with the benchmark's settings (``SETTINGS``, every other
setting at its catalog default) and covers what bench/corpus.py generates: track (with revenue),
Order Completed with products, page, screen and identify. It gives the same outputs as
``engine.load("server", SETTINGS).translate(message)`` for those messages, with the same keys in
the same order, and raises ``ValueError`` where the engine rejects one. Rule features the corpus
never exercises (integrations options, session ids, context.traits, groups, mapQueryParams, the
price/quantity/productId lift of a track with revenue, group, alias, delete) are left out.

    python bench/handwritten.py [--messages N] [--seed S]    # agreement with the engine
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

SETTINGS = {"apiKey": "0123456789abcdef0123456789abcdef", "trackNamedPages": True, "trackAllPages": True,
            "traitsToIncrement": ["logins"], "minIdLength": 5}

MIN_ID_LENGTH = SETTINGS["minIdLength"]
INCREMENT = frozenset(SETTINGS["traitsToIncrement"])
PLATFORMS = {"analytics.js": "Web", "analytics-ios": "iOS", "analytics-android": "Android"}
DEVICE_TYPES = {"ios": "iOS", "android": "Android", "web": "Web"}  # device types spelt as Segment does
# Ids Amplitude refuses whatever their length (schemas/amplitude/ids.schema.json).
PLACEHOLDER_IDS = frozenset({"anonymous", "nil", "none", "null", "n/a", "na", "undefined", "unknown", '""',
                             "00000000-0000-0000-0000-000000000000", "{}", "lmy47d", "0", "-1"})
ORDER_EVENTS = ("Order Completed", "Completed Order")
_EMPTY: dict = {}
MISSING = (None, "")  # what the engine counts as no value: absent, null or empty text
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def epoch_millis(timestamp: str) -> int:
    """ISO 8601 text to milliseconds since 1970 (UTC when no offset); ValueError if no real moment."""
    if (len(timestamp) == 24 and timestamp[4] == "-" and timestamp[7] == "-" and timestamp[10] == "T"
            and timestamp[13] == ":" and timestamp[16] == ":" and timestamp[19] == "." and timestamp[23] == "Z"):
        # The usual shape, 2026-11-01T12:34:56.789Z, by arithmetic.
        hour, minute, second = int(timestamp[11:13]), int(timestamp[14:16]), int(timestamp[17:19])
        if hour < 24 and minute < 60 and second < 60:
            days = date(int(timestamp[:4]), int(timestamp[5:7]), int(timestamp[8:10])).toordinal() - _EPOCH_DAY
            return (((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + int(timestamp[20:23])
    text = timestamp.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def to_number(value: Any) -> int | float | None:
    """A number as is, numeric text converted ("32" -> 32, "9.5" -> 9.5); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _check_id(name: str, value: Any) -> None:
    if not isinstance(value, str) or len(value) > 1024 or value in PLACEHOLDER_IDS:
        raise ValueError(f"Amplitude refuses the {name} {value!r}")
    if len(value) < MIN_ID_LENGTH:
        raise ValueError(f"{name} {value!r} is shorter than {MIN_ID_LENGTH} characters")


def _envelope(message: dict, context: dict) -> dict:
    """user_id, device_id and time, in output order; checks the ids."""
    fields = {}
    user_id = message.get("userId")
    if user_id not in MISSING:
        _check_id("user_id", user_id)
        fields["user_id"] = user_id
    device_id = (context.get("device") or _EMPTY).get("id")
    if device_id in MISSING:
        device_id = message.get("anonymousId")
    if device_id not in MISSING:
        _check_id("device_id", device_id)
        fields["device_id"] = device_id
    elif "user_id" not in fields:
        raise ValueError("an Amplitude event needs a user_id or a device_id")
    timestamp = message.get("timestamp")
    if timestamp is not None:
        try:
            fields["time"] = epoch_millis(timestamp)
        except ValueError:
            raise ValueError(f"timestamp {timestamp!r} is not a real date and time") from None
    return fields


def _context_fields(context: dict) -> dict:
    """The context fields every output carries, in output order (missing values left out)."""
    device = context.get("device") or _EMPTY
    os_ = context.get("os") or _EMPTY
    network = context.get("network") or _EMPTY
    location = context.get("location") or _EMPTY
    os_name = os_.get("name")
    os_kind = os_name.lower() if isinstance(os_name, str) else None
    advertising_id = device.get("advertisingId") or device.get("idfa")
    locale = context.get("locale")
    device_type = device.get("type")
    latitude, longitude = to_number(location.get("latitude")), to_number(location.get("longitude"))
    fields = {
        "ip": context.get("ip"),
        "platform": (PLATFORMS.get((context.get("library") or _EMPTY).get("name"))
                     or (DEVICE_TYPES.get(device_type.lower()) if isinstance(device_type, str) else None)
                     or device_type),
        "os_name": os_name,
        "os_version": os_.get("version"),
        "device_model": device.get("model"),
        "device_brand": device.get("brand"),
        "device_manufacturer": device.get("manufacturer"),
        "carrier": network.get("carrier"),
        "app_version": (context.get("app") or _EMPTY).get("version"),
        "location_lat": latitude if latitude is not None and -90 <= latitude <= 90 else None,
        "location_lng": longitude if longitude is not None and -180 <= longitude <= 180 else None,
        "city": location.get("city"),
        "region": location.get("region"),
        "country": location.get("country"),
        "language": locale if isinstance(locale, str) else (locale or _EMPTY).get("language"),
        "idfa": advertising_id if os_kind == "ios" else None,
        "adid": advertising_id if os_kind == "android" else None,
    }
    return {key: value for key, value in fields.items() if value not in MISSING}


def _finish(body: dict, envelope: dict, insert_id: str | None, context_fields: dict) -> dict:
    body.update(envelope)
    if insert_id:
        body["insert_id"] = insert_id
    body.update(context_fields)
    body["library"] = "segment"
    return body


def translate(message: dict) -> list[dict]:
    """The outputs ``[{"target": ..., "body": ...}]`` of one message; ValueError when refused."""
    context = message.get("context") or _EMPTY
    envelope = _envelope(message, context)
    context_fields = _context_fields(context)
    message_id = message.get("messageId")
    if message_id in MISSING:
        message_id = None
    kind = message.get("type")
    if kind == "track":
        return _track(message, envelope, message_id, context_fields)
    if kind == "page" or kind == "screen":
        return _page_or_screen(message, kind, envelope, message_id, context_fields)
    if kind == "identify":
        return _identify(message, envelope, message_id, context_fields)
    raise ValueError(f"message type {kind!r} is not handled by the yardstick")


def _track(message: dict, envelope: dict, message_id: str | None, context_fields: dict) -> list[dict]:
    """One event with the properties as given and the revenue as a number; Order Completed split."""
    properties = message.get("properties")
    event = message.get("event")
    if event in MISSING:
        raise ValueError("a track needs an event name (Amplitude's event_type)")
    if event in ORDER_EVENTS and isinstance((properties or _EMPTY).get("products"), list):
        return _order_completed(event, properties, envelope, message_id, context_fields)
    body = {"event_type": event}
    if properties is not None:
        body["event_properties"] = properties
    _finish(body, envelope, message_id, context_fields)
    revenue = to_number((properties or _EMPTY).get("revenue"))
    if revenue is not None:
        body["revenue"] = revenue
    return [{"target": "httpapi", "body": body}]


def _order_completed(event: str, properties: dict, envelope: dict, message_id: str | None,
                     context_fields: dict) -> list[dict]:
    """The order (every property but products, with the revenue), then one Product Purchased per product."""
    body = {"event_type": event,
            "event_properties": {key: value for key, value in properties.items() if key != "products"}}
    _finish(body, envelope, message_id, context_fields)
    revenue = to_number(properties.get("revenue"))
    if revenue is not None:
        body["revenue"] = revenue
        revenue_type = properties.get("revenueType")
        body["revenueType"] = revenue_type if isinstance(revenue_type, str) and revenue_type else "Purchase"
    outputs = [{"target": "httpapi", "body": body}]
    for seq, product in enumerate(properties["products"], 1):
        body = {"event_type": "Product Purchased"}
        if product is not None:
            body["event_properties"] = product
        insert_id = message_id and f"{message_id}-{seq}"
        outputs.append({"target": "httpapi", "body": _finish(body, envelope, insert_id, context_fields)})
    return outputs


def _page_or_screen(message: dict, kind: str, envelope: dict, message_id: str | None,
                    context_fields: dict) -> list[dict]:
    """trackAllPages: "Loaded a Page/Screen"; then trackNamedPages, when there is a name: "Loaded
    (Category) (Name) Page" or "Viewed (Category) (Name) Screen". Both carry the properties plus
    name and category."""
    category, name = message.get("category"), message.get("name")
    properties = dict(message.get("properties") or _EMPTY)
    if name not in MISSING:
        properties["name"] = name
    if category not in MISSING:
        properties["category"] = category
    noun = "Page" if kind == "page" else "Screen"
    event_types = [f"Loaded a {noun}"]
    if name not in MISSING:
        verb = "Loaded" if kind == "page" else "Viewed"
        title = name if category in MISSING else f"{category} {name}"
        event_types.append(f"{verb} {title} {noun}")
    outputs = []
    for seq, event_type in enumerate(event_types):
        insert_id = message_id and (f"{message_id}-{seq}" if seq else message_id)
        body = _finish({"event_type": event_type}, envelope, insert_id, context_fields)
        body["event_properties"] = properties
        outputs.append({"target": "httpapi", "body": body})
    return outputs


def _identify(message: dict, envelope: dict, message_id: str | None, context_fields: dict) -> list[dict]:
    """One identification: traitsToIncrement traits under $add (numeric text as numbers), the rest under $set."""
    traits = message.get("traits") or _EMPTY
    operations = {}
    to_set = {key: value for key, value in traits.items() if key not in INCREMENT}
    if to_set:
        operations["$set"] = to_set
    to_add = {}
    for key, value in traits.items():
        if key in INCREMENT:
            number = to_number(value)
            if number is None:
                raise ValueError(f"$add (traitsToIncrement) takes numbers only: trait {key!r} is {value!r}")
            to_add[key] = number
    if to_add:
        operations["$add"] = to_add
    body = {"user_properties": operations} if operations else {}
    return [{"target": "identify", "body": _finish(body, envelope, message_id, context_fields)}]


# ---------------------------------------------------------------------------- agreement check

def _outcome(translate_one: Any, message: dict) -> str:
    """The serialised outputs (key order matters), or the fact of a refusal."""
    try:
        return json.dumps(translate_one(message), ensure_ascii=False)
    except Exception as error:  # any refusal counts as one
        return f"rejected ({type(error).__name__}: {error})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    here = Path(__file__).resolve().parent
    sys.path[:0] = [str(here), str(here.parent)]
    import corpus

    import engine

    translator = engine.load("server", SETTINGS)
    # As the benchmark sees them: parsed from JSON.
    messages = [json.loads(json.dumps(message)) for message in corpus.messages(args.messages, args.seed)]

    mismatches = 0
    first = None
    for index, message in enumerate(messages, 1):
        expected = _outcome(lambda m, i=index: translator.translate(m, i), message)
        got = _outcome(translate, message)
        if expected.startswith("rejected") and got.startswith("rejected"):
            continue
        if expected != got:
            mismatches += 1
            if first is None:
                first = (index, message, expected, got)

    start = time.perf_counter()
    for message in messages:
        try:
            translate(message)
        except ValueError:
            pass
    elapsed = time.perf_counter() - start

    print(f"seed {args.seed}: {len(messages)} messages compared, {mismatches} mismatches")
    print(f"handwritten translate: {elapsed / max(len(messages), 1) * 1e6:.2f} µs/message")
    if first is not None:
        index, message, expected, got = first
        print(f"\nfirst mismatch: message {index}\n  input:    {json.dumps(message)}")
        print(f"  engine:   {expected}\n  ours:     {got}")
        if not expected.startswith("rejected") and not got.startswith("rejected"):
            wanted, had = json.loads(expected), json.loads(got)
            if len(wanted) != len(had):
                print(f"  outputs: engine {len(wanted)}, ours {len(had)}")
            for position, (want, have) in enumerate(zip(wanted, had, strict=False)):
                if json.dumps(want) != json.dumps(have):
                    print(f"  output {position}: engine keys {list(want['body'])}\n"
                          f"            ours keys   {list(have['body'])}")
                    for key in dict.fromkeys([*want["body"], *have["body"]]):
                        if json.dumps(want["body"].get(key)) != json.dumps(have["body"].get(key)):
                            print(f"    {key}: engine {json.dumps(want['body'].get(key))}, "
                                  f"ours {json.dumps(have['body'].get(key))}")
                    break
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
