"""The people of issue 18 in a real browser (Debian's chromium driven by Playwright): a
partner's employee signs in through the city's identity provider (OpenID Connect, a test IdP
over HTTP) and files a provision request; the personal-data manager signs in with a password
and narrows it; the partner's new key pulls exactly the granted rows; the auditor finds all of
it in the audit log and the provision register. Screenshots in Korean and English."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from catalog import partners, people
from hub.registry.roles import load_roles
from hub.web.app import create_app
from tests.support.browser import FLAGS, axe_violations, keep_screenshots
from tests.support.idp import identity_provider
from tests.support.web import serving

PASSWORD = "correct horse battery"
CRIMES, PURPOSE = "women_crime_incidents", "crime-prevention patrols"


@pytest.mark.parametrize("backend", ["postgres"])
def test_request_approval_pull_and_audit_through_a_browser(chromium, axe_source, lake, tmp_path):
    from playwright.sync_api import sync_playwright

    settings, _ = lake
    url, policy = settings.catalog_url, load_roles(settings.roles_file)
    with identity_provider() as idp:
        idp.subject = "park-7"
        settings = settings.model_copy(
            update={
                "oidc_issuer": idp.issuer,
                "oidc_client_id": idp.client_id,
                "oidc_client_secret": idp.client_secret,
            }
        )
        partners.add_partner(url, "seoul-police", "서울경찰청")
        people.add(
            url,
            policy,
            login="park",
            name="박경위",
            roles=["partner"],
            by="admin",
            partner_id="seoul-police",
            oidc_subject=f"{idp.issuer}|park-7",
        )
        for login, role in (("han", "pd_manager"), ("aud", "auditor")):
            people.add(
                url, policy, login=login, name=login, roles=[role], by="admin", password=PASSWORD
            )
        shots: list[str] = []
        with serving(create_app(settings)) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)

            def shot(page, name: str) -> None:
                """A screenshot, and axe-core's check of the page as shown."""
                path = tmp_path / f"{name}.png"
                page.screenshot(path=str(path), full_page=True)
                assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                assert not axe_violations(page, axe_source), name
                shots.append(name)

            # the partner's employee, through the city's single sign-on, in Korean
            partner = browser.new_context().new_page()
            partner.goto(f"{base}/login?lang=ko")
            partner.click("text=시 통합인증(SSO)으로 로그인")
            assert "박경위 (park)" in partner.inner_text("body")
            shot(partner, "partner-signed-in-ko")
            partner.goto(f"{base}/provisions?lang=ko")
            partner.select_option("select[name=dataset_id]", CRIMES)
            partner.fill("input[name=purpose]", PURPOSE)
            partner.fill("input[name=legal_basis]", "경찰관 직무집행법 제2조")
            partner.fill("input[name=columns]", "case_no, offence_type, occurred_at")
            until = (date.today() + timedelta(days=90)).isoformat()
            partner.fill("input[name=until]", until)
            partner.click("button[type=submit]")
            assert "접수" in partner.inner_text("table")
            shot(partner, "partner-request-filed-ko")

            # the personal-data manager, with a password, in English: narrows the request
            manager = browser.new_context().new_page()
            manager.goto(f"{base}/login?lang=en")
            manager.fill("input[name=login]", "han")
            manager.fill("input[name=password]", PASSWORD)
            manager.click("button[type=submit]")
            manager.goto(f"{base}/provisions?lang=en")
            manager.fill("td form input[name=columns]", "case_no, offence_type")
            manager.fill("td form input[name=reason]", "times are not needed for patrol plans")
            manager.click("td form button[value=approve]")
            assert "approved, narrowed" in manager.inner_text("table")
            shot(manager, "manager-narrowed-en")
            partner.reload()
            assert "축소 승인" in partner.inner_text("table")

            # the partner's new key pulls the granted rows, and only those columns
            key = partners.issue_key(url, "seoul-police")
            got = httpx.get(
                f"{base}/api/v1/datasets/{CRIMES}/records",
                params={"purpose": PURPOSE},
                headers={"X-API-Key": key},
                timeout=30,
            )
            assert got.status_code == 200, got.text
            items = got.json()["items"]
            assert items and all(set(i) == {"case_no", "offence_type"} for i in items)

            # the auditor finds every step, in both languages
            auditor = browser.new_context().new_page()
            auditor.goto(f"{base}/login?lang=en")
            auditor.fill("input[name=login]", "aud")
            auditor.fill("input[name=password]", PASSWORD)
            auditor.click("button[type=submit]")
            for lang in ("ko", "en"):
                auditor.goto(f"{base}/audit?lang={lang}&target={CRIMES}")
                log = auditor.inner_text("table")
                for action, actor in (
                    ("provision_request", "park"),
                    ("provision_approve", "han"),
                    ("api_pull", "seoul-police"),
                ):
                    assert action in log and actor in log, (lang, action)
                shot(auditor, f"auditor-log-{lang}")
                auditor.goto(f"{base}/audit/registers/provision?lang={lang}&dataset={CRIMES}")
                assert "seoul-police" in auditor.inner_text("table")
                shot(auditor, f"auditor-provision-register-{lang}")
            browser.close()
    assert len(shots) == 7
    keep_screenshots(tmp_path)
