"""DP EDA when the owner sets dp_epsilon: OpenDP noise, and every charge written to the ledger."""

from __future__ import annotations

from sqlalchemy import select

from cohortbench.service.eda import RELEASES_PER_BUDGET
from cohortbench.store.models import PrivacyLedgerEntry

from .conftest import Deployment


def _eda(d: Deployment, who: str) -> dict:  # type: ignore[type-arg]
    response = d.http.get("/api/v1/workspaces/tiny/eda", headers={"Authorization": f"Bearer {d.tokens[who]}"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _ledger(d: Deployment) -> list[PrivacyLedgerEntry]:
    with d.platform.session() as session:
        return list(session.scalars(select(PrivacyLedgerEntry).order_by(PrivacyLedgerEntry.id)))


def test_without_dp_nothing_is_charged(deployment: Deployment) -> None:
    protections = {c["protection"] for c in _eda(deployment, "alice")["class_distribution"]["cells"].values()}
    assert "laplace" not in protections and _ledger(deployment) == []


def test_dp_eda_is_noisy_and_charged_once_per_release(deployment: Deployment) -> None:
    owner = {"Authorization": f"Bearer {deployment.tokens['owner']}"}
    _eda(deployment, "alice")  # a release without DP is cached first; it must not be served later
    patch = deployment.http.patch("/api/v1/workspaces/tiny/rules", json={"dp_epsilon": 1.0}, headers=owner)
    assert patch.status_code == 200, patch.text
    cells = _eda(deployment, "alice")["class_distribution"]["cells"]
    assert {c["protection"] for c in cells.values()} == {"laplace"}
    assert all(c["noise_scale"] and c["noise_scale"] > 0 for c in cells.values())
    charges = _ledger(deployment)
    assert len(charges) == 1 and charges[0].query == "eda: class counts"
    assert abs(sum(c.epsilon for c in charges) - 1.0 / RELEASES_PER_BUDGET) < 1e-9
    _eda(deployment, "bob")  # the cached release: post-processing, no new charge
    assert len(_ledger(deployment)) == 1
