"""A feature-rich FastAPI service for Portico's parity test (parity_test.go):
every call through MCP must equal the same call made directly over HTTP.

It covers path, query, header and cookie parameters; enum and list query
parameters; nested and recursive models; an OAuth2 password-form login; a
multipart upload; list, string, integer, 204, text/plain and image/png
responses; a 404 and a 422 raised by a model validator (which no input schema
can express, so the upstream itself must answer it).

Run: /usr/bin/python3 -m uvicorn parity_app:app --port N (Debian FastAPI,
pydantic v1: OpenAPI 3.0.2).
"""
import base64
import enum
import hashlib
from typing import List, Optional

from fastapi import Cookie, Depends, FastAPI, File, Form, Header, HTTPException, Query, Response, UploadFile
from fastapi.responses import PlainTextResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, validator

app = FastAPI(title="Portico parity API", version="1.0.0")

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


class Color(str, enum.Enum):
    red = "red"
    green = "green"
    blue = "blue"


class Address(BaseModel):
    street: str
    city: str
    zip: Optional[str] = None


class Customer(BaseModel):
    name: str
    address: Address


class Line(BaseModel):
    sku: str
    qty: int
    unit_price: float


class Order(BaseModel):
    customer: Customer
    lines: List[Line]
    note: Optional[str] = None

    @validator("lines")
    def lines_not_empty(cls, v):
        # Not expressible in the schema FastAPI publishes: only the
        # upstream can refuse it, with a 422.
        if not v:
            raise ValueError("an order needs at least one line")
        return v


class OrderOut(BaseModel):
    customer: Customer
    lines: List[Line]
    note: Optional[str]
    total: float
    city: str


class TreeNode(BaseModel):
    name: str
    children: List["TreeNode"] = []


TreeNode.update_forward_refs()


class TreeSummary(BaseModel):
    nodes: int
    depth: int
    names: List[str]
    tree: TreeNode


class Token(BaseModel):
    access_token: str
    token_type: str
    scopes: List[str]


class Upload(BaseModel):
    filename: str
    content_type: Optional[str]
    size: int
    sha256: str
    description: Optional[str]


class Hit(BaseModel):
    id: int
    color: Color
    tag: str


@app.get("/items/{item_id}", operation_id="get_item")
def get_item(
    item_id: int,
    q: Optional[str] = None,
    verbose: bool = False,
    x_request_id: Optional[str] = Header(None),
    session: Optional[str] = Cookie(None),
):
    """One item, echoing every parameter it was asked with."""
    if item_id == 404:
        raise HTTPException(status_code=404, detail="item 404 not found")
    return {"item_id": item_id, "q": q, "verbose": verbose, "request_id": x_request_id, "session": session}


@app.get("/search", response_model=List[Hit], operation_id="search")
def search(color: Color, tags: List[str] = Query([]), limit: int = Query(3, ge=1, le=10)):
    """Enum and list query parameters; answers a list."""
    return [{"id": i, "color": color, "tag": tags[i % len(tags)] if tags else ""} for i in range(limit)]


@app.post("/orders", response_model=OrderOut, operation_id="create_order")
def create_order(order: Order):
    """A nested model in, a nested model out."""
    total = sum(l.qty * l.unit_price for l in order.lines)
    return OrderOut(customer=order.customer, lines=order.lines, note=order.note, total=total, city=order.customer.address.city)


def walk(node: TreeNode, depth: int, names: List[str]) -> int:
    names.append(node.name)
    return max([depth] + [walk(c, depth + 1, names) for c in node.children])


@app.post("/trees", response_model=TreeSummary, operation_id="summarize_tree")
def summarize_tree(tree: TreeNode):
    """A recursive model: a tree of named nodes."""
    names: List[str] = []
    depth = walk(tree, 1, names)
    return TreeSummary(nodes=len(names), depth=depth, names=names, tree=tree)


@app.post("/token", response_model=Token, operation_id="login")
def login(form: OAuth2PasswordRequestForm = Depends()):
    """OAuth2 password flow: a form-urlencoded login."""
    if form.password != "secret-" + form.username:
        raise HTTPException(status_code=401, detail="Incorrect username or password", headers={"WWW-Authenticate": "Bearer"})
    return Token(access_token="token-for-" + form.username, token_type="bearer", scopes=form.scopes)


@app.post("/upload", response_model=Upload, operation_id="upload_file")
async def upload_file(file: UploadFile = File(...), description: Optional[str] = Form(None)):
    """A multipart upload of one file and a form field."""
    content = await file.read()
    return Upload(
        filename=file.filename,
        content_type=file.content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        description=description,
    )


class Note(BaseModel):
    title: str
    text: str


@app.put("/notes/{title}", operation_id="put_note")
def put_note(title: str, note: Note, draft: bool = False):
    """A path parameter and a body property of the same name (title__path)."""
    return {"path_title": title, "body_title": note.title, "text": note.text, "draft": draft}


@app.post("/bundle", operation_id="upload_bundle")
async def upload_bundle(files: List[UploadFile] = File(...), labels: List[str] = Form([])):
    """Several files and a repeated form field in one multipart body."""
    out = []
    for f in files:
        content = await f.read()
        out.append({"filename": f.filename, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()})
    return {"files": out, "labels": labels}


@app.get("/maybe", response_model=Optional[int], operation_id="maybe")
def maybe(present: bool = False):
    """Answers a JSON null unless asked for a number."""
    return 7 if present else None


@app.get("/boom", operation_id="boom")
def boom():
    """An unhandled exception: FastAPI answers 500 text/plain."""
    raise RuntimeError("boom")


@app.get("/greeting/{name}", response_model=str, operation_id="greeting")
def greeting(name: str):
    """Answers a JSON string."""
    return "Hello, " + name + "!"


@app.get("/count", response_model=int, operation_id="count")
def count(of: List[int] = Query([])):
    """Answers a JSON integer."""
    return sum(of)


@app.delete("/items/{item_id}", status_code=204, response_class=Response, operation_id="delete_item")
def delete_item(item_id: int):
    """Answers 204 No Content."""
    if item_id == 404:
        raise HTTPException(status_code=404, detail="item 404 not found")
    return Response(status_code=204)


@app.get("/readme", response_class=PlainTextResponse, operation_id="readme")
def readme(lang: str = "en"):
    """Answers text/plain."""
    return "Portico parity service (" + lang + ")\nline two\n"


@app.get(
    "/logo.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "A PNG image."}},
    operation_id="logo",
)
def logo():
    """Answers image/png."""
    return Response(content=PNG, media_type="image/png")
