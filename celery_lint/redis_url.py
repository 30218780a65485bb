"""A Redis URL for ``report --redis``: where to connect, and how to show it with the password masked.

One splitter serves both jobs, so what is masked is exactly what is sent as the password, whatever the URL's
shape: ``redis://user:pw@host``, ``redis:/user:pw@host``, ``user:pw@host:port``, a '#', '/', '?' or '@' in the
password, ``unix://:pw@/path`` or ``?password=``. Error messages name what is wrong, never a piece of the URL:
the caller shows the masked URL beside them.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple
from urllib.parse import unquote

SCHEMES = ("redis", "rediss", "unix")
DEFAULT_PORT = 6379
# What the scan uses; the TLS ones only with rediss://.
TLS_PARAMETERS = ("ssl_cert_reqs", "ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_check_hostname")
PARAMETERS = ("db", "password", "username") + TLS_PARAMETERS
# redis-py connection tuning a Celery URL may carry: accepted and ignored (the scan has its own bounds).
IGNORED_PARAMETERS = ("socket_timeout", "socket_connect_timeout", "socket_keepalive", "retry_on_timeout",
                      "health_check_interval", "client_name", "max_connections", "protocol")
# "scheme:/..." of any scheme, or "redis:" without slashes; anything else has no scheme ("user:pw@host").
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?://|/)|(?:redis|rediss|unix):", re.IGNORECASE)
EXPECTED = "expected redis://[[user]:password@]host[:port][/db], rediss://... or unix://[:password@]/path?db=N"


class UrlError(ValueError):
    """The URL cannot be used; str() says why without quoting the URL."""


@dataclass(frozen=True)
class Target:
    scheme: str  # redis, rediss or unix
    host: str = "localhost"
    port: int = DEFAULT_PORT
    socket_path: str = ""  # unix:// only
    username: Optional[str] = None
    password: Optional[str] = None
    db: int = 0
    tls: Dict[str, str] = field(default_factory=dict)  # the ssl_* parameters of a rediss:// URL


def split(url: str) -> Tuple[str, Optional[str], str]:
    """(scheme prefix, user-info or None, the rest): the user-info ends at the last '@' outside the query."""
    scheme = _SCHEME.match(url)
    prefix = scheme.group(0) if scheme else ""
    rest = url[len(prefix):]
    at = rest.rfind("@")
    question = rest.find("?")
    if 0 <= question < at and _looks_like_query(rest[question + 1:]):
        at = rest.rfind("@", 0, question)  # an '@' in ?client_name=a@b is no user-info
    if at < 0:
        return prefix, None, rest
    return prefix, rest[:at], rest[at + 1:]


def mask_url(url: str) -> str:
    """The URL with its password (and a ?password= value) replaced by '***'.

    A user-info part without ':' is masked whole: redis://SECRET@host is a common way to write a password. So is
    a query piece that is not a known name=value: "?hunter2" may be a misplaced password.
    """
    prefix, userinfo, rest = split(url)
    location, question, query = rest.partition("?")
    shown = location + question + "&".join(map(_mask_query_piece, query.split("&"))) if question else location
    if userinfo is None:
        return prefix + shown
    user, colon, _ = userinfo.partition(":")
    return f"{prefix}{user + ':***' if colon else '***'}@{shown}"


def parse(url: str) -> Target:
    """Where ``url`` points; UrlError when it cannot be used."""
    prefix, userinfo, rest = split(url)
    scheme = prefix.rstrip("/").rstrip(":").lower()
    if scheme not in SCHEMES or not prefix.endswith("://"):
        raise UrlError("the URL must start with redis://, rediss:// or unix://")
    location, _, query = rest.partition("?")
    params = _parameters(query, scheme)
    username, password = _credentials(userinfo, params.get("password"))
    username = params.get("username", username)
    tls = {name: params[name] for name in TLS_PARAMETERS if name in params}
    if scheme == "unix":
        if not location:
            raise UrlError("a unix:// URL needs the socket's path")
        return Target(scheme, socket_path=unquote(location), username=username, password=password,
                      db=_db(params.get("db", "")))
    host, port, path = _location(location)
    return Target(scheme, host=host, port=port, username=username, password=password,
                  db=_db(params.get("db", path.strip("/"))), tls=tls)


def _mask_query_piece(piece: str) -> str:
    name, equals, _ = piece.partition("=")
    known = equals and unquote(name).lower() in PARAMETERS + IGNORED_PARAMETERS
    if not known:
        return "***" if piece else piece
    return f"{name}=***" if unquote(name).lower() == "password" else piece


def _looks_like_query(text: str) -> bool:
    """Every '&'-separated piece is name=value of a parameter this module knows."""
    known = PARAMETERS + IGNORED_PARAMETERS
    return all(piece.partition("=")[0].lower() in known and "=" in piece for piece in text.split("&"))


def _parameters(query: str, scheme: str) -> Dict[str, str]:
    params = {}
    for piece in filter(None, query.split("&")):
        name, _, value = piece.partition("=")
        name = unquote(name).lower()
        if name in IGNORED_PARAMETERS:
            continue
        if name not in PARAMETERS:
            raise UrlError(_unknown(name))
        if name in TLS_PARAMETERS and scheme != "rediss":
            raise UrlError(f"{name} goes with a rediss:// URL (TLS)")
        params[name] = unquote(value)
    return params


def _unknown(name: str) -> str:
    """The name is shown only as a typo of a known one: "?hunter2" may be a misplaced password."""
    close = difflib.get_close_matches(name, PARAMETERS + IGNORED_PARAMETERS, n=1, cutoff=0.8)
    if close:
        return f"an unknown URL parameter {name!r}: did you mean {close[0]}?"
    return f"an unknown URL parameter (masked above); known: {', '.join(PARAMETERS)}"


def _credentials(userinfo: Optional[str], query_password: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    """(username, password); a user-info without ':' is the password (Redis before 6 had no users), unless the
    query gives the password (redis://user@host?password=pw). The query's password wins, as in redis-py."""
    user, colon, password = (userinfo or "").partition(":")
    if query_password is not None:
        return unquote(user) or None, query_password
    if userinfo is None:
        return None, None
    if not colon:
        return None, unquote(user) or None
    return unquote(user) or None, unquote(password)


def _location(location: str) -> Tuple[str, int, str]:
    """(host, port, path) of host[:port][/db]; an IPv6 host is in brackets."""
    hostport, slash, path = location.partition("/")
    if hostport.startswith("["):
        host, bracket, port_text = hostport[1:].partition("]")
        if not bracket or (port_text and not port_text.startswith(":")):
            raise UrlError("an IPv6 host must be written [address] or [address]:port")
        port_text = port_text[1:]
    else:
        host, _, port_text = hostport.partition(":")
        if ":" in port_text:
            raise UrlError("an IPv6 host must be written in brackets, [address]:port")
    if port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536):
        raise UrlError("the port must be a number from 1 to 65535")
    return host or "localhost", int(port_text or DEFAULT_PORT), slash + path


def _db(text: str) -> int:
    if not text:
        return 0
    if not (text.isdigit() and len(text) < 10):
        raise UrlError("the database must be a number (redis://host:6379/1 is database 1)")
    return int(text)
