"""The pages through TestClient: sign-in cookie, redirects, who sees which rows and submissions."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cohortbench.service.auth import TOKEN_COOKIE

from .conftest import WebDeployment
from .forms import sign_in

PAGES = ("/", "/w/dili", "/w/dili/eda", "/w/dili/leaderboard")


def ids_on_leaderboard(html: str) -> set[int]:
    return {int(v) for v in re.findall(r'data-submission="(\d+)"', html)}


@pytest.mark.parametrize("path", [*PAGES, "/s/1", "/s/1/report"])
def test_anonymous_visitors_are_sent_to_signin(app: Any, web: WebDeployment, path: str) -> None:
    response = web.client(app, None).get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin?next=")


def test_signin_sets_a_strict_httponly_cookie_and_redirects(app: Any, web: WebDeployment) -> None:
    http = web.client(app, None)
    response = sign_in(http, web.tokens["alice"], "/w/dili")
    assert response.status_code == 303 and response.headers["location"] == "/w/dili"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{TOKEN_COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert http.get("/w/dili").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_signin_never_redirects_off_site(app: Any, web: WebDeployment, target: str) -> None:
    response = sign_in(web.client(app, None), web.tokens["alice"], target)
    assert response.headers["location"] == "/"


def test_a_wrong_token_is_refused_without_a_cookie(app: Any, web: WebDeployment) -> None:
    response = sign_in(web.client(app, None), "cb_wrong")
    assert response.status_code == 401 and "not valid" in response.text
    assert not any(c.startswith(f"{TOKEN_COOKIE}=") for c in response.headers.get_list("set-cookie"))


def test_signout_clears_the_cookie(app: Any, web: WebDeployment) -> None:
    response = web.client(app, "alice").post("/signout")
    assert response.status_code == 303
    assert f'{TOKEN_COOKIE}=""' in response.headers["set-cookie"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_for_owner_and_contributor(app: Any, web: WebDeployment, path: str) -> None:
    for who in ("owner", "alice"):
        response = web.client(app, who).get(path)
        assert response.status_code == 200, response.text[:500]
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert response.headers["cache-control"] == "no-store"


def test_workspace_card_shows_the_brief_facts(app: Any, web: WebDeployment) -> None:
    html = web.client(app, "owner").get("/").text
    for fact in (
        "18 Feb 2027",
        "2 CPU (8.59 GB) | 1 GPU (22.49 GB)",
        "/ 100 PF",
        "5 per contributor",
        "Participants",
    ):
        assert fact in html
    assert "4/5" not in html  # all contributors summed against a per-contributor quota means nothing


def test_the_header_shows_the_viewers_own_quota_and_the_owner_each_members(
    app: Any, web: WebDeployment
) -> None:
    alice = web.client(app, "alice").get("/w/dili").text
    assert "you used 2/5 submissions" in alice and 'id="members"' not in alice
    owner = web.client(app, "owner").get("/w/dili").text
    assert "4/5" not in owner and "per contributor" in owner
    members = owner[owner.index('id="members"') :]
    members = members[: members.index("</table>")]
    for who, used in (("alice", "2/5"), ("bob", "1/5"), ("carol", "1/5")):
        row = members[members.index(f"<td>{who}</td>") :]
        assert used in row[: row.index("</tr>")], who


def test_the_eda_page_lists_every_feature_searchable_and_paged(app: Any, web: WebDeployment) -> None:
    from cohortbench.cohorts import DILI

    http = web.client(app, "alice")
    first = http.get("/w/dili/eda").text
    assert f"of {len(DILI.features)} features" in first and "page 1 of 5" in first
    shown = [f for f in DILI.features if f'<th scope="row">{f}</th>' in first.split('id="all-features"')[1]]
    assert len(shown) == 50
    last = http.get("/w/dili/eda?p=5").text.split('id="all-features"')[1]
    assert f'<th scope="row">{DILI.features[-1]}</th>' in last
    found = http.get("/w/dili/eda?q=ALT").text.split('id="all-features"')[1]
    assert '<th scope="row">ALT</th>' in found and "page 1 of" not in found
    none = http.get("/w/dili/eda?q=zzzz").text
    assert "No feature matches" in none


def test_owner_sees_every_row_contributor_only_theirs(app: Any, web: WebDeployment) -> None:
    owner = web.client(app, "owner").get("/w/dili/leaderboard").text
    alice = web.client(app, "alice").get("/w/dili/leaderboard").text
    assert ids_on_leaderboard(owner) == set(web.submissions.values())
    assert ids_on_leaderboard(alice) == {web.submissions["alice-gbm"], web.submissions["alice-broken"]}
    assert "carol-net" not in alice and "not published" in alice


def test_the_low_critical_recall_row_carries_a_visible_warning(app: Any, web: WebDeployment) -> None:
    html = web.client(app, "owner").get("/w/dili/leaderboard").text
    warnings = re.findall(r'<tr class="warning-row">(.*?)</tr>', html, re.S)
    assert any("carol-net" in w and "class 3" in w for w in warnings)
    assert "Recall of class 3" in html


def test_leaderboard_sorts_server_side(app: Any, web: WebDeployment) -> None:
    http = web.client(app, "owner")
    up = ids_on_leaderboard_ordered(http.get("/w/dili/leaderboard?sort=model&order=asc").text)
    down = ids_on_leaderboard_ordered(http.get("/w/dili/leaderboard?sort=model&order=desc").text)
    names = {v: k for k, v in web.submissions.items()}
    assert [names[i] for i in up] == sorted(names[i] for i in up)
    assert down == list(reversed(up))


def ids_on_leaderboard_ordered(html: str) -> list[int]:
    return [int(v) for v in re.findall(r'data-submission="(\d+)"', html)]


def test_contributor_cannot_open_another_contributors_submission(app: Any, web: WebDeployment) -> None:
    http = web.client(app, "alice")
    bob = web.submissions["bob-xgb"]
    for path in (f"/s/{bob}", f"/s/{bob}/report", "/s/9999"):
        response = http.get(path)
        assert response.status_code == 404, path
        assert "bob-xgb" not in response.text


def test_non_members_see_no_workspace(app: Any, web: WebDeployment) -> None:
    http = web.client(app, "mallory")
    assert "dili" not in http.get("/").text.lower().split("<main>")[1]
    for path in ("/w/dili", "/w/dili/eda", "/w/dili/leaderboard", f"/s/{web.submissions['alice-gbm']}"):
        assert http.get(path).status_code == 404


def test_submission_page_shows_the_owner_every_chart_and_the_frames(app: Any, web: WebDeployment) -> None:
    http = web.client(app, "owner")
    html = http.get(f"/s/{web.submissions['alice-gbm']}").text
    for kind in ("cb-confusion", "cb-bar", "cb-reliability", "cb-hbar", "cb-line"):
        assert kind in html, kind
    assert "ROC · class" in html and "Precision-recall · class" in html
    assert "Operating points" in html and "PPV" in html and "NPV" in html
    broken = http.get(f"/s/{web.submissions['alice-broken']}").text
    assert "crashed" in broken and "model.py:42" in broken and "fine_tune" in broken


def test_submission_page_shows_a_contributor_only_released_numbers(app: Any, web: WebDeployment) -> None:
    """Recall bars on the grid, no confusion matrix, calibration curve or loss curve, no frames."""
    http = web.client(app, "alice")
    html = http.get(f"/s/{web.submissions['alice-gbm']}").text
    assert "cb-bar" in html and 'href="/s/1/report"' in html
    for kind in ("cb-confusion", "cb-reliability", "cb-line"):
        assert kind not in html, kind
    assert "Operating points" not in html and "ROC · class" not in html
    assert "Scores are rounded to steps of 0.05" in html
    broken = http.get(f"/s/{web.submissions['alice-broken']}").text
    assert "crashed" in broken and "ValueError" in broken
    assert "model.py:42" not in broken and "fine_tune</code>" not in broken


def test_eda_page_draws_only_released_aggregates(app: Any, web: WebDeployment) -> None:
    """No patient id and no exact record value of the cohort appears on the EDA page."""
    from cohortbench.cohorts import generate

    html = web.client(app, "alice").get("/w/dili/eda").text
    frame = generate("dili")
    assert not any(pid in html for pid in frame["patient_id"].head(50))
    exact = {f"{v:.6f}" for v in frame["ALT"].head(200)}
    assert not any(v in html for v in exact)
    for kind in ("cb-histogram", "cb-heatmap", "cb-interval"):
        assert kind in html


def test_leaderboard_page_states_its_rounding(app: Any, web: WebDeployment) -> None:
    contributor = web.client(app, "alice").get("/w/dili/leaderboard").text
    assert "rounded to steps of 0.05" in contributor and "share a rank" in contributor
    assert "You see exact values as the owner" in web.client(app, "owner").get("/w/dili/leaderboard").text
