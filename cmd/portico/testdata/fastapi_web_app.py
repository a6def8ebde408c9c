"""The end-to-end FastAPI app plus a hidden switch that changes its spec.

The dashboard's browser test flips the switch to see a refresh find new tools:
POST /_e2e/spec-v2 adds GET /orders/{order_id} and regenerates /openapi.json.
"""
from fastapi_app import app


def get_order(order_id: int):
    """Look up one order by id (added by the spec change)."""
    return {"id": order_id, "status": "shipped"}


@app.post("/_e2e/spec-v2", include_in_schema=False)
def spec_v2():
    if not any(getattr(r, "path", "") == "/orders/{order_id}" for r in app.routes):
        app.add_api_route("/orders/{order_id}", get_order, methods=["GET"])
        app.openapi_schema = None
    return {"ok": True}
