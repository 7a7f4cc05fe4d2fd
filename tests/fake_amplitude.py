"""A local fake of Amplitude's ingestion APIs, for tests, the benchmark and the README's example:
no test ever reaches Amplitude. It is a real server process on 127.0.0.1 that holds each API to
what ../shared/reference/amplitude-api.md documents:

- POST /2/httpapi and /batch (JSON: api_key, events, options.min_id_length): 400 missing_field
  without api_key, 400 "Invalid API key" for another key, 400 "Invalid JSON request body"; 413 for
  more than 2,000 events or more bytes than --max-bytes (1,000,000; /batch 20,000,000); 400 with
  events_with_missing_fields (event_type, or neither user_id nor device_id),
  events_with_invalid_id_lengths (ids shorter than min_id_length, default 5) and silenced_events
  (--silence DEVICE); 429 with throttled_devices, throttled_users and throttled_events for devices
  over --eps events in the current second, and exceeded_daily_quota_users past --daily-quota
  events a user; in each of these answers nothing of the request is stored. Stored events are
  deduplicated by insert_id, as Amplitude does for 7 days.
- POST /identify, /groupidentify (form: api_key, identification: a JSON array or object), /usermap
  (form: api_key, mapping), /api/2/deletions/users (HTTP Basic, API key : secret key; JSON).
- Faults (--seed makes them repeatable): --fail-rate answers 500 or 503 (a 500 after storing the
  request half the time: "may or may not have been ingested"), --drop-rate closes the connection
  without an answer (after storing, half the time), --slow-rate answers after --slow seconds.
- --accept-all answers every POST 200 without looking at it (nothing is checked or stored): the
  benchmark's null endpoint, to tell the fake's own cost from send's.
- GET /_stats: what was received and stored, as JSON; GET /_events: the stored events, NDJSON;
  GET /_store: every other stored object, JSON; GET /_requests: each request's path, status and
  headers (Authorization included), for checks that secrets go only where they must.

    python tests/fake_amplitude.py --port 8765 [--api-key KEY] [--fail-rate 0.1] ...

It prints "listening on http://127.0.0.1:PORT" once it serves (--port 0: a free port)."""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import msgspec

BATCH_PATHS = {"/2/httpapi": 1_000_000, "/batch": 20_000_000}
FORM_PATHS = {"/identify": "identification", "/groupidentify": "identification", "/usermap": "mapping"}
DELETIONS = "/api/2/deletions/users"


class State:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.lock = threading.Lock()
        self.random = random.Random(args.seed)
        self.events: dict[str, dict] = {}  # insert_id -> event
        self.received = 0  # events received in requests that stored them
        self.duplicates = 0
        self.store: dict[str, list] = {"identify": [], "groupidentify": [], "usermap": [], "deletions": []}
        self.statuses: dict[str, int] = {}
        self.requests: list[dict] = []
        self.second: dict[str, tuple[int, int]] = {}  # device -> (second, events)
        self.daily: dict[str, int] = {}

    def stats(self) -> dict:
        return {"events": len(self.events), "received": self.received, "duplicates": self.duplicates,
                "stored": {name: len(items) for name, items in self.store.items()}, "statuses": self.statuses,
                "requests": len(self.requests)}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        return

    def _answer(self, status: int, body: dict | None = None, text: bytes | None = None) -> None:
        data = text if text is not None else json.dumps(body if body is not None else {"code": status}).encode()
        state = self.server.state
        with state.lock:
            state.statuses[str(status)] = state.statuses.get(str(status), 0) + 1
            self._entry["status"] = status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        state = self.server.state
        with state.lock:
            self._entry = {"path": self.path, "method": "GET", "headers": dict(self.headers)}
            state.requests.append(self._entry)
            if self.path == "/_stats":
                body = json.dumps(state.stats()).encode()
            elif self.path == "/_events":
                body = "".join(json.dumps(e) + "\n" for e in state.events.values()).encode()
            elif self.path == "/_store":
                body = json.dumps(state.store).encode()
            elif self.path == "/_requests":
                body = json.dumps(state.requests[:-1]).encode()
            else:
                body = None
        if body is None:
            self._answer(404, {"code": 404, "error": "Invalid request path"})
        else:
            self._answer(200, text=body)

    def do_POST(self) -> None:  # noqa: N802
        state, args = self.server.state, self.server.state.args
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length)
        path = self.path.split("?")[0]
        if args.accept_all:  # a null endpoint: the cost of the fake itself left out of a measurement
            self._entry = {}
            self._answer(200, {"code": 200})
            return
        with state.lock:
            self._entry = {"path": path, "method": "POST", "headers": dict(self.headers), "bytes": len(data)}
            state.requests.append(self._entry)
            fault = state.random.random()
            store_first = state.random.random() < 0.5
        if fault < args.drop_rate:
            if store_first:
                self._handle(path, data)
            self.close_connection = True
            self.connection.close()
            return
        fault -= args.drop_rate
        if fault < args.fail_rate:
            if store_first:
                self._handle(path, data)
                self._answer(500, {"code": 500})
            else:
                self._answer(503, {"code": 503})
            return
        fault -= args.fail_rate
        if fault < args.slow_rate:
            time.sleep(args.slow)
        status, body = self._handle(path, data)
        self._answer(status, body)

    # ---------------------------------------------------------------- the APIs

    def _handle(self, path: str, data: bytes) -> tuple[int, dict]:
        if path in BATCH_PATHS:
            return self._events(path, data)
        if path in FORM_PATHS:
            return self._form(path, data)
        if path == DELETIONS:
            return self._deletion(data)
        return 404, {"code": 404, "error": "Invalid request path"}

    def _key_error(self, key: object) -> tuple[int, dict] | None:
        if key in (None, ""):
            return 400, {"code": 400, "error": "Request missing required field", "missing_field": "api_key"}
        if key != self.server.state.args.api_key:
            return 400, {"code": 400, "error": "Invalid API key: " + str(key)[:8]}
        return None

    def _events(self, path: str, data: bytes) -> tuple[int, dict]:
        state, args = self.server.state, self.server.state.args
        if len(data) > (args.max_bytes if path == "/2/httpapi" else BATCH_PATHS[path]):
            return 413, {"code": 413, "error": "Payload too large"}
        try:
            request = msgspec.json.decode(data)  # the project's JSON reader: the fake costs the benchmark less
        except msgspec.DecodeError:
            return 400, {"code": 400, "error": "Invalid JSON request body"}
        if not isinstance(request, dict):
            return 400, {"code": 400, "error": "Invalid JSON request body"}
        problem = self._key_error(request.get("api_key"))
        if problem:
            return problem
        events = request.get("events")
        if not isinstance(events, list):
            return 400, {"code": 400, "error": "Request missing required field", "missing_field": "events"}
        if len(events) > 2000:
            return 413, {"code": 413, "error": "Payload too large"}
        least = (request.get("options") or {}).get("min_id_length", 5)
        missing: dict[str, list[int]] = {}
        short: dict[str, list[int]] = {}
        silenced: list[int] = []
        for index, event in enumerate(events):
            if not isinstance(event, dict) or not event.get("event_type"):
                missing.setdefault("event_type", []).append(index)
                continue
            if not event.get("user_id") and not event.get("device_id"):
                missing.setdefault("user_id", []).append(index)
            for field in ("user_id", "device_id"):
                value = event.get(field)
                if isinstance(value, str) and value and len(value) < least:
                    short.setdefault(field, []).append(index)
            if event.get("device_id") in args.silence:
                silenced.append(index)
        if missing or short or silenced:
            answer: dict = {"code": 400, "error": "Invalid field values on some events"}
            if missing:
                answer["events_with_missing_fields"] = missing
            if short:
                answer["events_with_invalid_id_lengths"] = short
                answer["error"] = "Invalid id length for user_id or device_id"
            if silenced:
                answer["silenced_events"] = silenced
                answer["silenced_devices"] = sorted({events[i]["device_id"] for i in silenced})
            return 400, answer
        with state.lock:
            now = int(time.monotonic())
            per_device: dict[str, int] = {}
            throttled: list[int] = []
            devices: dict[str, int] = {}
            users: dict[str, int] = {}
            over_quota: dict[str, int] = {}
            for index, event in enumerate(events):
                device = event.get("device_id") or ""
                user = event.get("user_id") or ""
                if args.daily_quota and user and state.daily.get(user, 0) >= args.daily_quota:
                    over_quota[user] = state.daily[user]  # over before this request: all its events
                    throttled.append(index)
                    continue
                if device and args.eps:
                    second, seen = state.second.get(device, (now, 0))
                    seen = seen if second == now else 0
                    per_device[device] = per_device.get(device, seen) + 1
                    if per_device[device] > args.eps:
                        throttled.append(index)
                        devices[device] = per_device[device]
                        if user:
                            users[user] = per_device[device]
            if throttled:
                answer = {"code": 429, "error": "Too many requests for some devices and users",
                          "eps_threshold": args.eps, "throttled_devices": devices, "throttled_users": users,
                          "throttled_events": throttled}
                if over_quota:
                    answer["exceeded_daily_quota_users"] = over_quota
                return 429, answer
            for device, count in per_device.items():
                state.second[device] = (now, count)
            for event in events:
                user = event.get("user_id")
                if user:
                    state.daily[user] = state.daily.get(user, 0) + 1
                state.received += 1
                key = event.get("insert_id")
                if key is None:
                    key = f"(none)#{state.received}"
                if key in state.events:
                    state.duplicates += 1
                else:
                    state.events[key] = event
        return 200, {"code": 200, "events_ingested": len(events), "payload_size_bytes": len(data),
                     "server_upload_time": int(time.time() * 1000)}

    def _form(self, path: str, data: bytes) -> tuple[int, dict]:
        if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
            return 400, {"code": 400, "error": "not a form"}
        fields = parse_qs(data.decode("utf-8", "replace"), keep_blank_values=True)
        problem = self._key_error((fields.get("api_key") or [None])[0])
        if problem:
            return problem
        name = FORM_PATHS[path]
        try:
            value = json.loads(fields[name][0])
        except (KeyError, ValueError):
            return 400, {"code": 400, "error": "missing_event"}
        objects = value if isinstance(value, list) else [value]
        if path == "/groupidentify" and len(objects) > 1024:
            return 413, {"code": 413, "error": "Payload too large"}
        with self.server.state.lock:
            self.server.state.store[path.strip("/")].extend(objects)
        return 200, {"code": 200}

    def _deletion(self, data: bytes) -> tuple[int, dict]:
        args = self.server.state.args
        expected = "Basic " + base64.b64encode(f"{args.api_key}:{args.secret_key}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return 401, {"code": 401, "error": "Invalid credentials"}
        try:
            request = json.loads(data)
        except ValueError:
            return 400, {"code": 400, "error": "Invalid JSON request body"}
        with self.server.state.lock:
            self.server.state.store["deletions"].append(request)
        return 200, {"day": time.strftime("%Y-%m-%d"), "status": "staging", "amplitude_ids": []}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: State


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default="0123456789abcdef0123456789abcdef")
    parser.add_argument("--secret-key", default="fedcba9876543210fedcba9876543210")
    parser.add_argument("--max-bytes", type=int, default=1_000_000, help="413 above this many bytes (/2/httpapi)")
    parser.add_argument("--eps", type=int, default=0, help="events a device may send in one second (0: no limit)")
    parser.add_argument("--daily-quota", type=int, default=0, help="events a user may send (0: no limit)")
    parser.add_argument("--silence", action="append", default=[], help="a device_id whose events are silenced")
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--slow-rate", type=float, default=0.0)
    parser.add_argument("--slow", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--accept-all", action="store_true",
                        help="answer every POST 200 without looking at it: a null endpoint, for benchmarks")
    args = parser.parse_args(argv)
    server = _Server(("127.0.0.1", args.port), Handler)
    server.state = State(args)
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
