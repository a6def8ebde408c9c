"""The upstream service behind the MCP conformance and client tests.

Its operations become exactly the tools, resources and resource templates
the official conformance suite asks for by name (route maps and the
tenant's `uris` setting do the mapping), plus a slow endpoint that records a
client disconnect for the cancellation test.

Run: E2E_MARKER_DIR=/tmp /usr/bin/python3 -m uvicorn conformance_app:app --port N
"""
import asyncio
import base64
import os
import pathlib

from fastapi import FastAPI, Header, HTTPException, Path, Request
from fastapi.responses import PlainTextResponse, Response

app = FastAPI(title="Portico conformance fixture", version="1.0.0")
# 3.1: the document's schemas are JSON Schema 2020-12, which the
# json-schema-2020-12 scenario's tool needs (see CONTACT below).
app.openapi_version = "3.1.0"

# A 1x1 red PNG and a tiny silent WAV.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
WAV = base64.b64decode("UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA=")


def marker_dir() -> pathlib.Path:
    return pathlib.Path(os.environ.get("E2E_MARKER_DIR", "/tmp"))


@app.get("/tools/simple-text", operation_id="test_simple_text", response_class=PlainTextResponse)
def simple_text():
    """Returns a fixed sentence as text."""
    return "This is a simple text response for testing."


@app.get("/tools/image", operation_id="test_image_content")
def image_content():
    """Returns a PNG image."""
    return Response(content=PNG, media_type="image/png")


@app.get("/tools/audio", operation_id="test_audio_content")
def audio_content():
    """Returns a WAV recording."""
    return Response(content=WAV, media_type="audio/wav")


@app.get("/tools/error", operation_id="test_error_handling")
def error_handling():
    """Always fails."""
    raise HTTPException(status_code=500, detail="This tool intentionally returns an error for testing")


@app.get("/tools/progress", operation_id="test_tool_with_progress")
async def tool_with_progress():
    """Takes long enough for Portico to report progress."""
    await asyncio.sleep(3.5)
    return {"done": True}


@app.get("/tools/slow", operation_id="slow_until_disconnect")
async def slow_until_disconnect(request: Request, tag: str = "slow", seconds: float = 30):
    """Waits up to `seconds`, writing <tag>.started at once and
    <tag>.disconnected when the caller goes away first."""
    d = marker_dir()
    (d / (tag + ".started")).write_text("started")
    for _ in range(int(seconds * 20)):
        if await request.is_disconnected():
            (d / (tag + ".disconnected")).write_text("disconnected")
            return {"disconnected": True}
        await asyncio.sleep(0.05)
    return {"slept": seconds}


@app.get("/tools/regional", operation_id="test_header_param", response_class=PlainTextResponse)
def header_param(region: str = Header(description="the region to answer for")):
    """Echoes its header parameter; in MCP the parameter carries x-mcp-header,
    so 2026-07-28 clients mirror it into Mcp-Param-region."""
    return "region: " + region


@app.get("/tools/reconnection", operation_id="test_reconnection", response_class=PlainTextResponse)
def reconnection():
    """The tool the suite's server-sse-polling scenario calls. Portico never
    ends a call's stream before its answer, so the answer comes on the POST
    stream, after its priming event."""
    return "answered on the request's own stream"


@app.get("/tools/with-logging", operation_id="test_tool_with_logging", response_class=PlainTextResponse)
def tool_with_logging():
    """The tool the suite's tools-call-with-logging scenario calls after
    setting the level to debug: Portico reports its one upstream exchange as
    one notifications/message on the call's stream, before the answer."""
    return "logged as one upstream exchange"


@app.get("/tools/logging", operation_id="test_logging_tool", response_class=PlainTextResponse)
def logging_tool():
    """The tool the suite calls to check that a request without a log level
    gets no log messages (Portico reports the upstream exchange only to
    clients that asked)."""
    return "logged only when asked"


# The body of json_schema_2020_12_tool, as the suite's scenario
# json-schema-2020-12 writes its inputSchema; the address is a component,
# which Portico names $defs/address.
CONTACT = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/components/schemas/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}
ADDRESS = {
    "$anchor": "addressDef",
    "type": "object",
    "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
}


@app.post(
    "/tools/json-schema",
    operation_id="json_schema_2020_12_tool",
    response_class=PlainTextResponse,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": CONTACT}}}},
)
async def json_schema_tool(request: Request):
    """Takes a contact described with JSON Schema 2020-12 keywords."""
    body = await request.json()
    return "contact " + str(body.get("name", ""))


@app.get("/resources/static-text", operation_id="static_text", response_class=PlainTextResponse)
def static_text():
    """A fixed text document."""
    return "This is the content of the static text resource."


@app.get("/resources/static-binary", operation_id="static_binary")
def static_binary():
    """A fixed PNG image."""
    return Response(content=PNG, media_type="image/png")


@app.get("/resources/template/{id}/data", operation_id="template_data")
def template_data(id: str = Path(example="123")):
    """Data for one id. The example is what completion/complete offers."""
    return {"id": id, "templateTest": True, "data": "Data for ID: " + id}


# E2E_VARIANT=v2 is the service after a deploy that added an operation, for
# the client matrix's list_changed step.
if os.environ.get("E2E_VARIANT", "v1") == "v2":
    @app.get("/tools/added", operation_id="added_in_v2", response_class=PlainTextResponse)
    def added_in_v2():
        """Exists only after the deploy."""
        return "added"


def openapi():
    if app.openapi_schema is None:
        doc = FastAPI.openapi(app)
        doc.setdefault("components", {}).setdefault("schemas", {})["address"] = ADDRESS
    return app.openapi_schema


app.openapi = openapi
