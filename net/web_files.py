"""The browser client's files and the plain-HTTP answers of the drill server.

:class:`WebFiles` reads every file under ``net/web/`` once (in a worker thread, when the
server starts) and keeps them in memory, gzipped too where that pays, so answering a
request never touches the disk and never delays a tick. The functions below build the
:class:`websockets.http11.Response` objects the server's ``process_request`` returns:
static files with their type, length, validator and caching policy; JSON; and a short
HTML page in Chinese and English for what is not there.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import html
import json
import string
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

__all__ = ["CSP", "WEB_ROOT", "WebFile", "WebFiles", "bytes_response", "error_page",
           "file_response", "json_response", "split_path"]

WEB_ROOT = Path(__file__).with_name("web")
"""Where the web client lives in the package."""
CSP = ("default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
       "style-src 'self' 'unsafe-inline'")
"""Content-Security-Policy of every HTML answer: the page loads nothing from elsewhere."""
MAX_FILE = 32 << 20
"""Files above this many bytes are not served (none of the client's come close)."""
STATIC_MAX_AGE = 60
"""Seconds a browser may reuse a script, style or picture without asking again."""

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8", ".map": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
    ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg", ".webp": "image/webp", ".ico": "image/x-icon",
    ".gif": "image/gif", ".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
    ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf",
    ".glb": "model/gltf-binary", ".wasm": "application/wasm", ".pdf": "application/pdf",
    "": "text/plain; charset=utf-8",  # LICENSE, NOTICE
}
"""Content-Type by file name extension (anything else: application/octet-stream)."""
_COMPRESSIBLE = ("text/", "application/json", "image/svg+xml", "application/wasm")
_ERROR_TEMPLATE = string.Template(
    Path(__file__).with_name("web_error.html").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class WebFile:
    """One file held in memory."""

    body: bytes
    content_type: str
    etag: str
    """Strong validator (a content hash, quoted)."""
    gzipped: bytes | None = None
    """The body gzipped, when that is worth it."""

    @property
    def is_html(self) -> bool:
        return self.content_type.startswith("text/html")


class WebFiles:
    """The web client's files by path relative to its folder (POSIX, e.g. ``web/main.js``
    is ``main.js``); hidden files and folders are left out."""

    def __init__(self, files: dict[str, WebFile], root: Path | None = None):
        self.files = files
        self.root = root

    @classmethod
    def load(cls, root: str | Path | None = None) -> WebFiles:
        """Read every file under ``root`` (default :data:`WEB_ROOT`; missing: no files)."""
        base = Path(root) if root is not None else WEB_ROOT
        files: dict[str, WebFile] = {}
        if base.is_dir():
            top = base.resolve()
            for path in sorted(base.rglob("*")):
                rel = path.relative_to(base)
                if (any(p.startswith(".") or p == "__pycache__" for p in rel.parts)
                        or not path.is_file() or not path.resolve().is_relative_to(top)
                        or path.stat().st_size > MAX_FILE):
                    continue
                files[rel.as_posix()] = _web_file(path.name, path.read_bytes())
        return cls(files, base)

    def get(self, parts: list[str]) -> WebFile | None:
        """The file at URL path segments ``parts`` (already split and decoded), or None."""
        return self.files.get("/".join(parts))

    @property
    def index(self) -> WebFile | None:
        """``index.html``, the page every join link opens (None: client not installed)."""
        return self.files.get("index.html")

    def __len__(self) -> int:
        return len(self.files)


def _web_file(name: str, body: bytes) -> WebFile:
    suffix = Path(name).suffix.lower()
    ctype = CONTENT_TYPES.get(suffix, "application/octet-stream")
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    packed = None
    if len(body) > 1024 and ctype.startswith(_COMPRESSIBLE):
        packed = gzip.compress(body, compresslevel=6, mtime=0)
        if len(packed) > 0.9 * len(body):
            packed = None
    return WebFile(body, ctype, etag, packed)


def split_path(target: str) -> list[str] | None:
    """URL path segments of a request target, percent-decoded; None if it may not be
    served: ``.``/``..`` or hidden segments, empty inner segments, NUL or backslash.

    A trailing slash is dropped (``/drills/ab/`` -> ``["drills", "ab"]``); ``/`` -> ``[]``.
    """
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return None
    raw = path[1:].split("/")
    if raw and raw[-1] == "":
        raw.pop()
    try:
        parts = [unquote(p, errors="strict") if "%" in p else p for p in raw]
    except UnicodeDecodeError:
        return None
    for p in parts:
        if not p or p.startswith(".") or any(c in p for c in "/\\\0"):
            return None
    return parts


def _base_headers(ctype: str, length: int) -> list[tuple[str, str]]:
    return [("Date", email.utils.formatdate(usegmt=True)), ("Connection", "close"),
            ("Content-Type", ctype), ("Content-Length", str(length)),
            ("X-Content-Type-Options", "nosniff")]


def _html_headers() -> list[tuple[str, str]]:
    return [("Content-Security-Policy", CSP), ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY")]


def file_response(f: WebFile, request: Request) -> Response:
    """200 with the file (gzipped if the browser takes it), or 304 if it has it already."""
    cache = "no-cache" if f.is_html else f"max-age={STATIC_MAX_AGE}"
    extra = [("Cache-Control", cache), ("ETag", f.etag), ("Vary", "Accept-Encoding")]
    if f.is_html:
        extra += _html_headers()
    match = request.headers.get("If-None-Match", "")
    if f.etag in (t.strip() for t in match.split(",")):
        return Response(304, "Not Modified", Headers(
            [("Date", email.utils.formatdate(usegmt=True)), ("Connection", "close"),
             *extra]), b"")
    body = f.body
    if f.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
        body = f.gzipped
        extra.append(("Content-Encoding", "gzip"))
    return Response(200, "OK", Headers([*_base_headers(f.content_type, len(body)), *extra]),
                    body)


def bytes_response(body: bytes, ctype: str, *, cache: str = "no-cache") -> Response:
    """200 with ``body`` as is (e.g. the scene's GLB, built per drill)."""
    return Response(200, "OK", Headers([*_base_headers(ctype, len(body)),
                                        ("Cache-Control", cache)]), body)


def json_response(data: Any, status: int = 200) -> Response:
    """``data`` as JSON (UTF-8), not cached."""
    body = json.dumps(data, ensure_ascii=False).encode()
    headers = [*_base_headers(CONTENT_TYPES[".json"], len(body)),
               ("Cache-Control", "no-store")]
    return Response(status, HTTPStatus(status).phrase, Headers(headers), body)


def error_page(status: int, zh: str, en: str, *, detail_zh: str = "",
               detail_en: str = "") -> Response:
    """A short HTML page saying what went wrong, in Chinese, then English."""
    esc = html.escape
    body = _ERROR_TEMPLATE.substitute(
        status=status, zh=esc(zh), en=esc(en), detail_zh=esc(detail_zh),
        detail_en=esc(detail_en)).encode()
    headers = [*_base_headers(CONTENT_TYPES[".html"], len(body)),
               ("Cache-Control", "no-cache"), *_html_headers()]
    return Response(status, HTTPStatus(status).phrase, Headers(headers), body)
