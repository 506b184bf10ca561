"""A fake Telegram Bot API server for tests: real HTTP on 127.0.0.1, in a thread.

It speaks the Bot API's JSON shape for getMe, sendMessage, editMessageText, deleteMessage and
getUpdates, validates HTML like Telegram, records every request, and misbehaves on demand:
``fail(method, status, count, retry_after=...)``, ``slow(seconds, count, method)``, ``down()`` /
``up()`` (refused connections) and ``down_for(seconds)``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from tests.bots.telegram_html import TelegramHTMLError, validate

TOKEN = "123456:TEST-token"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "시민소통실", "username": "civic_test_bot"}
CHANNEL_NUMERIC_ID = -1001234567890


@dataclass
class Received:
    method: str
    params: dict
    at: float
    status: int = 200


@dataclass
class Fault:
    status: int
    retry_after: int | None = None
    description: str = ""


@dataclass
class Post:
    chat_id: str
    message_id: int
    text: str
    deleted: bool = False
    edits: list[str] = field(default_factory=list)


class FakeBotAPI:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.lock = threading.Lock()
        self.requests: list[Received] = []
        self.posts: dict[tuple[str, int], Post] = {}
        self.faults: dict[str, deque[Fault]] = {}
        self.delays: dict[str, deque[float]] = {}
        self.delay_all = 0.0
        self.updates: list[dict] = []
        self._next_message_id = 100
        self._next_update_id = 1000
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None
        self.port = 0
        self.connections: set[socket.socket] = set()

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> FakeBotAPI:
        handler = self._handler_class()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut open keep-alive connections: clients see refused connections."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        with self.lock:
            connections = list(self.connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    down = stop  # refused connections until up()

    def up(self) -> None:
        if self.server is None:
            self.start()

    def down_for(self, seconds: float) -> None:
        self.down()
        timer = threading.Timer(seconds, self.up)
        timer.daemon = True
        timer.start()

    @property
    def base_url(self) -> str:
        """For TELEGRAM_API_BASE_URL (the token is appended, as with the real API)."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- scripting -----------------------------------------------------------------------
    def fail(
        self,
        method: str,
        status: int,
        count: int = 1,
        *,
        retry_after: int | None = None,
        description: str = "",
    ) -> None:
        with self.lock:
            queue = self.faults.setdefault(method, deque())
            for _i in range(count):
                queue.append(Fault(status, retry_after, description))

    def slow(self, seconds: float, count: int = 1, method: str = "sendMessage") -> None:
        """The next ``count`` calls of ``method`` are accepted at once but answered late."""
        with self.lock:
            self.delays.setdefault(method, deque()).extend([seconds] * count)

    def add_private_message(self, chat_id: int, text: str) -> None:
        with self.lock:
            self._next_update_id += 1
            self.updates.append(
                {
                    "update_id": self._next_update_id,
                    "message": {
                        "message_id": self._next_update_id,
                        "date": int(time.time()),
                        "chat": {"id": chat_id, "type": "private", "first_name": "Resident"},
                        "from": {"id": chat_id, "is_bot": False, "first_name": "Resident"},
                        "text": text,
                    },
                }
            )

    # --- views for assertions -------------------------------------------------------------
    def calls(self, method: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.method == method]

    def accepted(self, method: str) -> list[Received]:
        return [r for r in self.calls(method) if r.status == 200]

    def channel_posts(self, chat_id: str | None = None) -> list[Post]:
        with self.lock:
            return [p for p in self.posts.values() if chat_id is None or p.chat_id == chat_id]

    def texts_to(self, chat_id: str) -> list[str]:
        return [
            r.params.get("text", "")
            for r in self.accepted("sendMessage")
            if r.params.get("chat_id") == chat_id
        ]

    # --- HTTP -------------------------------------------------------------------------------
    def _handler_class(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                # Headers and body go out as separate writes: without NODELAY, Nagle and
                # delayed ACKs add ~40 ms to every call.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with api.lock:
                    api.connections.add(self.request)

            def finish(self):
                with api.lock:
                    api.connections.discard(self.request)
                with contextlib.suppress(OSError):
                    super().finish()

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                api._serve(self, body)

            do_GET = do_POST  # noqa: N815 - the name http.server looks up

        return Handler

    def _parse(self, handler, body: bytes) -> dict:
        ctype = handler.headers.get("Content-Type", "")
        if "json" in ctype:
            return json.loads(body or b"{}")
        params = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        if "?" in handler.path:
            params.update({k: v[0] for k, v in parse_qs(handler.path.split("?", 1)[1]).items()})
        return params

    def _reply(self, handler, status: int, data: dict) -> None:
        raw = json.dumps(data, ensure_ascii=False).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    def _serve(self, handler, body: bytes) -> None:
        path = handler.path.split("?", 1)[0]
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            self._reply(handler, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        method = path[len(prefix) :]
        params = self._parse(handler, body)
        with self.lock:
            queued = self.delays.get(method)
            delay = queued.popleft() if queued else self.delay_all
            fault_queue = self.faults.get(method)
            fault = fault_queue.popleft() if fault_queue else None
            received = Received(method, params, time.time())
            self.requests.append(received)
        if fault is not None:
            received.status = fault.status
            if delay:
                time.sleep(delay)
            data: dict = {"ok": False, "error_code": fault.status}
            if fault.status == 429:
                retry = fault.retry_after or 1
                data["description"] = f"Too Many Requests: retry after {retry}"
                data["parameters"] = {"retry_after": retry}
            else:
                data["description"] = fault.description or {
                    400: "Bad Request: chat not found",
                    403: "Forbidden: bot is not a member of the channel chat",
                    500: "Internal Server Error",
                    502: "Bad Gateway",
                }.get(fault.status, "Error")
            self._reply(handler, fault.status, data)
            return
        # The request is accepted (and a post exists) before any delay: a client that gives up
        # or dies while waiting leaves a real post behind, as with Telegram.
        if method == "getUpdates" and int(params.get("timeout") or 0) > 0 and not self.updates:
            time.sleep(0.5)  # a short long-poll
        status, data = self._handle(method, params)
        received.status = status
        if delay:
            time.sleep(delay)
        with contextlib.suppress(OSError):
            self._reply(handler, status, data)

    def _error(self, status: int, description: str) -> tuple[int, dict]:
        return status, {"ok": False, "error_code": status, "description": description}

    def _message(self, post: Post) -> dict:
        chat_id: int | str = post.chat_id
        chat = {"id": CHANNEL_NUMERIC_ID, "type": "channel", "title": "시민소통 채널"}
        if str(chat_id).lstrip("-").isdigit() and not str(chat_id).startswith("-100"):
            chat = {"id": int(chat_id), "type": "private", "first_name": "Resident"}
        return {"message_id": post.message_id, "date": int(time.time()), "chat": chat, "text": post.text}

    def _handle(self, method: str, params: dict) -> tuple[int, dict]:
        with self.lock:
            if method == "getMe":
                return 200, {"ok": True, "result": BOT_USER}
            if method == "sendMessage":
                text = params.get("text", "")
                if params.get("parse_mode") == "HTML":
                    try:
                        validate(text)
                    except TelegramHTMLError as exc:
                        return self._error(400, f"Bad Request: {exc}")
                self._next_message_id += 1
                post = Post(str(params.get("chat_id")), self._next_message_id, text)
                self.posts[(post.chat_id, post.message_id)] = post
                return 200, {"ok": True, "result": self._message(post)}
            if method == "editMessageText":
                key = (str(params.get("chat_id")), int(params.get("message_id", 0)))
                post = self.posts.get(key)
                if post is None or post.deleted:
                    return self._error(400, "Bad Request: message to edit not found")
                text = params.get("text", "")
                try:
                    validate(text)
                except TelegramHTMLError as exc:
                    return self._error(400, f"Bad Request: {exc}")
                if text == post.text:
                    return self._error(400, "Bad Request: message is not modified")
                post.edits.append(post.text)
                post.text = text
                return 200, {"ok": True, "result": self._message(post)}
            if method == "deleteMessage":
                key = (str(params.get("chat_id")), int(params.get("message_id", 0)))
                post = self.posts.get(key)
                if post is None or post.deleted:
                    return self._error(400, "Bad Request: message to delete not found")
                post.deleted = True
                return 200, {"ok": True, "result": True}
            if method == "getUpdates":
                offset = int(params.get("offset") or 0)
                pending = [u for u in self.updates if u["update_id"] >= offset]
                if offset:
                    self.updates = pending
                return 200, {"ok": True, "result": pending}
            return self._error(404, "Not Found: method not found")
