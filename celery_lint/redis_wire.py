"""The scan's own Redis client: RESP2 over TCP, TLS or a unix socket, read-only and bounded.

Written here rather than borrowed from redis-py because the scan must survive a hostile or broken server:
every reply is checked against a byte cap BEFORE anything is read or allocated for it (a ``$999999999999`` or
``*2147483647`` header is refused at once), every wait is bounded by one deadline for the whole scan (a
server trickling a byte every half second is cut off), and only the read-only commands in READ_ONLY can be
sent: anything else is refused before it reaches the socket.
"""
from __future__ import annotations

import re
import socket
import ssl
import time
from typing import List, Optional, Sequence, Union

from .redis_url import Target

READ_ONLY = ("AUTH", "SELECT", "DBSIZE", "SCAN", "MEMORY USAGE", "PTTL", "GET")
MAX_REPLY_BYTES = 8 << 20  # one reply, headers included; a sampled GET is at most 1 MiB
MAX_LINE_BYTES = 64 << 10  # a status, error or length line
MAX_DEPTH = 2  # SCAN's [cursor, [keys]] is the deepest reply the scan reads
MIN_ELEMENT_BYTES = 4  # ":0\r\n": an array of n elements needs at least 4n more bytes
CHUNK = 64 << 10
_INTEGER = re.compile(rb"-?[0-9]{1,19}")

Reply = Union[None, int, bytes, List["Reply"], "ReplyError"]


class WireError(Exception):
    """The conversation with the server failed; str() is one line without the URL."""


class ConnectFailed(WireError):
    pass


class NoAnswer(WireError):
    """One wait for the server went past the per-answer timeout."""


class DeadlinePassed(WireError):
    """The whole scan went past its deadline."""


class BadReply(WireError):
    """A reply that breaks the protocol or the caps; ``command`` names what it answered."""

    def __init__(self, detail: str, command: str = ""):
        super().__init__(detail)
        self.detail = detail
        self.command = command

    def __str__(self):
        return f"malformed reply to {self.command}: {self.detail}" if self.command else self.detail


class AuthFailed(WireError):
    pass


class ReplyError(Exception):
    """An error reply (-ERR ...): raised by call(), returned in place by pipeline()."""

    @property
    def code(self) -> str:
        return str(self).split(" ", 1)[0]


class Clock:
    """One deadline for everything; each wait gets the smaller of the per-answer timeout and what is left."""

    def __init__(self, io_timeout: float, deadline_s: float):
        self.io_timeout = io_timeout
        self.deadline_s = deadline_s
        self.ends = time.monotonic() + deadline_s

    def wait(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise DeadlinePassed(f"the scan did not finish within its {self.deadline_s:g} s deadline")
        return min(self.io_timeout, left)

    def timed_out(self) -> WireError:
        """What a socket timeout means: the deadline, or one silent wait."""
        if time.monotonic() >= self.ends:
            return DeadlinePassed(f"the scan did not finish within its {self.deadline_s:g} s deadline")
        return NoAnswer(f"no answer within {self.io_timeout:g} s")


def encode(args: Sequence[Union[str, bytes, int]]) -> bytes:
    """One command in RESP, refused unless it is in READ_ONLY (the scan's promise: it never writes)."""
    name = str(args[0]).upper()
    if name == "MEMORY" and len(args) > 1:
        name += " " + str(args[1]).upper()
    if name not in READ_ONLY:
        raise ValueError(f"{name} is not a read-only command the scan may send")
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts += [b"$%d\r\n" % len(data), data, b"\r\n"]
    return b"".join(parts)


class Connection:
    def __init__(self, sock: socket.socket, clock: Clock):
        self.sock = sock
        self.clock = clock
        self.reader = _Reader(sock, clock)

    def call(self, *args) -> Reply:
        (reply,) = self.pipeline([args])
        if isinstance(reply, ReplyError):
            raise reply
        return reply

    def pipeline(self, commands: Sequence[Sequence]) -> List[Reply]:
        """Send every command, then read every reply in order (error replies in place)."""
        payload = b"".join(encode(args) for args in commands)
        try:
            self.sock.settimeout(self.clock.wait())
            self.sock.sendall(payload)
        except socket.timeout:
            raise self.clock.timed_out() from None
        except OSError as exc:
            raise WireError(f"the connection failed: {exc.strerror or exc}") from None
        return [self._reply_to(args) for args in commands]

    def _reply_to(self, args) -> Reply:
        try:
            return self.reader.reply()
        except BadReply as exc:
            exc.command = " ".join(str(a) for a in args[:2]) if args[0] == "MEMORY" else str(args[0])
            raise

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def connect(target: Target, clock: Clock) -> Connection:
    """A connection to ``target``, authenticated and on its database."""
    connection = Connection(_open(target, clock), clock)
    try:
        if target.password is not None:
            try:
                connection.call("AUTH", *([target.username] if target.username else []), target.password)
            except ReplyError as exc:
                raise AuthFailed(str(exc)) from None
        if target.db:
            connection.call("SELECT", target.db)
    except BaseException:
        connection.close()
        raise
    return connection


def _open(target: Target, clock: Clock) -> socket.socket:
    sock = None
    try:
        sock = _plain_socket(target, clock)
        if target.scheme == "rediss":
            sock.settimeout(clock.wait())
            sock = _tls_context(target).wrap_socket(sock, server_hostname=target.host)
        return sock
    except socket.timeout:
        _close(sock)
        raise clock.timed_out() from None
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        _close(sock)
        raise ConnectFailed(getattr(exc, "strerror", None) or str(exc) or type(exc).__name__) from None


def _plain_socket(target: Target, clock: Clock) -> socket.socket:
    if target.scheme != "unix":
        return socket.create_connection((target.host, target.port), timeout=clock.wait())
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(clock.wait())
        sock.connect(target.socket_path)
    except BaseException:
        sock.close()
        raise
    return sock


def _close(sock: Optional[socket.socket]) -> None:
    if sock is not None:
        sock.close()


def _tls_context(target: Target) -> ssl.SSLContext:
    """As redis-py reads the ssl_* parameters: certificates required unless ssl_cert_reqs says otherwise."""
    tls = target.tls
    context = ssl.create_default_context(cafile=tls.get("ssl_ca_certs") or None)
    requirement = tls.get("ssl_cert_reqs", "required").lower().replace("cert_", "")
    if requirement not in ("none", "optional", "required"):
        raise ValueError("ssl_cert_reqs must be none, optional or required")
    check = tls.get("ssl_check_hostname", "true" if requirement != "none" else "false").lower()
    context.check_hostname = check in ("true", "1", "yes")
    context.verify_mode = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL}.get(requirement, ssl.CERT_REQUIRED)
    if tls.get("ssl_certfile"):
        context.load_cert_chain(tls["ssl_certfile"], tls.get("ssl_keyfile") or None)
    return context


class _Reader:
    """RESP2 replies from a socket; each reply may use at most MAX_REPLY_BYTES, checked before reading."""

    def __init__(self, sock: socket.socket, clock: Clock):
        self.sock = sock
        self.clock = clock
        self.buffer = bytearray()
        self.budget = MAX_REPLY_BYTES

    def reply(self) -> Reply:
        self.budget = MAX_REPLY_BYTES
        return self._value(0)

    def _value(self, depth: int) -> Reply:
        line = self._line()
        kind, body = line[:1], bytes(line[1:])
        if kind == b"+":
            return body
        if kind == b"-":
            return ReplyError(body.decode(errors="replace"))
        if kind == b":":
            return _integer(body, "an integer reply")
        if kind == b"$":
            return self._bulk(_integer(body, "a string's length"))
        if kind == b"*":
            return self._array(_integer(body, "an array's length"), depth)
        raise BadReply(f"a reply starting with {bytes(kind)!r}, not one of + - : $ *")

    def _bulk(self, length: int) -> Optional[bytes]:
        if length < 0:
            return None
        if length + 2 > self.budget:
            raise BadReply(f"a string of {length:,} bytes, over the {MAX_REPLY_BYTES:,}-byte cap on one reply")
        data = self._take(length + 2)
        if data[-2:] != b"\r\n":
            raise BadReply("a string not followed by CRLF")
        return bytes(data[:-2])

    def _array(self, length: int, depth: int) -> Optional[List[Reply]]:
        if length < 0:
            return None
        if depth >= MAX_DEPTH:
            raise BadReply(f"arrays nested deeper than {MAX_DEPTH}")
        if length * MIN_ELEMENT_BYTES > self.budget:
            raise BadReply(f"an array of {length:,} elements, over the {MAX_REPLY_BYTES:,}-byte cap on one reply")
        return [self._value(depth + 1) for _ in range(length)]

    def _line(self) -> bytearray:
        while True:
            end = self.buffer.find(b"\r\n", 0, MAX_LINE_BYTES)
            if end >= 0:
                return self._take(end + 2)[:-2]
            if len(self.buffer) >= MAX_LINE_BYTES:
                raise BadReply(f"a line longer than {MAX_LINE_BYTES:,} bytes")
            self._fill()

    def _take(self, size: int) -> bytearray:
        if size > self.budget:
            raise BadReply(f"more than the {MAX_REPLY_BYTES:,}-byte cap on one reply")
        while len(self.buffer) < size:
            self._fill()
        self.budget -= size
        data = self.buffer[:size]
        del self.buffer[:size]
        return data

    def _fill(self) -> None:
        try:
            self.sock.settimeout(self.clock.wait())
            data = self.sock.recv(CHUNK)
        except socket.timeout:
            raise self.clock.timed_out() from None
        except OSError as exc:
            raise WireError(f"the connection failed: {exc.strerror or exc}") from None
        if not data:
            raise WireError("the server closed the connection")
        self.buffer += data


def _integer(body: bytes, what: str) -> int:
    if not _INTEGER.fullmatch(body):
        raise BadReply(f"{what} that is not a number")
    return int(body)
