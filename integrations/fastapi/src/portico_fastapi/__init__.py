"""Tie a FastAPI app's lifespan to Portico: every start of the app refreshes its tools.

    from fastapi import FastAPI
    from portico_fastapi import combine_lifespans, portico_lifespan

    app = FastAPI(lifespan=combine_lifespans(my_lifespan, portico_lifespan()))

or, for any FastAPI or Starlette version and apps that use on_event handlers,

    app = FastAPI()
    attach(app)   # after the app's own lifespan, which keeps running first

On startup, ``portico_lifespan`` sends the tenant's signed spec webhook
(``POST /api/v1/tenants/<id>/spec/hook``), so Portico fetches the app's
OpenAPI document again and connected MCP sessions get ``list_changed`` when
the tools changed. It runs in the background: the app starts serving at once,
and since Portico fetches the spec from the app, a refresh that finds the app
not yet listening is retried. On shutdown it only cancels a delivery still in
flight; it never calls Portico then.

Configuration comes from the arguments or, when they are omitted, from
``PORTICO_URL``, ``PORTICO_TENANT`` and ``PORTICO_HOOK_SECRET`` (the secret
``POST /api/v1/tenants/<id>/spec/hook-secret`` returned). Without all three
the lifespan does nothing and says so once, so a developer's laptop needs no
Portico.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import time
import uuid
from typing import Any, AsyncIterator, Callable, Mapping, Optional

import httpx

__all__ = ["attach", "combine_lifespans", "portico_lifespan", "sign", "HookResult"]

__version__ = "0.1.0"

SIGNATURE_HEADER = "X-Portico-Signature"
TIMESTAMP_HEADER = "X-Portico-Timestamp"

log = logging.getLogger("portico_fastapi")

Lifespan = Callable[[Any], contextlib.AbstractAsyncContextManager]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Portico-Signature value for body sent at timestamp (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class HookResult:
    """How the last delivery ended: ok, the HTTP status (0 when none) and Portico's answer."""

    def __init__(self, ok: bool, status: int, detail: Any, attempts: int):
        self.ok = ok
        self.status = status
        self.detail = detail
        self.attempts = attempts

    def __repr__(self) -> str:
        return f"HookResult(ok={self.ok}, status={self.status}, attempts={self.attempts})"


# Statuses worth another try: Portico could not fetch the spec (the app is
# not listening yet, 502), is busy or draining (429, 503), or failed (500).
_RETRY = {429, 500, 502, 503, 504}


def portico_lifespan(
    url: Optional[str] = None,
    tenant: Optional[str] = None,
    secret: Optional[str] = None,
    *,
    attempts: int = 6,
    first_delay: float = 0.2,
    backoff: float = 0.5,
    timeout: float = 30.0,
    transport: Optional[httpx.AsyncBaseTransport] = None,
    on_result: Optional[Callable[[HookResult], None]] = None,
) -> Lifespan:
    """A lifespan that asks Portico to refresh the tenant's tools when the app starts.

    attempts bounds the deliveries (the first after first_delay seconds, then
    backoff, doubling); timeout bounds each request. on_result, if given, is
    called with the outcome (tests and health checks use it). transport lets
    tests replace the network.
    """
    url = (url if url is not None else os.environ.get("PORTICO_URL", "")).rstrip("/")
    tenant = tenant if tenant is not None else os.environ.get("PORTICO_TENANT", "")
    secret = secret if secret is not None else os.environ.get("PORTICO_HOOK_SECRET", "")
    missing = [name for name, v in (("PORTICO_URL", url), ("PORTICO_TENANT", tenant), ("PORTICO_HOOK_SECRET", secret)) if not v]
    if attempts < 1:
        raise ValueError("portico_lifespan: attempts must be at least 1")

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        if missing:
            log.info("portico: not refreshing tools on startup: %s not set", ", ".join(missing))
            yield
            return
        hook = f"{url}/api/v1/tenants/{tenant}/spec/hook"
        about = {"event": "startup", "app": getattr(app, "title", ""), "version": getattr(app, "version", "")}
        task = asyncio.create_task(_deliver(hook, secret, about, attempts, first_delay, backoff,
                                            timeout, transport, on_result))
        try:
            yield
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan


async def _deliver(hook: str, secret: str, about: dict, attempts: int, first_delay: float,
                   backoff: float, timeout: float, transport: Optional[httpx.AsyncBaseTransport],
                   on_result: Optional[Callable[[HookResult], None]]) -> None:
    result = HookResult(False, 0, None, 0)
    delay = first_delay
    async with httpx.AsyncClient(timeout=timeout, transport=transport) as client:
        for attempt in range(1, attempts + 1):
            await asyncio.sleep(delay)
            delay = backoff if attempt == 1 else delay * 2
            # Portico refuses a signature it has seen: each attempt is a new
            # delivery, even within one second.
            body = json.dumps({**about, "delivery": uuid.uuid4().hex, "attempt": attempt}).encode()
            ts = int(time.time())
            headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(ts),
                       SIGNATURE_HEADER: sign(secret, ts, body)}
            try:
                resp = await client.post(hook, content=body, headers=headers)
            except httpx.HTTPError as err:
                result = HookResult(False, 0, f"{type(err).__name__}: {err}", attempt)
                log.warning("portico: refresh webhook %s failed (attempt %d of %d): %s", hook, attempt, attempts, result.detail)
                continue
            detail = _json(resp)
            result = HookResult(resp.status_code == 200, resp.status_code, detail, attempt)
            if resp.status_code == 200:
                log.info("portico: tools refreshed: version %s, changed %s",
                         _get(detail, "version"), _get(detail, "changed"))
                break
            message = _get(_get(detail, "error"), "message") or resp.text[:300]
            if resp.status_code not in _RETRY:
                log.warning("portico: refresh webhook %s refused (HTTP %d): %s", hook, resp.status_code, message)
                break
            log.warning("portico: refresh webhook %s answered HTTP %d (attempt %d of %d): %s",
                        hook, resp.status_code, attempt, attempts, message)
    if on_result is not None:
        on_result(result)


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _get(v: Any, key: str) -> Any:
    return v.get(key) if isinstance(v, Mapping) else None


def combine_lifespans(*lifespans: Lifespan) -> Lifespan:
    """One lifespan that enters each in order and leaves them in reverse.

    A lifespan that yields a mapping contributes it to the app's lifespan
    state (request.state); later ones win on the same key.
    """

    @contextlib.asynccontextmanager
    async def combined(app: Any) -> AsyncIterator[Optional[dict]]:
        async with contextlib.AsyncExitStack() as stack:
            state: dict = {}
            for ls in lifespans:
                got = await stack.enter_async_context(ls(app))
                if isinstance(got, Mapping):
                    state.update(got)
            yield state or None

    return combined


def attach(app: Any, **kwargs: Any) -> Any:
    """Add portico_lifespan(**kwargs) after the app's existing lifespan and return app.

    Works where FastAPI(lifespan=...) does not exist (FastAPI before 0.93)
    and keeps on_event("startup"/"shutdown") handlers, which run inside the
    router's existing lifespan.
    """
    router = app.router
    router.lifespan_context = combine_lifespans(router.lifespan_context, portico_lifespan(**kwargs))
    return app
