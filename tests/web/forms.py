"""Signing in through the form as a browser does: fetch it (CSRF cookie + hidden field), then post it."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "the sign-in form carries a CSRF token"
    return match.group(1)


def sign_in(http: TestClient, token: str, next: str = "/") -> httpx.Response:
    form = http.get("/signin")
    return http.post("/signin", data={"token": token, "next": next, "csrf": csrf_of(form.text)})
