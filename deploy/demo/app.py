"""A small FastAPI service for the docker compose demo: Portico serves it as
the MCP tools of tenant "demo". Run alone: uvicorn app:app --port 8000"""

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

app = FastAPI(title="Demo bookstore", version="1.0.0")

BOOKS = {
    1: {"id": 1, "title": "The Go Programming Language", "author": "Donovan & Kernighan", "stock": 3},
    2: {"id": 2, "title": "Designing Data-Intensive Applications", "author": "Kleppmann", "stock": 0},
}


class NewBook(BaseModel):
    title: str
    author: str
    stock: int = 1


@app.get("/books", operation_id="list_books")
def list_books(in_stock: bool = False):
    """List the books, optionally only those in stock."""
    return [b for b in BOOKS.values() if b["stock"] > 0 or not in_stock]


@app.get("/books/{book_id}", operation_id="get_book")
def get_book(book_id: int):
    """Get one book by id."""
    if book_id not in BOOKS:
        raise HTTPException(status_code=404, detail="no such book")
    return BOOKS[book_id]


@app.post("/books", operation_id="add_book", status_code=201)
def add_book(book: NewBook):
    """Add a book to the catalogue."""
    book_id = max(BOOKS) + 1
    BOOKS[book_id] = {"id": book_id, **book.model_dump()}
    return BOOKS[book_id]


@app.get("/healthz", include_in_schema=False)
def healthz():
    return {"status": "ok"}
