"""Messages that cannot be translated are rejected with a located reason, and never stop the run:
invalid input, outputs Amplitude would refuse, and odd JSON."""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from support import API_KEY, outcome


def _rejected(message, settings=None):
    result = outcome("server", settings or {}, message)
    assert isinstance(result, dict), result
    return result["rejected"]


@pytest.mark.parametrize("message, path, words", [
    ({"userId": "user-12345", "event": "x"}, "$.type", "'type' is required"),
    ({"type": "bogus", "userId": "user-12345"}, "$.type", "unknown message type"),
    ({"type": "track", "event": "x"}, "$", "userId or an anonymousId"),
    ({"type": "track", "userId": "user-12345"}, "$.event", "'event' is required"),
    ({"type": "track", "userId": "user-12345", "event": "x", "timestamp": "yesterday"}, "$.timestamp", "ISO 8601"),
    ({"type": "track", "userId": "user-12345", "event": "x", "timestamp": "2016-13-45"}, "$.timestamp",
     "not a real date"),
    ({"type": "track", "userId": "user-12345", "event": "x", "context": {"device": "phone"}}, "$.context.device",
     "not of type 'object'"),
    ({"type": "track", "userId": "user-12345", "event": "Order Completed", "properties": {"products": ["x"]}},
     "$.properties.products[0]", "must be an object"),
    ({"type": "track", "userId": "user-12345", "event": "x", "context": {"device": {"id": 42}}},
     "$.context.device.id", "not of type"),
])
def test_invalid_input_names_the_json_path(message, path, words):
    rejected = _rejected(message)
    assert rejected["path"] == path and words in rejected["error"]
    assert rejected["input"] == 1


@pytest.mark.parametrize("user_id", ["null", "undefined", "anonymous", "0", "-1",
                                     "00000000-0000-0000-0000-000000000000"])
def test_placeholder_ids_are_refused(user_id):
    rejected = _rejected({"type": "track", "userId": user_id, "event": "x"})
    assert rejected["path"] == "$.user_id" and rejected["output"] == "httpapi" and "refuses" in rejected["error"]


def test_short_ids_are_refused_unless_min_id_length_allows_them():
    message = {"type": "identify", "userId": "1234"}
    rejected = _rejected(message)
    assert rejected["path"] == "$.user_id" and "shorter than 5 characters" in rejected["error"]
    assert outcome("server", {"minIdLength": 4}, message)[0]["body"]["user_id"] == "1234"
    assert _rejected({"type": "track", "anonymousId": "abc", "event": "x"})["path"] == "$.device_id"


def test_increment_of_a_non_number_is_refused_and_numeric_text_is_converted():
    settings = {"traitsToIncrement": ["logins"]}
    rejected = _rejected({"type": "identify", "userId": "user-12345", "traits": {"logins": "many"}}, settings)
    assert rejected["path"] == "$.user_properties['$add'].logins" and "numbers only" in rejected["error"]
    [output] = outcome("server", settings, {"type": "identify", "userId": "user-12345", "traits": {"logins": "2"}})
    assert output["body"]["user_properties"] == {"$add": {"logins": 2}}


def test_time_before_1970_is_refused():
    rejected = _rejected({"type": "track", "userId": "user-12345", "event": "x", "timestamp": "1960-01-01"})
    assert rejected["path"] == "$.time"


@pytest.mark.parametrize("integrations", [{"Amplitude": False}, {"All": False}, {"All": False, "Amplitude": False}])
def test_messages_turned_off_for_the_destination_send_nothing(integrations):
    message = {"type": "track", "userId": "user-12345", "event": "x", "integrations": integrations}
    assert outcome("server", {}, message) == []


@pytest.mark.parametrize("integrations", [{"All": False, "Amplitude": True},
                                          {"All": False, "Amplitude": {"groups": {"a": "b"}}}])
def test_all_off_but_amplitude_on_is_sent(integrations):
    message = {"type": "track", "userId": "user-12345", "event": "x", "integrations": integrations}
    assert len(outcome("server", {}, message)) == 1


def test_odd_json_never_stops_the_run(tmp_path, capsys):
    settings = tmp_path / "s.json"
    settings.write_text(json.dumps({"apiKey": API_KEY}))
    track = {"type": "track", "userId": "user-12345", "event": "x"}
    lines = [
        json.dumps({**track, "properties": {"revenue": 10 ** 400}}),  # valid JSON, but no number Amplitude reads
        '{"type":"track","userId":"user-12345","event":"x","properties":{"revenue":1e400}}',  # no double holds it
        '{"type":"track","userId":"user-12345","event":"x","properties":{"v":NaN}}',  # not JSON
        '{"type":"track","userId":"user-12345","event":"\\ud800"}',  # a lone surrogate
        "[" * 100_000 + "]" * 100_000,  # nested too deeply
        json.dumps({**track, "event": "last"}),
    ]
    path = tmp_path / "in.ndjson"
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"type":"track","userId":"user-12345","event":"\xff"}\n')
    code = main(["translate", "-p", "server", "-s", str(settings), str(path)])
    captured = capsys.readouterr()
    assert code == 1
    outputs = [json.loads(line) for line in captured.out.splitlines()]
    assert [o["input"] for o in outputs] == [6]
    rejects = {json.loads(line)["input"]: json.loads(line) for line in captured.err.splitlines() if line[0] == "{"}
    assert sorted(rejects) == [1, 2, 3, 4, 5, 7]
    assert rejects[1]["path"] == "$.revenue" and rejects[1]["output"] == "httpapi"
    assert "too large" in rejects[2]["error"] and "NaN is not JSON" in rejects[3]["error"]
    assert "not valid Unicode" in rejects[4]["error"] and "nested deeper than 512 levels" in rejects[5]["error"]
    assert "not valid Unicode" in rejects[7]["error"]
    assert captured.err.strip().splitlines()[-1] == (
        "seg2amp: 7 messages read, 1 translated, 6 rejected, 1 outputs written")


@pytest.mark.parametrize("value, path, kind", [
    ({"products": ({"productId": "a", "price": 1},)}, "$.properties.products", "tuple"),
    ({"tags": ["a", {"b"}]}, "$.properties.tags[1]", "set"),
    ({"when": __import__("datetime").date(2020, 1, 1)}, "$.properties.when", "date"),
    ({"price": __import__("decimal").Decimal("1.5")}, "$.properties.price", "Decimal"),
    ({1: "one"}, "$.properties", "int"),
])
def test_the_python_api_refuses_values_that_are_not_json(value, path, kind):
    """The CLI reads JSON; a caller of the Python API may pass any Python value. One that is not a
    JSON value is rejected where it is, by translate, translate_all and explain alike, instead of
    being judged one way by the schema check and another by the rules (a tuple is no array to
    them) or sent on as it is."""
    import engine

    translator = engine.load("server", {"apiKey": API_KEY, "trackRevenuePerProduct": True})
    message = {"type": "track", "event": "Order Completed", "userId": "user-12345", "properties": value}
    with pytest.raises(engine.Rejected) as info:
        translator.translate(message, 3)
    assert (info.value.path, info.value.index) == (path, 3) and f"a {kind} is not a JSON value" in info.value.message
    [result] = translator.translate_all([message])
    assert result.error is not None and result.error.path == path
    assert translator.explain(message, 1).rejected["path"] == path


def test_a_rejection_reads_as_a_sentence():
    """Issue 14 item 10: ``str(engine.Rejected)`` says who is rejected, where and why."""
    import engine

    translator = engine.load("server", {"apiKey": API_KEY})
    with pytest.raises(engine.Rejected) as info:
        translator.translate({"type": "group", "userId": "user-12345"})
    assert str(info.value).startswith("the message is rejected at $.groupId: a group call needs")
    results = list(translator.translate_all([{"type": "track", "userId": "user-12345", "event": "E"},
                                             {"type": "group", "userId": "user-12345"}]))
    assert [r.index for r in results] == [1, 2]  # numbered from 1, as the command line numbers them
    assert str(results[1].error).startswith("message 2 is rejected at $.groupId: ")
