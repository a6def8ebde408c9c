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


# A second, hand-written document for the dashboard's conversion report: a
# name over 64 characters, two operations wanting one name, an OAuth 2
# scheme and a webhook (not carried over), and a title with markup that must
# show as text. The wizard previews it through its "Spec URL" field.
ODD_SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "Odd <b>report</b> API", "version": "0.1"},
    "components": {"securitySchemes": {"oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://auth.example.com/token", "scopes": {}}}}}},
    "security": [{"oauth": []}],
    "webhooks": {"orderShipped": {"post": {"responses": {"200": {"description": "ok"}}}}},
    "paths": {
        "/reports/quarterly/{year}": {"get": {
            "operationId": "get_the_quarterly_financial_report_for_a_given_year_with_all_details_included",
            "parameters": [{"name": "year", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/things": {"get": {"operationId": "list_things", "responses": {"200": {"description": "ok"}}}},
        "/things/all": {"get": {"operationId": "list_things", "responses": {"200": {"description": "ok"}}}},
    },
}


@app.get("/_e2e/odd-openapi.json", include_in_schema=False)
def odd_spec():
    return ODD_SPEC
