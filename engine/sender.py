"""Sending translated outputs (``{"target", "body"}`` lines) to the APIs a delivery description
names, as those APIs want it, losing nothing.

Each line is an item of its target; items are queued by identity (the body fields the target's
``identity`` names: a device, a user) and an identity has at most one request in flight, so its
items reach the API in their order, while up to ``concurrency`` requests of different identities
go at once. A request takes the items of ready identities up to the target's limits (items and
bytes); its bytes are the items' own bytes joined (``delivery.Route``). The answer says what
becomes of each item (``Delivery.answer``): delivered; refused (to the failed file, with the
reason); sent again (the others of a partly refused or throttled request); held (a throttled
identity waits, alone); split (413); retried with backoff and jitter, bounded; or the run stops.
Every item ends delivered or in the failed file, or, where the run stops, not sent (and not in the
checkpoint: the same command sends it later). The checkpoint records what has finished after
each request; the failed file is written before."""

from __future__ import annotations

import asyncio
import heapq
import random
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote_from_bytes

import msgspec

from .delivery import Delivery, Route

_decode_body = msgspec.json.Decoder().decode


class _Line(msgspec.Struct):
    target: str
    body: msgspec.Raw
    input: Any = None


_decode_line = msgspec.json.Decoder(_Line).decode


_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
_QUOTED = [chr(c) if chr(c) in _UNRESERVED else f"%{c:02X}" for c in range(128)]  # str.translate's table


def form_quote(raw: bytes) -> bytes:
    """``quote_from_bytes(raw, safe="")``, its bytes: ASCII text through ``str.translate`` with a
    table (23 µs for a 600-byte body, urllib 31), anything else through urllib."""
    if raw.isascii():
        return raw.decode("ascii").translate(_QUOTED).encode("ascii")
    return quote_from_bytes(raw, safe="").encode("ascii")


def _keys_decoder(route: Route) -> Callable[[bytes], tuple]:
    """A body's identity fields, then its dedup field, decoded from its bytes and nothing else."""
    names = [*route.identity, route.dedup or ""]
    keys = msgspec.defstruct("Keys", [(f"f{i}", Any, None) for i in range(len(names))], array_like=False,
                             rename={f"f{i}": name for i, name in enumerate(names)})
    decode = msgspec.json.Decoder(keys).decode
    fields = keys.__struct_fields__

    def read(raw: bytes) -> tuple:
        found = decode(raw)
        return tuple(getattr(found, name) for name in fields)

    return read


class SendStop(Exception):
    """The run stops: nothing more is sent (a wrong key, a target no API receives, a signal)."""


class Counts:
    """What a run did, for the progress display and the summary line."""

    def __init__(self) -> None:
        self.read = 0
        self.skipped = 0  # finished by an earlier run (the checkpoint)
        self.delivered = 0
        self.failed = 0
        self.requests = 0
        self.retries = 0
        self.throttled = 0  # identities holding now
        self.started = time.monotonic()

    def summary(self, unsent: int) -> str:
        text = (f"seg2amp send: {self.read} lines read, {self.delivered} delivered, {self.failed} failed")
        if self.skipped:
            text += f", {self.skipped} skipped (finished before: the checkpoint)"
        if unsent:
            text += f", {unsent} not sent"
        return text + f"; {self.requests} requests, {self.retries} retries"


class _Item:
    __slots__ = ("number", "target", "raw", "part", "who", "line", "input")

    def __init__(self, number: int, target: str, raw: bytes, part: bytes, line: bytes, input: Any = None) -> None:
        self.number = number
        self.input = input
        self.target = target
        self.raw = raw  # the body's bytes, as the line has them
        self.part = part  # what the request holds of it (URL-quoted for a form)
        self.line = line
        self.who: _Who | None = None


class _Who:
    """One identity: its items not finished, in order."""

    __slots__ = ("key", "queue", "busy", "until", "listed", "cap")

    def __init__(self, key: str) -> None:
        self.key = key
        self.cap = 0  # items a request may take of it (0: any); halved each time it is throttled
        self.queue: deque[_Item] = deque()
        self.busy = False
        self.until = 0.0
        self.listed = False


class Sender:
    """One run's sending; ``run(chunks)`` sends every line of an iterator of lists of ``(number,
    line)`` (read in a thread of its own) and returns the number of items not sent (a stop)."""

    def __init__(self, delivery: Delivery, routes: dict[str, Route], client: Any, *,
                 failed: Callable[[_Item, str], None],
                 finished: Callable[[list[int]], None], secrets: tuple[str, ...], basic: Any = None,
                 concurrency: int = 4, throttle_wait: float | None = None, linger: float = 0.2,
                 max_pending: int = 50_000, retry_first_wait: float | None = None,
                 give_up_after: float | None = None, progress: Callable[[Counts], None] | None = None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.delivery = delivery
        self.routes = routes
        self.client = client
        self.failed_sink = failed
        self.finished_sink = finished
        self.secrets = secrets
        self.basic = basic
        self.concurrency = max(1, concurrency)
        self.throttle_wait = throttle_wait
        self.linger = linger
        self.max_pending = max_pending
        self.first_wait = delivery.first_wait if retry_first_wait is None else retry_first_wait
        self.give_up_after = delivery.give_up_after if give_up_after is None else give_up_after
        self.progress = progress
        self.warn = warn
        self._warned: set[str] = set()
        self.counts = Counts()
        self.stop_reason: str | None = None
        self._whos: dict[str, _Who] = {}
        self._ready: dict[str, deque[_Who]] = {name: deque() for name in routes}
        self._held: list[tuple[float, int, _Who]] = []
        self._held_count = 0
        self._pending = 0  # items queued, not finished
        self._inflight: set[asyncio.Task] = set()
        self._next_allowed: dict[str, float] = dict.fromkeys(routes, 0.0)
        self._last_take = 0.0
        self._last_partial = 0.0
        self._held_seq = 0
        self._keys = {name: _keys_decoder(route) for name, route in routes.items()}

    # ---------------------------------------------------------------- taking lines

    def take(self, number: int, line: bytes) -> None:
        """Queue one line; a line that is not an item goes to the failed file; an item of a target
        no route has stops the run (before it is sent)."""
        try:
            parsed = _decode_line(line)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self.counts.read += 1
            self._fail_line(number, line, f"not a translate output line (send reads what translate writes: "
                                          f"{{\"target\", \"body\"}} a line): {exc}")
            return
        self._take(number, line, parsed)

    def _take(self, number: int, line: bytes, parsed: _Line) -> None:
        self.counts.read += 1
        raw = parsed.body  # the body's bytes (a view of what was read: not copied)
        if memoryview(raw)[:1] != b"{":
            self._fail_line(number, line, "not a translate output line ({\"target\", \"body\"}): its body is not "
                            "a JSON object")
            return
        route = self.routes.get(parsed.target)
        if route is None:
            known = ", ".join(sorted(self.routes))
            raise SendStop(f"line {number}: target {parsed.target!r} is not delivered by this rule set (it delivers "
                           f"{known}); device-mode outputs (sdk.*) are SDK calls no API receives: send the "
                           "outputs of a cloud-mode platform (translate --platform server)")
        if route.unusable:
            self._fail_line(number, line, route.unusable, parsed.target, raw, parsed.input)
            return
        try:  # only the fields that say whose it is and its dedup key (msgspec skips the others)
            fields = self._keys[parsed.target](raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self._fail_line(number, line, f"its body is not JSON: {exc}")
            return
        if route.dedup and not fields[-1]:
            self._fail_line(number, line, f"it has no {route.dedup}: a copy sent again after a lost answer could "
                            "be counted twice, so it is not sent", parsed.target, raw, parsed.input)
            return
        key = None
        for value in fields[:-1]:
            if value not in (None, "", []):
                key = value if isinstance(value, str) else msgspec.json.encode(value).decode()
                break
        key = key if key is not None else f"\0{number}"
        part = form_quote(bytes(raw)) if route.form else raw
        if route.size(1, len(part)) > route.max_bytes:
            self._fail_line(number, line, f"larger than one request may be ({route.size(1, len(part))} bytes "
                            f"against {route.max_bytes})", parsed.target, raw, parsed.input)
            return
        item = _Item(number, parsed.target, raw, part, b"", parsed.input)  # its line: what raw and target say
        who = self._whos.get(key)
        if who is None:
            who = self._whos[key] = _Who(key)
        item.who = who
        who.queue.append(item)
        self._pending += 1
        self._last_take = time.monotonic()
        if not who.busy and who.until <= self._last_take and len(who.queue) == 1:
            self._list(who)

    def _list(self, who: _Who) -> None:
        if not who.listed and who.queue:
            who.listed = True
            self._ready[who.queue[0].target].append(who)

    def _fail_line(self, number: int, line: bytes, reason: str, target: str = "", raw: bytes = b"",
                   input: Any = None) -> None:
        item = _Item(number, target, raw, raw, line, input)
        self.failed_sink(item, reason)
        self.counts.failed += 1
        self.finished_sink([number])

    # ---------------------------------------------------------------- the loop

    async def run(self, chunks_read: Iterator[list[tuple[int, bytes]]]) -> int:
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue = asyncio.Queue(maxsize=64)  # up to 4 MB of a pipe's reads (16 MB of a file's)
        stop_reading = threading.Event()

        def read() -> None:  # its own thread: reading waits for the input, not for the requests
            try:
                for chunk in chunks_read:
                    if stop_reading.is_set():
                        return
                    if chunk:
                        asyncio.run_coroutine_threadsafe(chunks.put(chunk), loop).result()
            except BaseException as exc:  # noqa: BLE001 - an input that cannot be read ends the run
                asyncio.run_coroutine_threadsafe(chunks.put(exc), loop).result()
                return
            asyncio.run_coroutine_threadsafe(chunks.put(None), loop).result()

        reader = threading.Thread(target=read, name="seg2amp-send-reader", daemon=True)
        reader.start()
        getter: asyncio.Future | None = None
        eof = False
        last_shown = 0.0
        try:
            while True:
                now = time.monotonic()
                if getter is not None and getter.done():
                    chunk = getter.result()
                    getter = None
                    if chunk is None:
                        eof = True
                    elif isinstance(chunk, BaseException):
                        raise chunk
                    else:
                        for number, line in chunk:
                            self.take(number, line)
                self._wake(now)
                if self.stop_reason is None:
                    self._dispatch(now, eof)
                if self.progress is not None and now - last_shown >= 0.5:
                    last_shown = now
                    self.progress(self.counts)
                if not self._inflight and (self.stop_reason is not None or (eof and self._pending == 0)):
                    break
                waiters: set = set(self._inflight)
                if not eof and getter is None and self._pending < self.max_pending and self.stop_reason is None:
                    getter = asyncio.ensure_future(chunks.get())
                if getter is not None:
                    waiters.add(getter)
                timeout = self._next_wake(now, eof)
                if self.progress is not None:
                    timeout = min(timeout, 0.5)
                if waiters:
                    await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                else:
                    await asyncio.sleep(max(timeout, 0.001))
        except SendStop as stop:
            self.stop_reason = str(stop)
            if self._inflight:
                await asyncio.wait(self._inflight)
        finally:
            stop_reading.set()
            if getter is not None:
                getter.cancel()
            while not chunks.empty():  # let the reader end
                chunks.get_nowait()
        if self.progress is not None:
            self.progress(self.counts)
        return self._pending

    def stop(self, reason: str) -> None:
        """Send nothing more (the requests in flight end as their answers say)."""
        if self.stop_reason is None:
            self.stop_reason = reason

    def abandon(self) -> None:
        """Stop now: the requests in flight are dropped unanswered (their lines are not finished:
        the checkpoint sends them again, and the API drops what it had already by the dedup field)."""
        self.stop(self.stop_reason or "stopped")
        for task in list(self._inflight):
            task.cancel()

    def _wake(self, now: float) -> None:
        while self._held and self._held[0][0] <= now:
            _, _, who = heapq.heappop(self._held)
            self._held_count -= 1
            if not who.busy and who.until <= now:
                self._list(who)
        self.counts.throttled = self._held_count

    def _next_wake(self, now: float, eof: bool) -> float:
        soon = 5.0
        if self._held:
            soon = min(soon, self._held[0][0] - now)
        for name, ready in self._ready.items():
            if ready:
                soon = min(soon, max(self._next_allowed[name] - now, 0.0), self.linger)
        return max(soon, 0.001)

    def _dispatch(self, now: float, eof: bool) -> None:
        partial = eof or self._pending >= self.max_pending or now - self._last_take >= self.linger \
            or now - self._last_partial >= self.linger
        for name, ready in self._ready.items():
            route = self.routes[name]
            while ready and len(self._inflight) < self.concurrency and now >= self._next_allowed[name]:
                if not partial and len(ready) < route.max_items:
                    break  # not worth a request yet (each identity listed has an item or more): more may come
                items, whos, full = self._batch(route, ready, now)
                if not items:
                    break
                if not full and not partial:
                    for who in whos:  # not worth a request yet: more items may come
                        who.busy = False
                        self._list(who)
                    break
                if not full:
                    self._last_partial = now
                if route.interval:
                    self._next_allowed[name] = now + route.interval
                task = asyncio.ensure_future(self._deliver(route, items, whos))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)

    def _batch(self, route: Route, ready: deque, now: float) -> tuple[list[_Item], list[_Who], bool]:
        """A request's items, from the ready identities in turn, each identity's first items of
        this target; and whether a limit (items or bytes) filled it."""
        items: list[_Item] = []
        whos: list[_Who] = []
        target, most, room = route.target, route.max_items, route.max_bytes
        between = len(route.between)
        size = len(route.head) + len(route.tail) - between
        full = False
        while ready and not full:
            who = ready[0]
            if who.busy or who.until > now or not who.queue or who.queue[0].target != target:
                ready.popleft()
                who.listed = False
                if not who.busy and who.until <= now and who.queue:
                    self._list(who)  # its head is another target's
                continue
            took = 0
            cap = who.cap
            for item in who.queue:
                if item.target != target or (cap and took >= cap):
                    break
                grown = size + len(item.part) + between
                if grown > room or len(items) >= most:
                    full = True
                    break
                items.append(item)
                size = grown
                took += 1
            full = full or len(items) >= most
            if not took:
                break
            ready.popleft()
            who.listed = False
            who.busy = True
            whos.append(who)
        return items, whos, full

    # ---------------------------------------------------------------- one request

    async def _deliver(self, route: Route, items: list[_Item], whos: list[_Who]) -> None:
        try:
            await self._send(route, items)
        except SendStop as stop:
            self.stop(str(stop))
        finally:
            now = time.monotonic()
            for who in whos:
                who.busy = False
                if not who.queue:
                    if who.until <= now:
                        self._whos.pop(who.key, None)
                elif who.until > now:
                    self._hold(who)
                else:
                    self._list(who)

    def _hold(self, who: _Who) -> None:
        self._held_seq += 1
        heapq.heappush(self._held, (who.until, self._held_seq, who))
        self._held_count += 1

    async def _send(self, route: Route, items: list[_Item]) -> None:
        if self.stop_reason is not None:
            return
        body = route.request([item.part for item in items])
        attempt = 0
        started = time.monotonic()
        while True:
            status, text = await self._post(route, body)
            answer = None
            if status is not None:
                bodies = None
                if status == 429:  # quota lists name users and devices: the bodies say whose
                    bodies = [_decode_body(item.raw) for item in items]
                answer = self.delivery.answer(status, text, len(items), bodies, self.secrets)
                if answer.outcome != "retry":
                    break
            attempt += 1
            if status is None and self.warn is not None and route.url not in self._warned:
                self._warned.add(route.url)  # once a URL: a wrong --endpoint shows at once, not after the retries
                self.warn(f"no answer from {route.url} ({text.decode()}): retrying, at most "
                          f"{self.delivery.attempts} times in {self.give_up_after:.0f} s")
            waited = time.monotonic() - started
            if attempt >= self.delivery.attempts or waited >= self.give_up_after:
                what = f"answered {status}" if status is not None else f"no answer ({text.decode()})"
                self._finish(items, {i: f"gave up after {attempt} attempts in {waited:.0f} s: {what}"
                                     for i in range(len(items))})
                return
            self.counts.retries += 1
            wait = min(self.delivery.max_wait, self.first_wait * 2 ** (attempt - 1))
            await asyncio.sleep(wait * random.uniform(0.5, 1.0))
            if self.stop_reason is not None:
                return
        outcome = answer.outcome
        if outcome == "delivered":
            self._finish(items, {})
        elif outcome == "stop":
            raise SendStop(f"{route.url}: {answer.reason}")
        elif outcome == "refuse":
            self._finish(items, answer.refused, resend_others=True)
        elif outcome == "split":
            if len(items) == 1:
                self._finish(items, {0: answer.reason})
            else:
                half = len(items) // 2
                await self._send(route, items[:half])
                await self._send(route, items[half:])
        elif outcome == "throttle":
            wait = self.throttle_wait if self.throttle_wait is not None else answer.wait
            held = set(answer.throttled) if answer.throttled else set(range(len(items))) - set(answer.refused)
            until = time.monotonic() + wait
            sent: dict[int, int] = {}
            for item in items:
                if item.who is not None:
                    sent[id(item.who)] = sent.get(id(item.who), 0) + 1
            for index in held:
                who = items[index].who
                if who is not None and who.until < until:
                    who.until = until  # it waits, and then sends half as much at once
                    who.cap = max(1, sent[id(who)] // 2)
            self._finish(items, answer.refused, resend_others=True)

    async def _post(self, route: Route, body: bytes) -> tuple[int | None, bytes]:
        import httpx

        self.counts.requests += 1
        try:
            response = await self.client.post(route.url, content=body, headers={"Content-Type": route.content_type},
                                              auth=self.basic if route.basic else None)
            return response.status_code, response.content
        except httpx.TransportError as exc:  # refused, dropped, timed out: the outcome is unknown
            return None, type(exc).__name__.encode()

    def _finish(self, items: list[_Item], refused: dict[int, str], resend_others: bool = False) -> None:
        """Items delivered (all but ``refused``, unless ``resend_others``: then those stay queued
        to be sent again), refused ones to the failed file; their lines recorded finished."""
        done: list[int] = []
        if not refused and not resend_others:  # all delivered: the usual answer
            for item in items:
                queue = item.who.queue
                if queue and queue[0] is item:
                    queue.popleft()
                else:
                    queue.remove(item)
                done.append(item.number)
            self.counts.delivered += len(items)
            self._pending -= len(items)
            self.finished_sink(done)
            return
        for index, item in enumerate(items):
            if index in refused:
                self.failed_sink(item, refused[index])
                self.counts.failed += 1
            elif resend_others:
                continue
            else:
                self.counts.delivered += 1
            done.append(item.number)
            who = item.who
            if who is not None:
                if who.queue and who.queue[0] is item:
                    who.queue.popleft()
                else:
                    try:
                        who.queue.remove(item)
                    except ValueError:
                        pass
            self._pending -= 1
        self.finished_sink(done)


def failed_record(item: _Item, reason: str) -> bytes:
    """The failed file's line of an item: the line as translate wrote it (its target, body and
    input: the file can be sent again once the cause is fixed), its number in this run's input,
    and why it failed. A line that was not an item is kept as its text."""
    reason_json = msgspec.json.encode(reason)
    if not item.target:
        text = item.line.decode("utf-8", "replace").rstrip("\r\n")
        return (b'{"line":%d,"failed":%s,"text":%s}\n' % (item.number, reason_json, msgspec.json.encode(text)))
    parts = [b'{"target":', msgspec.json.encode(item.target), b',"body":', item.raw]
    if item.input is not None:
        parts += [b',"input":', msgspec.json.encode(item.input)]
    parts += [b',"line":%d,"failed":' % item.number, reason_json, b"}\n"]
    return b"".join(parts)


def show_progress(stream: Any = None) -> Callable[[Counts], None]:
    """A one-line progress display (events sent, rate, retries, throttled identities)."""
    stream = stream or sys.stderr

    def show(counts: Counts) -> None:
        elapsed = max(time.monotonic() - counts.started, 1e-9)
        stream.write(f"\rseg2amp send: {counts.delivered:,} delivered ({counts.delivered / elapsed:,.0f}/s), "
                     f"{counts.failed:,} failed, {counts.retries:,} retries, {counts.throttled:,} identities "
                     "throttled   ")
        stream.flush()

    return show
