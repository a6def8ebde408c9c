"""The FastAPI service Portico's end-to-end test registers as a tenant.

Run: E2E_SECRET=s E2E_MARKER_DIR=/tmp /usr/bin/python3 -m uvicorn fastapi_app:app --port N
"""
import asyncio
import os
import pathlib
from typing import List, Optional

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel

app = FastAPI(title="Portico end-to-end users API", version="1.0.0")


class ItemIn(BaseModel):
    name: str
    price: float
    tags: List[str] = []
    note: Optional[str] = None


class ItemOut(BaseModel):
    name: str
    price: float
    tags: List[str]
    note: Optional[str]
    total: float


@app.get("/users/{user_id}")
def get_user(user_id: int):
    """Look up one user by id."""
    return {"id": user_id, "name": "Alice"}


@app.get("/whoami")
def whoami(request: Request):
    """Answers only callers that send the service's bearer secret."""
    if request.headers.get("authorization") != "Bearer " + os.environ["E2E_SECRET"]:
        raise HTTPException(status_code=401, detail="Not authenticated")
    return {"user": "service-account", "scopes": ["read", "write"]}


@app.post("/items", response_model=ItemOut)
def create_item(item: ItemIn):
    """Create an item from a JSON body."""
    return ItemOut(name=item.name, price=item.price, tags=item.tags, note=item.note, total=item.price * 2)


@app.get("/slow")
async def slow(seconds: float = 1.0, tag: str = "slow"):
    """Sleeps, so a test can deactivate the tenant while a call is in flight."""
    marker = pathlib.Path(os.environ.get("E2E_MARKER_DIR", "/tmp")) / (tag + ".started")
    marker.write_text("started")
    await asyncio.sleep(seconds)
    return {"slept": seconds, "tag": tag}


# E2E_VARIANT=v2 is the same service after a deploy: one route removed
# (DELETE /users/{id}) and one added (GET /health), for the spec refresh test.
if os.environ.get("E2E_VARIANT", "v1") == "v1":
    @app.delete("/users/{user_id}")
    def delete_user(user_id: int):
        """Delete one user."""
        return {"deleted": user_id}
else:
    @app.get("/health")
    def health():
        """Report that the service is up."""
        return {"ok": True}
