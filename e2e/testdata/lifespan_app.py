"""A FastAPI app that refreshes its Portico tenant on every start (portico_fastapi).

Run: PORTICO_URL=… PORTICO_TENANT=… PORTICO_HOOK_SECRET=… E2E_MARKER_DIR=/tmp \
     /usr/bin/python3 -m uvicorn lifespan_app:app --port N
E2E_VARIANT=v2 is the app after a deploy: it has one more endpoint.
"""
import contextlib
import logging
import os
import pathlib

from fastapi import FastAPI, Request

from portico_fastapi import combine_lifespans, portico_lifespan

logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
markers = pathlib.Path(os.environ["E2E_MARKER_DIR"])
variant = os.environ.get("E2E_VARIANT", "v1")


@contextlib.asynccontextmanager
async def own_lifespan(app):
    """The app's own startup and shutdown, which Portico's must not disturb."""
    (markers / f"{variant}.startup").touch()
    app.state.greeting = "hello from " + variant
    try:
        yield
    finally:
        (markers / f"{variant}.shutdown").touch()


app = FastAPI(title="Lifespan orders", version=variant)
# FastAPI(lifespan=...) from FastAPI 0.93; the router's lifespan works in every version.
app.router.lifespan_context = combine_lifespans(own_lifespan, portico_lifespan())


@app.get("/orders/{order_id}")
def get_order(order_id: int, request: Request):
    """Look up one order."""
    return {"id": order_id, "greeting": request.app.state.greeting}


if variant == "v2":
    @app.post("/orders/{order_id}/refund")
    def refund_order(order_id: int):
        """Refund an order."""
        return {"id": order_id, "refunded": True}
