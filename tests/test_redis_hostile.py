"""celery_lint.redis_scan against a hostile or broken server, and the password in every shape of URL.

1. One masking function for every URL shape, and it masks exactly what is sent as the password.
2. No message, from the library or the CLI, ever shows the password; an unknown URL parameter is one line.
3. A tiny fake server (a thread on a free loopback port, bounded in time) gives each hostile reply shape:
   a trickle, an endless SCAN, huge length headers, malformed replies, odd MEMORY USAGE answers. Each ends in
   an exact one-line error or an exact note, within the deadline the test sets.
4. The client sends only read-only commands.
No real Redis is needed (tests/test_redis_scan.py covers that).
"""
import json
import socket
import threading
import time

import pytest

from celery_lint.redis_scan import RedisScanError, mask_url, scan_results
from celery_lint.redis_url import parse
from celery_lint.redis_wire import READ_ONLY, encode
from helpers import cli, write

# A fake server that breaks (an exception in its thread) fails the test instead of passing as a hostile reply.
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

SECRET = "s3cr3t-PW"
SCAN_DEADLINE_S = 2  # the scan's --deadline in the hostile tests
TEST_BOUND_S = 20  # what the test allows for the whole run
SERVER_LIFE_S = 60  # a fake server stops by itself after this, whatever happens
OK = b"+OK\r\n"
KEYS = (b"celery-task-meta-1", b"celery-task-meta-2")
META = json.dumps({"status": "SUCCESS", "result": None, "name": "t.visit"}).encode()


# --- 1. masking -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, shown", [
    # the probe's three shapes
    (f"redis://user:pa#{SECRET}@host:6379/0", "redis://user:***@host:6379/0"),
    (f"redis:/user:{SECRET}@host:6379/0", "redis:/user:***@host:6379/0"),
    (f"user:{SECRET}@host:6379", "user:***@host:6379"),
    # and more
    (f"redis://:{SECRET}@host:6379/0", "redis://:***@host:6379/0"),
    (f"redis://{SECRET}@host/0", "redis://***@host/0"),  # user-info without ':' is taken as a password
    ("redis://user:@host/0", "redis://user:***@host/0"),
    ("redis://host:6379/0", "redis://host:6379/0"),
    (f"redis://:{SECRET}@[::1]:6380/2", "redis://:***@[::1]:6380/2"),
    (f"unix://:{SECRET}@/run/redis.sock?db=3", "unix://:***@/run/redis.sock?db=3"),
    (f"rediss://user:{SECRET}@host:6380/0?ssl_cert_reqs=none", "rediss://user:***@host:6380/0?ssl_cert_reqs=none"),
    ("redis://:s3cr3t%40PW%3Ax@host/0", "redis://:***@host/0"),
    (f"redis://host/0?db=1&password={SECRET}", "redis://host/0?db=1&password=***"),
    (f"redis://host/0?PASSWORD={SECRET}&db=1", "redis://host/0?PASSWORD=***&db=1"),
    (f"redis://user:p@ss?{SECRET}/x@host/1", "redis://user:***@host/1"),  # '@', '?', '/' in the password
    ("redis://host/0?client_name=a@b", "redis://host/0?client_name=a@b"),  # an '@' in the query is no password
    (f"redis://:{SECRET}@host/0?client_name=a@b", "redis://:***@host/0?client_name=a@b"),
    (f"redis://:{SECRET}@host/0?db=1&{SECRET}", "redis://:***@host/0?db=1&***"),  # may be a misplaced password
    (f"redis://:{SECRET}@host/0?foo={SECRET}", "redis://:***@host/0?***"),  # an unknown name=value too
    ("localhost:6379", "localhost:6379"),
])
def test_mask_url(url, shown):
    assert mask_url(url) == shown


@pytest.mark.parametrize("url, password", [
    (f"redis://user:pa#{SECRET}@host:6379/0", f"pa#{SECRET}"),
    (f"redis://{SECRET}@host/0", SECRET),
    ("redis://user:@host/0", ""),
    (f"redis://:{SECRET}@[::1]:6380/2", SECRET),
    (f"unix://:{SECRET}@/run/redis.sock?db=3", SECRET),
    (f"rediss://user:{SECRET}@host:6380/0?ssl_cert_reqs=none", SECRET),
    ("redis://:s3cr3t%40PW%3Ax@host/0", "s3cr3t@PW:x"),
    (f"redis://:other@host/0?password={SECRET}", SECRET),  # the query wins, as in redis-py
    (f"redis://user@host/0?password={SECRET}", SECRET),
    (f"redis://user:p@ss?{SECRET}/x@host/1", f"p@ss?{SECRET}/x"),
])
def test_what_is_masked_is_what_is_sent(url, password):
    assert parse(url).password == password


# --- 2. the password in messages ------------------------------------------------------------------------------

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def one_line_error(url, **options):
    with pytest.raises(RedisScanError) as raised:
        scan_results(url, **options)
    message = str(raised.value)
    assert "\n" not in message and SECRET not in message and "s3cr3t" not in message
    return message


INVALID = "(expected redis://[[user]:password@]host[:port][/db], rediss://... or unix://[:password@]/path?db=N)"
NOT_A_SCHEME = "the URL must start with redis://, rediss:// or unix://"
REFUSED = "cannot connect to {}: Connection refused"


@pytest.mark.parametrize("url, message", [
    (f"redis://user:pa#{SECRET}@127.0.0.1:{{port}}/x",
     "invalid Redis URL 'redis://user:***@127.0.0.1:{port}/x': the database must be a number "
     "(redis://host:6379/1 is database 1) " + INVALID),
    (f"redis:/user:{SECRET}@127.0.0.1:{{port}}/0",
     f"invalid Redis URL 'redis:/user:***@127.0.0.1:{{port}}/0': {NOT_A_SCHEME} {INVALID}"),
    (f"user:{SECRET}@127.0.0.1:{{port}}", f"invalid Redis URL 'user:***@127.0.0.1:{{port}}': {NOT_A_SCHEME} {INVALID}"),
    (f"redis://:{SECRET}@127.0.0.1:{{port}}/0?foo=1",
     "invalid Redis URL 'redis://:***@127.0.0.1:{port}/0?***': an unknown URL parameter (masked above); known: db, "
     "password, username, ssl_cert_reqs, ssl_ca_certs, ssl_certfile, ssl_keyfile, ssl_check_hostname " + INVALID),
    (f"redis://:{SECRET}@127.0.0.1:{{port}}/0?{SECRET}",  # a parameter that may be a misplaced password
     "invalid Redis URL 'redis://:***@127.0.0.1:{port}/0?***': an unknown URL parameter (masked above); known: db, "
     "password, username, ssl_cert_reqs, ssl_ca_certs, ssl_certfile, ssl_keyfile, ssl_check_hostname " + INVALID),
    (f"redis://:{SECRET}@127.0.0.1:{{port}}/0?passwrd={SECRET}",  # a typo: named, its value masked
     "invalid Redis URL 'redis://:***@127.0.0.1:{port}/0?***': an unknown URL parameter 'passwrd': did you mean "
     "password? " + INVALID),
    (f"redis://:{SECRET}@127.0.0.1:{{port}}/0?ssl_cert_reqs=none",
     "invalid Redis URL 'redis://:***@127.0.0.1:{port}/0?ssl_cert_reqs=none': ssl_cert_reqs goes with a "
     "rediss:// URL (TLS) " + INVALID),
    (f"redis://:{SECRET}@[::1:{{port}}/0",
     "invalid Redis URL 'redis://:***@[::1:{port}/0': an IPv6 host must be written [address] or [address]:port "
     + INVALID),
    (f"redis://:{SECRET}@127.0.0.1:{{port}}/0", REFUSED.format("redis://:***@127.0.0.1:{port}/0")),
    (f"redis://user@127.0.0.1:{{port}}/0?password={SECRET}",
     "cannot connect to redis://***@127.0.0.1:{port}/0?password=***: Connection refused"),  # masks more
    (f"redis://{SECRET}@127.0.0.1:{{port}}/0", REFUSED.format("redis://***@127.0.0.1:{port}/0")),
    ("redis://:s3cr3t%40PW@127.0.0.1:{port}/0", REFUSED.format("redis://:***@127.0.0.1:{port}/0")),
    (f"rediss://:{SECRET}@127.0.0.1:{{port}}/0", REFUSED.format("rediss://:***@127.0.0.1:{port}/0")),
    (f"unix://:{SECRET}@/nonexistent/redis-{{port}}.sock",
     "cannot connect to unix://:***@/nonexistent/redis-{port}.sock: No such file or directory"),
])
def test_no_message_shows_the_password(url, message):
    port = free_port()  # nobody listens there
    assert one_line_error(url.format(port=port), deadline=SCAN_DEADLINE_S) == message.format(port=port)


@pytest.fixture
def project(tmp_path):
    return write(tmp_path / "proj", {"app.py": "x = 1\n"})


def report(project, url, *options):
    started = time.monotonic()
    result = cli(project, "report", "--no-cache", "--redis", url, *options, ".", timeout=TEST_BOUND_S)
    assert time.monotonic() - started < TEST_BOUND_S
    assert SECRET not in result.stdout + result.stderr and "Traceback" not in result.stderr
    return result


@pytest.mark.parametrize("url, says", [
    (f"redis://user:pa#{SECRET}@127.0.0.1:{{port}}/0", "cannot connect to redis://user:***@127.0.0.1:{port}/0: "
                                                       "Connection refused"),
    (f"redis:/user:{SECRET}@127.0.0.1:{{port}}/0", f"invalid Redis URL 'redis:/user:***@127.0.0.1:{{port}}/0': "
                                                   f"{NOT_A_SCHEME} {INVALID}"),
    (f"user:{SECRET}@127.0.0.1:{{port}}", f"invalid Redis URL 'user:***@127.0.0.1:{{port}}': {NOT_A_SCHEME} {INVALID}"),
])
def test_the_cli_never_shows_the_password(project, url, says):
    port = free_port()
    result = report(project, url.format(port=port))
    expected = f"celery-lint: error: {says.format(port=port)}\n"
    assert (result.returncode, result.stdout, result.stderr) == (2, "", expected)


def test_an_unknown_url_parameter_is_a_usage_error(project):
    result = report(project, f"redis://:{SECRET}@127.0.0.1:1/0?socket_tiemout=5")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("celery-lint: error: invalid Redis URL 'redis://:***@127.0.0.1:1/0?***': an unknown "
                             f"URL parameter 'socket_tiemout': did you mean socket_timeout? {INVALID}\n")


# --- 3. a hostile server --------------------------------------------------------------------------------------

def bulk(data: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(data), data)


def array(*items: bytes) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(items)


def integer(number: int) -> bytes:
    return b":%d\r\n" % number


NORMAL = {  # a well-behaved server with the two KEYS, answered by command name
    "AUTH": OK, "SELECT": OK, "DBSIZE": integer(5), "SCAN": array(bulk(b"0"), array(*map(bulk, KEYS))),
    "MEMORY USAGE": integer(100), "PTTL": integer(-1), "GET": bulk(META),
}


def command_name(command):
    name = command[0].decode().upper()
    return f"{name} {command[1].decode().upper()}" if name == "MEMORY" else name


def read_command(buffer: bytes):
    """(the first complete RESP command in buffer as a list of bytes, the rest), or (None, buffer)."""
    end = buffer.find(b"\r\n")
    if end < 0 or not buffer.startswith(b"*"):
        return None, buffer
    parts, at = [], end + 2
    for _ in range(int(buffer[1:end])):
        end = buffer.find(b"\r\n", at)
        if end < 0:
            return None, buffer
        size = int(buffer[at + 1:end])  # "$size"
        if len(buffer) < end + 2 + size + 2:
            return None, buffer  # the argument has not all arrived
        parts.append(buffer[end + 2:end + 2 + size])
        at = end + 2 + size + 2
    return parts, buffer[at:]


class FakeRedis:
    """A server on a free loopback port answering by command name from ``answers`` (NORMAL otherwise).

    An answer is bytes, or a list of (bytes, pause in s) to send slowly (a pause of None: then hang up), or a
    function of the command giving either. Every command received is kept in ``commands``. It serves one
    client at a time and stops on leaving the with block (or after SERVER_LIFE_S)."""

    def __init__(self, **answers):
        self.answers = {**NORMAL, **{name.replace("_", " "): answer for name, answer in answers.items()}}
        self.commands = []
        self.stopping = threading.Event()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def url(self, password=SECRET):
        return f"redis://:{password}@127.0.0.1:{self.port}/0"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()
        self.thread.join(5)
        self.listener.close()

    def _serve(self):
        ends = time.monotonic() + SERVER_LIFE_S
        while not self.stopping.is_set() and time.monotonic() < ends:
            try:
                connection, _ = self.listener.accept()
            except socket.timeout:
                continue
            with connection:
                self._talk(connection, ends)

    def _talk(self, connection, ends):
        connection.settimeout(0.1)
        buffer = b""
        while not self.stopping.is_set() and time.monotonic() < ends:
            command, buffer = read_command(buffer)
            try:
                if buffer[:1] not in (b"", b"*"):  # not RESP (a TLS hello): as Redis answers it
                    connection.sendall(b"-ERR Protocol error: invalid multibulk length\r\n")
                    return
                if command is None:
                    data = connection.recv(1 << 16)
                    if not data:
                        return
                    buffer += data
                else:
                    self.commands.append(command)
                    if not self._send(connection, self.answers[command_name(command)], command):
                        return
            except socket.timeout:
                continue
            except OSError:
                return

    def _send(self, connection, answer, command) -> bool:
        """Send the answer; False when it says to hang up (a pause of None) or the server is stopping."""
        answer = answer(command) if callable(answer) else answer
        for data, pause in [(answer, 0)] if isinstance(answer, bytes) else answer:
            connection.sendall(data)
            if pause is None or self.stopping.wait(pause):
                return False
        return True

    def names(self):
        return [command_name(command) for command in self.commands]


def trickle():
    """A status line that never ends: a byte every half second (each wait is short, the whole is endless)."""
    yield b"+", 0
    while True:
        yield b"a", 0.5


def bounded_error(server, **options):
    started = time.monotonic()
    message = one_line_error(server.url(), deadline=SCAN_DEADLINE_S, **options)
    assert time.monotonic() - started < TEST_BOUND_S
    return message


def test_a_trickling_reply_is_cut_off_by_the_deadline():
    with FakeRedis(DBSIZE=trickle()) as server:
        message = bounded_error(server)
    assert message == (f"redis://:***@127.0.0.1:{server.port}/0: the scan did not finish within its 2 s deadline "
                       f"(--deadline); give it longer, or scan less with --max-keys")


def test_the_cli_takes_the_deadline(project):
    with FakeRedis(DBSIZE=trickle()) as server:
        result = report(project, server.url(), "--deadline", str(SCAN_DEADLINE_S))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"celery-lint: error: redis://:***@127.0.0.1:{server.port}/0: the scan did not finish "
                             f"within its 2 s deadline (--deadline); give it longer, or scan less with --max-keys\n")


ENDLESS_SCAN = array(bulk(b"7"), array())  # a cursor that never comes back to 0, and no keys


def test_an_endless_scan_is_cut_off_by_the_deadline():
    with FakeRedis(SCAN=ENDLESS_SCAN) as server:
        message = bounded_error(server)
    assert message.endswith(": the scan did not finish within its 2 s deadline (--deadline); give it longer, "
                            "or scan less with --max-keys")


def test_max_keys_bounds_the_scan_calls_and_says_so():
    with FakeRedis(SCAN=ENDLESS_SCAN) as server:
        scan = scan_results(server.url(), max_keys=5, deadline=SCAN_DEADLINE_S)
    assert server.names().count("SCAN") == scan.scan_calls == 5
    assert (scan.complete, scan.stopped, scan.scanned, scan.meta_keys, scan.sampled) == (False, "scan_calls", 0, 0, 0)
    assert scan.notes[1] == ("the scan stopped after 5 SCAN calls (--max-keys 5 bounds the calls too) before the end "
                             "of the keyspace, which holds many keys that are not results: the counts and bytes are "
                             "lower bounds; raise --max-keys to count everything")


MALFORMED = "malformed reply to"
CAP = "over the 8,388,608-byte cap on one reply"


@pytest.mark.parametrize("answers, says", [
    # huge length headers: refused before reading (else the error would be the deadline: nothing follows them)
    ({"DBSIZE": b"$999999999999\r\n"}, f"{MALFORMED} DBSIZE: a string of 999,999,999,999 bytes, {CAP}"),
    ({"DBSIZE": b"*2147483647\r\n"}, f"{MALFORMED} DBSIZE: an array of 2,147,483,647 elements, {CAP}"),
    ({"GET": b"$9000000\r\n"}, f"{MALFORMED} GET: a string of 9,000,000 bytes, {CAP}"),
    ({"SCAN": array(bulk(b"0"), b"*3000000\r\n")}, f"{MALFORMED} SCAN: an array of 3,000,000 elements, {CAP}"),
    # replies that are not what the command gives
    ({"SCAN": array(bulk(b"abc"), array())}, f"{MALFORMED} SCAN: a cursor that is not a number"),
    ({"SCAN": array(bulk(b"-1"), array())}, f"{MALFORMED} SCAN: a cursor that is not a number"),
    ({"SCAN": integer(5)}, f"{MALFORMED} SCAN: not a [cursor, keys] array"),
    ({"SCAN": array(bulk(b"0"))}, f"{MALFORMED} SCAN: not a [cursor, keys] array"),
    ({"SCAN": array(bulk(b"0"), array(integer(1)))}, f"{MALFORMED} SCAN: keys that are not all strings"),
    ({"DBSIZE": bulk(b"5")}, f"{MALFORMED} DBSIZE: not a non-negative integer"),
    ({"PTTL": bulk(b"-1")}, f"{MALFORMED} PTTL: not an integer"),
    # replies that break the protocol
    ({"DBSIZE": b"%1\r\n"}, f"{MALFORMED} DBSIZE: a reply starting with b'%', not one of + - : $ *"),
    ({"DBSIZE": b":12x\r\n"}, f"{MALFORMED} DBSIZE: an integer reply that is not a number"),
    ({"DBSIZE": b"$abc\r\n"}, f"{MALFORMED} DBSIZE: a string's length that is not a number"),
    ({"DBSIZE": b"+" + b"a" * 70_000}, f"{MALFORMED} DBSIZE: a line longer than 65,536 bytes"),
    ({"GET": b"$3\r\nabcde"}, f"{MALFORMED} GET: a string not followed by CRLF"),
    ({"SCAN": array(bulk(b"0"), array(array(bulk(b"k"))))}, f"{MALFORMED} SCAN: arrays nested deeper than 2"),
])
def test_malformed_replies_are_one_line_naming_what_was_wrong(answers, says):
    with FakeRedis(**{name.replace(" ", "_"): answer for name, answer in answers.items()}) as server:
        assert bounded_error(server) == f"redis://:***@127.0.0.1:{server.port}/0: {says}"


def test_a_server_that_hangs_up_mid_reply():
    with FakeRedis(DBSIZE=[(b"$10\r\nab", None)]) as server:
        assert bounded_error(server) == f"redis://:***@127.0.0.1:{server.port}/0: the server closed the connection"


def test_tls_to_a_server_without_tls_is_one_line():
    with FakeRedis() as server:
        message = one_line_error(server.url().replace("redis://", "rediss://"), deadline=SCAN_DEADLINE_S)
    assert message.startswith(f"cannot connect to rediss://:***@127.0.0.1:{server.port}/0: [SSL")  # OpenSSL's words


def test_a_server_echoing_the_password_never_shows_it():
    with FakeRedis(AUTH=f"-WRONGPASS no user has the password {SECRET}\r\n".encode()) as server:
        assert bounded_error(server) == (f"redis://:***@127.0.0.1:{server.port}/0: authentication failed: wrong user "
                                         f"or password (WRONGPASS no user has the password ***)")


def test_an_error_reply_is_cut_short_and_escaped():
    with FakeRedis(DBSIZE=b"-ERR \x1b[2J" + b"x" * 300 + b"\r\n") as server:
        shown = "ERR \\x1b[2J" + "x" * 192  # 200 characters, then escaped
        assert bounded_error(server) == f"redis://:***@127.0.0.1:{server.port}/0: {shown}"


@pytest.mark.parametrize("sizes, sample_bytes, estimated, unmeasured", [
    ((bulk(b"100"), bulk(b"100")), 0, 0, 2),  # a bulk string, not an integer
    ((integer(-10), integer(-10)), 0, 0, 2),  # was shown as "≈ -10 B"
    ((integer(100), integer(-10)), 100, 200, 1),  # the unknown one is taken as big as the other
    ((integer(100), array()), 100, 200, 1),
])
def test_a_memory_usage_that_is_no_size_is_unknown(sizes, sample_bytes, estimated, unmeasured):
    answers = iter(sizes)
    with FakeRedis(MEMORY_USAGE=lambda command: next(answers)) as server:
        scan = scan_results(server.url(), deadline=SCAN_DEADLINE_S)
    assert (scan.sampled, scan.unmeasured, scan.sample_bytes, scan.estimated_bytes) == (2, unmeasured, sample_bytes,
                                                                                      estimated)
    assert server.names().count("GET") == 2 - unmeasured  # a value of unknown size is not read
    assert scan.notes[-1] == (f"{unmeasured} of 2 sampled keys got no usable MEMORY USAGE answer (not a number of "
                              f"bytes): their size is unknown, taken as the others' mean, and not read")


# --- 4. read-only ---------------------------------------------------------------------------------------------

def test_a_whole_scan_sends_only_read_only_commands():
    with FakeRedis() as server:
        scan = scan_results(server.url().replace("/0", "/3"), deadline=SCAN_DEADLINE_S)
    assert (scan.meta_keys, scan.sampled, scan.null_results, scan.complete, scan.db) == (2, 2, 2, True, 3)
    assert server.names() == ["AUTH", "SELECT", "DBSIZE", "SCAN", "MEMORY USAGE", "PTTL", "MEMORY USAGE", "PTTL",
                              "GET", "GET"]
    assert set(server.names()) <= set(READ_ONLY)


@pytest.mark.parametrize("command", [("SET", "k", "v"), ("DEL", "k"), ("FLUSHALL",), ("CONFIG", "SET", "x", "y"),
                                     ("MEMORY", "PURGE"), ("EVAL", "return 1", 0), ("UNLINK", "k")])
def test_the_client_refuses_any_other_command(command):
    with pytest.raises(ValueError, match="is not a read-only command the scan may send"):
        encode(command)
