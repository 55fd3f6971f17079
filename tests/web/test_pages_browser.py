"""End to end in Debian's Chromium through Playwright: sign in, see the right rows, open a submission,
check every chart, and save a screenshot of each page to screenshots/ in the test artifacts folder
(tests/artifacts.py)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.artifacts import ARTIFACTS as TEST_ARTIFACTS

from .conftest import WebDeployment

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = TEST_ARTIFACTS / "screenshots"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(app: Any) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `apt-get install chromium` (make install does it)", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def signed_in_page(browser: Any, base_url: str, web: WebDeployment, who: str) -> Any:
    """A fresh context signed in through the form, as a person would."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    page = context.new_page()
    page.goto("/w/dili/leaderboard")
    assert "/signin" in page.url
    page.fill("#token", web.tokens[who])
    page.click("button[type=submit]")
    page.wait_for_url("**/w/dili/leaderboard")
    return page


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def leaderboard_ids(page: Any) -> set[int]:
    return {
        int(v)
        for v in page.eval_on_selector_all("tr[data-submission]", "rs => rs.map(r => r.dataset.submission)")
    }


def test_owner_sees_every_row_and_the_warning(browser: Any, base_url: str, web: WebDeployment) -> None:
    page = signed_in_page(browser, base_url, web, "owner")
    assert leaderboard_ids(page) == set(web.submissions.values())
    warning = page.locator("tr.warning-row")
    assert warning.count() >= 1
    assert warning.first.is_visible()
    assert "carol-net" in warning.all_inner_texts()[0] or "carol-net" in " ".join(warning.all_inner_texts())
    assert page.locator("thead").inner_text().count("Recall of class 3") == 1
    shot(page, "leaderboard-owner")
    for path, name in (("/", "workspaces-owner"), ("/w/dili", "overview-owner"), ("/w/dili/eda", "eda")):
        page.goto(path)
        shot(page, name)
    assert page.locator("figure.chart svg").count() >= 5
    page.context.close()


def test_contributor_sees_only_own_rows(browser: Any, base_url: str, web: WebDeployment) -> None:
    page = signed_in_page(browser, base_url, web, "alice")
    mine = {web.submissions["alice-gbm"], web.submissions["alice-broken"]}
    assert leaderboard_ids(page) == mine
    assert "bob-xgb" not in page.content() and "carol-net" not in page.content()
    shot(page, "leaderboard-contributor")
    page.goto(f"/s/{web.submissions['bob-xgb']}")
    assert page.locator("h1").inner_text() == "Not found"
    page.goto("/w/dili")
    assert "bob-xgb" not in page.content()
    shot(page, "overview-contributor")
    page.context.close()


def test_sorting_by_a_column(browser: Any, base_url: str, web: WebDeployment) -> None:
    page = signed_in_page(browser, base_url, web, "owner")
    page.click("thead >> text=Calibration error")
    page.wait_for_url("**sort=ece**")
    eces = [
        float(t)
        for t in page.eval_on_selector_all(
            "tr[data-submission] td:nth-child(9)", "cs => cs.map(c => c.innerText)"
        )
    ]
    assert eces == sorted(eces)
    page.context.close()


def test_submission_page_charts(browser: Any, base_url: str, web: WebDeployment) -> None:
    page = signed_in_page(browser, base_url, web, "alice")
    page.click("text=alice-gbm")
    page.wait_for_url(f"**/s/{web.submissions['alice-gbm']}")
    charts = page.locator("figure.chart svg")
    assert charts.count() == 1  # a contributor sees the released recall per class only
    for i in range(charts.count()):
        svg = charts.nth(i)
        box = svg.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 150
        assert svg.locator("title").count() >= 1
        assert svg.locator(".axis-label").count() >= 1, svg.locator("title").first.inner_text()
        assert svg.locator("rect, path, circle, polyline").count() > 5
    shot(page, "submission")
    page.click("text=Evidence report")
    assert page.locator("h1").inner_text().startswith("alice-gbm on")
    shot(page, "report")
    page.goto(f"/s/{web.submissions['alice-broken']}")
    assert page.locator(".error-box code").first.inner_text() == "crashed"
    shot(page, "submission-failed-finetune")
    page.context.close()
    owner = signed_in_page(browser, base_url, web, "owner")
    owner.goto(f"/s/{web.submissions['alice-gbm']}")
    assert (
        owner.locator("figure.chart svg").count() == 8
    )  # 2 confusion, recall, reliability, importance, loss, ROC, PR
    shot(owner, "submission-owner")
    owner.context.close()
