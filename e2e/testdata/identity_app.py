"""An upstream for the upstream-identity tests: a small OAuth2 provider
(client credentials; authorization code with PKCE and a sign-in form, for
users who link their accounts; rotating refresh tokens; tokens with an
expiry), an API that accepts only the tokens it issued and answers each
user with their own data, and one that checks Portico's identity assertion
with the dependency docs/security.md shows (imported from portico_identity,
which the test writes from the docs)."""
import base64
import hashlib
import html
import os
import secrets
import time
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, Header, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from portico_identity import portico_identity

app = FastAPI(title="identity upstream")
CLIENT_ID = os.environ["IDP_CLIENT_ID"]
CLIENT_SECRET = os.environ["IDP_CLIENT_SECRET"]
TTL = int(os.environ.get("IDP_TOKEN_TTL", "3600"))
USER_TTL = int(os.environ.get("IDP_USER_TOKEN_TTL", "3600"))
# Every token this provider hands a user starts with this prefix, so the
# test can look for any of them in Portico's logs, responses and database.
USER_TOKEN_PREFIX = os.environ.get("IDP_USER_TOKEN_PREFIX", "upstream-canary-")
issued = {}  # access token -> expiry
user_tokens = {}  # access token -> (user, expiry)
refresh_tokens = {}  # refresh token -> (user, scope)
codes = {}  # code -> dict(user, redirect_uri, challenge, scope, expires)
NOTES = {
    "alice": ["alice: buy milk", "alice: call the bank"],
    "bob": ["bob: fix the bike"],
}
stats = {"token_requests": 0, "last_identity": "", "code_exchanges": 0, "refreshes": 0, "authorizations": 0}


def client_of(request, form):
    client_id, secret = form.get("client_id"), form.get("client_secret")
    auth = request.headers.get("authorization", "")
    if auth.startswith("Basic "):
        client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
    return client_id, secret


def user_pair(user, scope):
    access = USER_TOKEN_PREFIX + "at-" + secrets.token_urlsafe(18)
    refresh = USER_TOKEN_PREFIX + "rt-" + secrets.token_urlsafe(18)
    user_tokens[access] = (user, time.time() + USER_TTL)
    refresh_tokens[refresh] = (user, scope)
    return {"access_token": access, "token_type": "bearer", "expires_in": USER_TTL, "refresh_token": refresh, "scope": scope}


@app.get("/oauth/authorize", include_in_schema=False)
def authorize_form(response_type: str = "", client_id: str = "", redirect_uri: str = "", state: str = "",
                   code_challenge: str = "", code_challenge_method: str = "", scope: str = ""):
    """The provider's sign-in and consent page."""
    if response_type != "code" or client_id != CLIENT_ID or not redirect_uri:
        return HTMLResponse("<p>bad authorization request</p>", status_code=400)
    if code_challenge_method != "S256" or len(code_challenge) < 43:
        return HTMLResponse("<p>PKCE with S256 is required</p>", status_code=400)
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in
                     {"redirect_uri": redirect_uri, "state": state, "code_challenge": code_challenge, "scope": scope}.items())
    return HTMLResponse(f"""<!doctype html><title>Identity provider sign-in</title>
<h1>Sign in to the identity provider</h1>
<form method="post" action="/oauth/authorize">{hidden}
<label>Username <input name="username" id="idp-username"></label>
<button type="submit" name="decision" value="allow" id="idp-allow">Allow</button>
<button type="submit" name="decision" value="deny" id="idp-deny">Deny</button>
</form>""")


@app.post("/oauth/authorize", include_in_schema=False)
def authorize_decide(redirect_uri: str = Form(...), state: str = Form(""), code_challenge: str = Form(...),
                     scope: str = Form(""), username: str = Form(""), decision: str = Form("allow")):
    sep = "&" if "?" in redirect_uri else "?"
    if decision != "allow":
        return RedirectResponse(redirect_uri + sep + urlencode({"error": "access_denied", "error_description": "the user said no", "state": state}), status_code=302)
    if username not in NOTES:
        return HTMLResponse("<p>unknown user</p>", status_code=400)
    stats["authorizations"] += 1
    code = secrets.token_urlsafe(16)
    codes[code] = {"user": username, "redirect_uri": redirect_uri, "challenge": code_challenge, "scope": scope, "expires": time.time() + 120}
    return RedirectResponse(redirect_uri + sep + urlencode({"code": code, "state": state}), status_code=302)


@app.post("/oauth/token", include_in_schema=False)
async def token(request: Request):
    stats["token_requests"] += 1
    form = await request.form()
    client_id, secret = client_of(request, form)
    grant = form.get("grant_type")
    if grant not in ("client_credentials", "authorization_code", "refresh_token"):
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    if client_id != CLIENT_ID or secret != CLIENT_SECRET:
        return JSONResponse({"error": "invalid_client", "error_description": "unknown client or wrong secret"}, status_code=401)
    if grant == "authorization_code":
        c = codes.pop(form.get("code", ""), None)
        if c is None or c["expires"] < time.time() or c["redirect_uri"] != form.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant", "error_description": "unknown or used code, or another redirect_uri"}, status_code=400)
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if challenge != c["challenge"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "PKCE verification failed"}, status_code=400)
        stats["code_exchanges"] += 1
        return user_pair(c["user"], c["scope"])
    if grant == "refresh_token":
        r = refresh_tokens.pop(form.get("refresh_token", ""), None)  # rotating: each refresh token works once
        if r is None:
            return JSONResponse({"error": "invalid_grant", "error_description": "unknown or used refresh token"}, status_code=400)
        stats["refreshes"] += 1
        return user_pair(r[0], r[1])
    tok = secrets.token_urlsafe(24)
    issued[tok] = time.time() + TTL
    return {"access_token": tok, "token_type": "Bearer", "expires_in": TTL, "scope": form.get("scope", "")}


@app.post("/admin/revoke", include_in_schema=False)
def revoke():
    issued.clear()
    return {"revoked": True}


@app.post("/admin/expire-user-tokens", include_in_schema=False)
def expire_user_tokens():
    """Refuse every user access token issued so far (their refresh tokens still work)."""
    user_tokens.clear()
    return {"expired": True}


@app.get("/notes", operation_id="my_notes")
def my_notes(authorization: str = Header(default="")):
    """The calling user's own notes."""
    tok = authorization.removeprefix("Bearer ")
    user, exp = user_tokens.get(tok, ("", 0))
    if exp < time.time():
        raise HTTPException(status_code=401, detail="invalid or expired access token")
    return {"user": user, "notes": NOTES[user]}


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
