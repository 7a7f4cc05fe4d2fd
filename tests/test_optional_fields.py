"""Issue 13 item 4: a field of the wrong type that only feeds an optional output field does not lose
the message. It is translated without that field, and a warning record says which field and why
(the rejects stream, the Python API, ``explain``). What an output cannot exist without (the type,
the event name, the ids, groupId, previousId, ...) still rejects the message. Which input fields
may be dropped is declared by the rules (``input.optional`` in ``rules/amplitude/_common.yaml``)."""

from __future__ import annotations

import copy
import json

import pytest

import engine
from engine.cli import main
from support import API_KEY, translator

PLATFORMS = ["server", "web", "ios", "android"]
TRACK = {"type": "track", "event": "Song Played", "userId": "user-12345", "messageId": "m-1",
         "properties": {"title": "Hey"},
         "context": {"library": {"name": "analytics-ios", "version": "4.0"}, "ip": "8.8.8.8",
                     "device": {"id": "device-123", "type": "ios", "model": "iPhone7,2"}}}


def _with(message: dict, path: str, value) -> dict:
    changed = copy.deepcopy(message)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return changed


def _without(message: dict, path: str) -> dict:
    changed = copy.deepcopy(message)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node[key]
    del node[last]
    return changed


def _translate(platform: str, message: dict, settings: dict | None = None):
    warnings: list = []
    outputs = translator(platform, settings).translate(message, 7, warnings=warnings)
    return outputs, [w.as_record() for w in warnings]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_wrong_typed_library_name_is_dropped_with_a_warning(platform):
    """Segment's server integration sends such an event: the library name only picks `platform`."""
    message = _with(TRACK, "context.library.name", 42)
    outputs, warnings = _translate(platform, message)
    expected, none = _translate(platform, _without(message, "context.library.name"))
    assert outputs == expected and outputs and none == []
    assert warnings == [{"input": 7, "warning": warnings[0]["warning"], "path": "$.context.library.name"}]
    assert "42 is not of type 'string'" in warnings[0]["warning"]
    assert message["context"]["library"]["name"] == 42  # the caller's message is left as it was


def test_the_server_event_goes_out_without_the_field_only():
    outputs, warnings = _translate("server", _with(TRACK, "context.library.name", 42))
    [event] = outputs
    assert event["body"]["event_type"] == "Song Played"
    assert event["body"]["platform"] == "iOS"  # from context.device.type (normalised), the next source
    assert event["body"]["ip"] == "8.8.8.8" and event["body"]["insert_id"] == "m-1"
    assert [w["path"] for w in warnings] == ["$.context.library.name"]


@pytest.mark.parametrize(("path", "value"), [
    ("context.library", 42),
    ("context.library.version", ["4"]),
    ("context.ip", 8888),
    ("context.locale", 5),
    ("context.traits", "vip"),
    ("context.device.model", 7),
    ("context.device.advertisingId", 1),
    ("context.os", "iOS"),
    ("context.location", [1, 2]),
    ("context.page", "home"),
    ("integrations.Amplitude.session_id", "soon"),
    ("integrations.Amplitude.groups", ["acme"]),
    ("integrations.Amplitude.outOfSession", "yes"),
    ("sentAt", "yesterday"),
    ("context.os.name", 42),
    ("context.os.version", 15),
    ("context.network.carrier", ["T"]),
    ("context.app.version", 3),
    ("context.location.latitude", True),
    ("context.location.city", 1),
    ("context.page.referrer", 42),
])
def test_optional_fields_of_the_wrong_type_are_dropped(path, value):
    message = _with(TRACK, path, value)
    for platform in PLATFORMS:
        outputs, warnings = _translate(platform, message)
        assert outputs == _translate(platform, _without(message, path))[0], platform
        assert [w["path"] for w in warnings] == ["$." + path], platform


def test_the_warning_gives_the_schema_s_reason():
    _, warnings = _translate("server", _with(TRACK, "integrations.Amplitude.session_id", "soon"))
    assert [w["path"] for w in warnings] == ["$.integrations.Amplitude.session_id"]
    assert "session's start time" in warnings[0]["warning"]


def test_a_wrong_field_inside_the_context_loses_only_itself():
    """The fields inside context.os, context.location, ... that feed an output field are typed in
    the input schema, as the outputs take them, so that a wrong one is dropped, not the message
    (before, the output was refused and the message with it)."""
    message = _with(_with(TRACK, "context.os", {"name": 42, "version": "17.1"}), "context.location",
                    {"city": ["x"], "country": "France"})
    outputs, warnings = _translate("server", message)
    assert [w["path"] for w in warnings] == ["$.context.os.name", "$.context.location.city"]
    [event] = outputs
    assert (event["body"]["os_version"], event["body"]["country"]) == ("17.1", "France")
    assert "os_name" not in event["body"] and "city" not in event["body"]
    page = {"type": "page", "userId": "user-12345", "name": "Home", "context": {"page": {"referrer": 42}}}
    outputs, warnings = _translate("web", page, {"trackNamedPages": True})
    assert [w["path"] for w in warnings] == ["$.context.page.referrer"]
    assert [o["target"] for o in outputs] == ["sdk.logEvent"]


def test_each_wrong_field_is_its_own_warning_and_good_neighbours_stay():
    message = _with(_with(TRACK, "context.library.name", 42), "context.ip", 1)
    outputs, warnings = _translate("server", message)
    assert sorted(w["path"] for w in warnings) == ["$.context.ip", "$.context.library.name"]
    [event] = outputs
    assert "ip" not in event["body"] and event["body"]["device_model"] == "iPhone7,2"


@pytest.mark.parametrize(("message", "path"), [
    (_with(TRACK, "event", 42), "$.event"),
    (_with(TRACK, "userId", 42), "$.userId"),
    (_with(_without(TRACK, "userId"), "anonymousId", 42), "$.anonymousId"),
    (_with(TRACK, "context.device.id", 42), "$.context.device.id"),
    (_with(TRACK, "context.device", "phone"), "$.context.device"),
    (_with(TRACK, "context", "web"), "$.context"),
    (_with(TRACK, "messageId", 42), "$.messageId"),
    (_with(TRACK, "timestamp", "yesterday"), "$.timestamp"),
    (_with(TRACK, "type", 42), "$.type"),
    (_with(TRACK, "integrations.Amplitude.unmap", 42), "$.integrations.Amplitude"),
    (_with(TRACK, "properties.products", "many"), "$.properties.products"),
    (_with(TRACK, "properties", "nothing"), "$.properties"),
    ({"type": "group", "userId": "user-12345", "groupId": 42}, "$.groupId"),
    ({"type": "identify", "userId": "user-12345", "traits": "vip"}, "$.traits"),
    ({"type": "alias", "userId": "user-12345", "previousId": 42}, "$.previousId"),
    ({"type": "page", "userId": "user-12345", "name": 42}, "$.name"),
])
def test_what_an_output_cannot_exist_without_still_rejects(message, path):
    """Ids, the event name, the type, groupId, previousId, traits (the whole content of an identify,
    and the group's type and name on Android), properties (their products make outputs of their
    own), the message's id and time: still a rejection, with the located reason and no warning."""
    warnings: list = []
    with pytest.raises(engine.Rejected) as rejected:
        translator("server", {"trackNamedPages": True}).translate(message, 3, warnings=warnings)
    assert rejected.value.path.startswith(path) and warnings == []


def test_a_dropped_field_and_a_real_fault_still_reject():
    message = _with(_with(TRACK, "context.library.name", 42), "event", 42)
    with pytest.raises(engine.Rejected) as rejected:
        translator("server").translate(message, 1)
    assert rejected.value.path == "$.event"


def test_translate_all_gives_the_warnings_of_each_message():
    messages = [TRACK, _with(TRACK, "context.ip", 1), _with(TRACK, "event", 1)]
    results = list(translator("server").translate_all(messages))
    assert [r.warnings for r in results][0] == [] and results[2].error is not None
    [warning] = results[1].warnings
    assert isinstance(warning, engine.FieldDropped)
    assert (warning.index, warning.path) == (2, "$.context.ip") and results[1].outputs


def test_explain_says_which_field_was_dropped_and_why(tmp_path, capsys):
    settings = tmp_path / "s.json"
    settings.write_text(json.dumps({"apiKey": API_KEY}))
    message = tmp_path / "m.json"
    message.write_text(json.dumps(_with(TRACK, "context.library.name", 42)))
    code = main(["explain", "-p", "server", "-s", str(settings), str(message)])
    out = capsys.readouterr().out
    assert code == 0
    assert "dropped $.context.library.name: 42 is not of type 'string'" in out
    assert "_common.yaml" in out  # where the rules declare the field optional
    explanation = translator("server").explain(_with(TRACK, "context.library.name", 42), 1)
    assert [d["path"] for d in explanation.as_dict()["dropped"]] == ["$.context.library.name"]
    assert explanation.rejected is None and explanation.outputs


def _cli(capsys, tmp_path, lines, jobs, name="in.ndjson"):
    settings = tmp_path / "s.json"
    settings.write_text(json.dumps({"apiKey": API_KEY}))
    path = tmp_path / name
    path.write_text("".join(json.dumps(m) + "\n" for m in lines))
    rejects = tmp_path / f"rejects-{jobs}.ndjson"
    code = main(["translate", "-p", "server", "-s", str(settings), "--jobs", str(jobs), "--rejects", str(rejects),
                 str(path)])
    out, err = capsys.readouterr()
    return code, out, rejects.read_text(), err.strip().splitlines()[-1]


def test_warnings_go_to_the_rejects_stream_and_the_summary(tmp_path, capsys):
    lines = [TRACK, _with(TRACK, "context.library.name", 42), _with(TRACK, "event", 1),
             _with(_with(TRACK, "context.ip", 1), "context.os", "iOS"), _with(TRACK, "sentAt", 3)]
    code, out, rejects, summary = _cli(capsys, tmp_path, lines, 1)
    records = [json.loads(line) for line in rejects.splitlines()]
    assert records[0] == {"input": 2, "warning": records[0]["warning"], "path": "$.context.library.name",
                          "file": str(tmp_path / "in.ndjson"), "line": 2}
    assert [(r["input"], "error" in r) for r in records] == [(2, False), (3, True), (4, False), (4, False),
                                                             (5, False)]
    assert summary == "seg2amp: 5 messages read, 1 translated, 3 translated with warnings, 1 rejected, " \
                      "4 outputs written"
    assert code == 1  # for the rejected message; warnings alone leave the exit status 0
    assert len(out.splitlines()) == 4
    code, _, _, summary = _cli(capsys, tmp_path, [TRACK, _with(TRACK, "context.ip", 1)], 1)
    assert code == 0 and summary == "seg2amp: 2 messages read, 1 translated, 1 translated with warnings, " \
                                    "0 rejected, 2 outputs written"


def test_warnings_are_the_same_whatever_the_jobs(tmp_path, capsys):
    lines = []
    for number in range(3000):
        message = _with(TRACK, "messageId", f"m-{number}")
        if number % 7 == 0:
            message = _with(message, "context.library.name", number)
        if number % 11 == 0:
            message = _with(message, "event", number)
        lines.append(message)
    one = _cli(capsys, tmp_path, lines, 1)
    two = _cli(capsys, tmp_path, lines, 2)
    assert one == two
    assert '"warning"' in one[2] and '"error"' in one[2] and "translated with warnings" in one[3]
