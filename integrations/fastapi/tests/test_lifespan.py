"""Unit tests of portico_fastapi, with the network replaced by httpx.MockTransport.

Run: /usr/bin/python3 -m unittest discover -s integrations/fastapi/tests
(with integrations/fastapi/src on PYTHONPATH, or the package installed).
"""
import asyncio
import contextlib
import hashlib
import hmac
import json
import unittest

import httpx

from portico_fastapi import attach, combine_lifespans, portico_lifespan, sign


class App:
    title = "Orders"
    version = "2.0"


class Recorder:
    """A fake Portico: answers with the statuses given, in order, and records requests."""

    def __init__(self, *statuses):
        self.statuses = list(statuses)
        self.requests = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            return httpx.Response(200, json={"changed": True, "version": 3})
        return httpx.Response(status, json={"error": {"code": "x", "message": f"status {status}"}})


def run(lifespan, app=None, serve=0.0):
    """Enter the lifespan, 'serve' for a while, leave it."""
    async def main():
        async with lifespan(app or App()):
            await asyncio.sleep(serve)
    asyncio.run(main())


class LifespanTest(unittest.TestCase):
    def lifespan(self, fake, results, **kw):
        kw.setdefault("first_delay", 0)
        kw.setdefault("backoff", 0)
        return portico_lifespan("http://portico.test/", "t1", "s3cret", transport=httpx.MockTransport(fake),
                                on_result=results.append, **kw)

    def test_signed_delivery_on_startup(self):
        fake, results = Recorder(200), []
        run(self.lifespan(fake, results), serve=0.2)
        self.assertEqual(len(fake.requests), 1)
        req = fake.requests[0]
        self.assertEqual(str(req.url), "http://portico.test/api/v1/tenants/t1/spec/hook")
        ts = req.headers["X-Portico-Timestamp"]
        want = hmac.new(b"s3cret", ts.encode() + b"." + req.content, hashlib.sha256).hexdigest()
        self.assertEqual(req.headers["X-Portico-Signature"], "sha256=" + want)
        body = json.loads(req.content)
        self.assertEqual({k: body[k] for k in ("event", "app", "version", "attempt")},
                         {"event": "startup", "app": "Orders", "version": "2.0", "attempt": 1})
        self.assertTrue(results[0].ok)
        self.assertEqual(results[0].detail["version"], 3)

    def test_retries_while_portico_cannot_fetch_the_spec(self):
        fake, results = Recorder(502, 503, 200), []
        run(self.lifespan(fake, results), serve=0.3)
        self.assertEqual(len(fake.requests), 3)
        self.assertTrue(results[0].ok)
        self.assertEqual(results[0].attempts, 3)
        sigs = {r.headers["X-Portico-Signature"] for r in fake.requests}
        self.assertEqual(len(sigs), 3, "each attempt must carry a fresh signature: Portico refuses replays")

    def test_no_retry_when_refused(self):
        for status in (401, 404, 409, 422):
            fake, results = Recorder(status, 200), []
            run(self.lifespan(fake, results), serve=0.2)
            self.assertEqual(len(fake.requests), 1, f"HTTP {status} must not be retried")
            self.assertFalse(results[0].ok)
            self.assertEqual(results[0].status, status)

    def test_gives_up_after_attempts(self):
        fake, results = Recorder(502, 502, 502, 502), []
        run(self.lifespan(fake, results, attempts=3), serve=0.3)
        self.assertEqual(len(fake.requests), 3)
        self.assertFalse(results[0].ok)

    def test_unreachable_portico_does_not_break_the_app(self):
        def down(request):
            raise httpx.ConnectError("connection refused", request=request)
        results = []
        run(self.lifespan(down, results, attempts=2), serve=0.2)
        self.assertFalse(results[0].ok)
        self.assertEqual(results[0].status, 0)

    def test_shutdown_cancels_a_pending_delivery_and_calls_nothing(self):
        fake, results = Recorder(200), []
        run(self.lifespan(fake, results, first_delay=30), serve=0)
        self.assertEqual(fake.requests, [])
        self.assertEqual(results, [])

    def test_unconfigured_does_nothing(self):
        fake = Recorder(200)
        ls = portico_lifespan("", "", "", transport=httpx.MockTransport(fake))
        with self.assertLogs("portico_fastapi", "INFO") as logs:
            run(ls, serve=0.1)
        self.assertEqual(fake.requests, [])
        self.assertIn("PORTICO_URL, PORTICO_TENANT, PORTICO_HOOK_SECRET not set", logs.output[0])

    def test_sign_matches_portico_scheme(self):
        mac = hmac.new(b"k", b"17.{}", hashlib.sha256).hexdigest()
        self.assertEqual(sign("k", 17, b"{}"), "sha256=" + mac)


class CombineTest(unittest.TestCase):
    def test_order_and_state(self):
        events = []

        def named(name, state=None):
            @contextlib.asynccontextmanager
            async def ls(app):
                events.append("enter " + name)
                yield state
                events.append("exit " + name)
            return ls

        got = []

        async def main():
            async with combine_lifespans(named("a", {"x": 1}), named("b"), named("c", {"y": 2}))(App()) as state:
                got.append(state)
        asyncio.run(main())
        self.assertEqual(events, ["enter a", "enter b", "enter c", "exit c", "exit b", "exit a"])
        self.assertEqual(got, [{"x": 1, "y": 2}])

    def test_a_failing_startup_unwinds_what_started(self):
        events = []

        @contextlib.asynccontextmanager
        async def ok(app):
            events.append("enter ok")
            try:
                yield
            finally:
                events.append("exit ok")

        @contextlib.asynccontextmanager
        async def broken(app):
            raise RuntimeError("boom")
            yield

        async def main():
            async with combine_lifespans(ok, broken)(App()):
                pass
        with self.assertRaises(RuntimeError):
            asyncio.run(main())
        self.assertEqual(events, ["enter ok", "exit ok"])


class AttachTest(unittest.TestCase):
    def test_runs_after_the_existing_lifespan(self):
        from starlette.applications import Starlette

        events = []
        app = Starlette(on_startup=[lambda: events.append("app startup")],
                        on_shutdown=[lambda: events.append("app shutdown")])
        fake = Recorder(200)
        results = []
        attach(app, url="http://portico.test", tenant="t1", secret="s", first_delay=0,
               transport=httpx.MockTransport(fake), on_result=lambda r: (events.append("hook"), results.append(r)))

        async def main():
            async with app.router.lifespan_context(app):
                await asyncio.sleep(0.2)
        asyncio.run(main())
        self.assertEqual(events, ["app startup", "hook", "app shutdown"])
        self.assertTrue(results[0].ok)


if __name__ == "__main__":
    unittest.main()
