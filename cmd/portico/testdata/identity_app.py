"""An upstream for the upstream-identity tests: a small OAuth2 token
endpoint (client credentials, tokens with an expiry), an API that accepts
only the tokens it issued, and one that checks Portico's identity assertion
with the dependency docs/security.md shows (imported from portico_identity,
which the test writes from the docs)."""
import base64
import os
import secrets
import time

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from portico_identity import portico_identity

app = FastAPI(title="identity upstream")
CLIENT_ID = os.environ["IDP_CLIENT_ID"]
CLIENT_SECRET = os.environ["IDP_CLIENT_SECRET"]
TTL = int(os.environ.get("IDP_TOKEN_TTL", "3600"))
issued = {}  # access token -> expiry
stats = {"token_requests": 0, "last_identity": ""}


@app.post("/oauth/token", include_in_schema=False)
async def token(request: Request):
    stats["token_requests"] += 1
    form = await request.form()
    client_id, secret = form.get("client_id"), form.get("client_secret")
    auth = request.headers.get("authorization", "")
    if auth.startswith("Basic "):
        client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
    if form.get("grant_type") != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    if client_id != CLIENT_ID or secret != CLIENT_SECRET:
        return JSONResponse({"error": "invalid_client", "error_description": "unknown client or wrong secret"}, status_code=401)
    tok = secrets.token_urlsafe(24)
    issued[tok] = time.time() + TTL
    return {"access_token": tok, "token_type": "Bearer", "expires_in": TTL, "scope": form.get("scope", "")}


@app.post("/admin/revoke", include_in_schema=False)
def revoke():
    issued.clear()
    return {"revoked": True}


@app.get("/admin/stats", include_in_schema=False)
def get_stats():
    return stats


@app.get("/m2m/report", operation_id="m2m_report")
def m2m_report(authorization: str = Header(default="")):
    """A report only clients with a valid access token may read."""
    tok = authorization.removeprefix("Bearer ")
    if issued.get(tok, 0) < time.time():
        raise HTTPException(status_code=401, detail="invalid or expired access token")
    return {"report": "ok", "token_requests": stats["token_requests"]}


@app.get("/me", operation_id="who_am_i")
def who_am_i(request: Request, who: dict = Depends(portico_identity)):
    """Who Portico says is calling."""
    stats["last_identity"] = request.headers["x-portico-identity"]
    return {"sub": who["sub"], "tenant": who["tenant"], "scopes": who["scopes"], "aud": who["aud"], "iss": who["iss"]}
