"""Sign-in carries a CSRF token (double submit); sign-out is a POST only (the page's control is a form)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from cohortbench.api import create_app
from cohortbench.service import Platform, Settings, users
from cohortbench.service.auth import TOKEN_COOKIE
from cohortbench.web.auth import CSRF_COOKIE

from .forms import csrf_of, sign_in


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """A deployment with one user and no workspace: all sign-in needs."""
    platform = Platform.open(Settings(data_dir=tmp_path / "data", embedded_worker=False))
    with platform.session() as session:
        _user, token = users.create_user(session, name="alice")
    with TestClient(create_app(platform), follow_redirects=False) as http:
        yield http, token
    platform.close()


def _token_cookie_set(response: httpx.Response) -> bool:
    return any(c.startswith(f"{TOKEN_COOKIE}=") for c in response.headers.get_list("set-cookie"))


def test_the_form_carries_the_token_its_cookie_holds(site: tuple[TestClient, str]) -> None:
    http, _ = site
    form = http.get("/signin")
    cookie = form.headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}={csrf_of(form.text)};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/signin" in cookie
    assert csrf_of(http.get("/signin").text) != csrf_of(form.text), "a fresh token per form"


def test_a_good_form_signs_in(site: tuple[TestClient, str]) -> None:
    http, token = site
    response = sign_in(http, token, "/")
    assert response.status_code == 303 and _token_cookie_set(response)


@pytest.mark.parametrize("forgery", ["no-field", "no-cookie", "mismatch"])
def test_a_forged_sign_in_is_refused_without_a_cookie(site: tuple[TestClient, str], forgery: str) -> None:
    """A third-party page can post the form, but cannot read or set the CSRF cookie."""
    http, token = site
    real = csrf_of(http.get("/signin").text)
    data = {"token": token, "next": "/"}
    if forgery == "no-cookie":
        http.cookies.clear()
        data["csrf"] = real
    elif forgery == "mismatch":
        data["csrf"] = real[::-1]
    response = http.post("/signin", data=data)
    assert response.status_code == 403 and "expired" in response.text
    assert not _token_cookie_set(response)
    assert csrf_of(response.text), "the answer is a fresh form to try again"


def test_a_file_posted_to_sign_in_is_refused_unspooled(site: tuple[TestClient, str]) -> None:
    http, token = site
    csrf = csrf_of(http.get("/signin").text)
    files = {"junk": ("junk.bin", b"x" * 4096, "application/octet-stream")}
    response = http.post("/signin", data={"token": token, "csrf": csrf}, files=files)
    assert response.status_code == 400 and not _token_cookie_set(response)


def test_sign_out_is_a_post_and_the_page_control_is_a_form(site: tuple[TestClient, str]) -> None:
    http, token = site
    assert sign_in(http, token, "/").status_code == 303
    page = http.get("/")
    assert page.status_code == 200
    assert re.search(r'<form[^>]*method="post"[^>]*action="/signout"', page.text)
    assert 'href="/signout"' not in page.text
    link = http.get("/signout")
    assert link.status_code == 405 and not link.headers.get("set-cookie"), "a link or <img> cannot sign out"
    response = http.post("/signout")
    assert response.status_code == 303 and f'{TOKEN_COOKIE}=""' in response.headers["set-cookie"]
