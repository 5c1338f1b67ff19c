"""Who may use the chat server: the host and login checks of the page and the REST API.

One module for both, so the rules cannot drift apart: a loopback address needs no login, any
other address needs ``--auth USER:PASSWORD`` or ``RAG_AUTH`` (:func:`launch_auth`, checked before
anything is loaded), and every route of ``/api`` then wants that login as HTTP basic auth
(:func:`login_check`), as Gradio's own login guards the page.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request

AUTH_ENV = "RAG_AUTH"  # USER:PASSWORD, the same as --auth
REALM = 'Basic realm="rag"'


class LoginRequired(Exception):
    """A request without the configured login (the API answers 401 with ``headers``)."""

    headers = {"WWW-Authenticate": REALM}

    def __init__(self) -> None:
        super().__init__("login required (HTTP basic auth)")


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, "localhost")."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name or 0.0.0.0-style wildcard: others may reach it


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``USER:PASSWORD`` -> (user, password); None for no value; ValueError when malformed."""
    if value is None or not value.strip():
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise ValueError("credentials must look like USER:PASSWORD (both parts non-empty)")
    return user.strip(), password


def launch_auth(host: str, auth_flag: str | None, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The credentials to launch with, or ValueError when ``host`` is exposed without any.

    On a loopback address no login is needed (only this machine can connect); any other address
    requires ``--auth USER:PASSWORD`` or the environment variable ``RAG_AUTH``.
    """
    auth = parse_auth(auth_flag) if auth_flag is not None else parse_auth(environ.get(AUTH_ENV))
    if auth is None and not is_loopback(host):
        raise ValueError(
            f"refusing to listen on {host} without a login: anyone who can reach it could use the "
            f"chat. Give credentials with --auth USER:PASSWORD or the environment variable "
            f"{AUTH_ENV}=USER:PASSWORD, or use --host 127.0.0.1"
        )
    return auth


def basic_credentials(header: str) -> tuple[str, str]:
    """(user, password) of an ``Authorization: Basic ...`` header; ("", "") for anything else."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, password


def login_matches(auth: tuple[str, str] | None, header: str) -> bool:
    """Whether an ``Authorization`` header carries ``auth`` (always, when there is no login);
    compared in constant time."""
    if auth is None:
        return True
    user, password = basic_credentials(header)
    ok_user = secrets.compare_digest(user.encode(), auth[0].encode())
    ok_password = secrets.compare_digest(password.encode(), auth[1].encode())
    return ok_user and ok_password


def login_check(auth: tuple[str, str] | None) -> Callable[[Request], Awaitable[None]]:
    """A FastAPI dependency that raises :class:`LoginRequired` unless the request carries ``auth``.
    async: FastAPI runs a plain ``def`` dependency in its thread pool, a hop to another thread and
    back for every request (the check itself takes microseconds)."""

    async def check(request: Request) -> None:
        if not login_matches(auth, request.headers.get("authorization", "")):
            raise LoginRequired

    return check
