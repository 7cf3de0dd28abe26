"""Whose conversations a visitor sees: the login name, else a random id the browser keeps.

With login on, the owner is the user name Gradio passes (``gr.Request.username``); without it, the
page keeps an id from :func:`new_browser_id` in the browser's localStorage and sends it along.
Anyone who learns a browser id sees that browser's conversations, so the id is long and random and
never shown; a login is the way to keep conversations private on a shared machine.

Example:
    >>> owner_key("alice", None)
    'user:alice'
"""

from __future__ import annotations

import re
import secrets

_BROWSER_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def owner_key(user: str | None, browser_id: str | None) -> str | None:
    """Whose conversations a visitor sees: the login name, else the browser's own random id.

    The two kinds never collide (``user:`` and ``browser:`` keys). None when there is no login and
    the browser sent no well-formed id (the page then gives it one from :func:`new_browser_id`).

    Example:
        >>> owner_key("alice", "ignored-when-logged-in"), owner_key(None, "x")
        ('user:alice', None)
    """
    if user and user.strip():
        return f"user:{user.strip()}"
    if browser_id and _BROWSER_ID.match(browser_id):
        return f"browser:{browser_id}"
    return None


def new_browser_id() -> str:
    """A random id (192 bits) for a browser to keep in its localStorage."""
    return secrets.token_urlsafe(24)
