"""The web page's edge: security headers on every response, no file uploads, bounded requests.

Gradio serves more than the page needs: ``POST /gradio_api/upload`` stores any file (and serves it
back under ``/gradio_api/file=``) even though the page has no upload field. :class:`EdgeGuard`
wraps the FastAPI app Gradio builds and refuses those routes and oversized bodies before Gradio
reads them.

Example:
    >>> app.launch(app_kwargs={"middleware": edge_middleware(UISettings())})  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.middleware import Middleware

from ui.settings import UISettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        # Gradio's page boots from inline scripts, and gr.HTML and js= handlers are evaluated with
        # Function(); without these the page stays blank. Everything else stays on this origin.
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        # No image, font or request may go to another origin: a question or a report that
        # slipped markup past the escaping still cannot make the browser call out.
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' data: blob:",
        "worker-src 'self' blob:",
        "frame-src 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""Sent with every response (the page, its assets, the API)."""

SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)

REFUSED_ROUTES = (
    "/gradio_api/upload",
    "/gradio_api/upload_progress",
    "/gradio_api/process_recording",
)
"""Gradio's file routes: the page takes no files, so nobody may store one on the server."""

LOGIN_ROUTES = ("/login", "/login/")
"""The only route that reads a form (Gradio's login page posts it as multipart)."""


class EdgeGuard:
    """ASGI middleware: adds :data:`SECURITY_HEADERS`, refuses uploads and oversized requests.

    Args:
        app: the application it wraps (Gradio's FastAPI app).
        max_request_bytes: the largest request body accepted; larger ones get 413 unread.
    """

    def __init__(self, app: ASGIApp, max_request_bytes: int) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((n, v) for n, v in SECURITY_HEADERS if n not in names),
                ]
            await send(message)

        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send_with_headers)
            return
        status, text = refusal
        body = text.encode()
        await send_with_headers(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send_with_headers({"type": "http.response.body", "body": body})

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, message) when the request is refused before the app sees it, else None."""
        path = (scope.get("path") or "/").rstrip("/") or "/"
        root = (scope.get("root_path") or "").rstrip("/")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        if path in REFUSED_ROUTES:
            return 403, "This server takes no file uploads: the Legatus page has no upload field."
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        content_type = headers.get(b"content-type", b"").lower()
        if content_type.startswith(b"multipart/") and path not in LOGIN_ROUTES:
            return 403, "This server takes no files or forms: send questions as JSON."
        length = headers.get(b"content-length")
        if length is None:
            if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
                return 411, "Send the request with a Content-Length header."
            return None
        try:
            size = int(length)
        except ValueError:
            return 400, "The Content-Length header is not a number."
        if size > self.max_request_bytes:
            return 413, (
                f"The request is {size} bytes; this server accepts at most "
                f"{self.max_request_bytes} (LEGATUS_UI__MAX_REQUEST_BYTES). Send less text."
            )
        return None


def edge_middleware(settings: UISettings) -> list[Middleware]:
    """The middleware for Gradio's app, as ``launch(app_kwargs={"middleware": ...})`` takes it."""
    return [Middleware(EdgeGuard, max_request_bytes=settings.max_request_bytes)]  # type: ignore[arg-type]
