"""The authorization matrix: every route of the web app and every ``hub`` command that acts as a
person, against every role of policy/roles.yaml and the people who are no one (signed out, an
idle sign-in, a disabled account). Only the cells the duty matrix allows get through; every
refusal is an audit entry; a route the matrix does not list fails the test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from catalog import audit, partners, people, provisioning, signins
from catalog.db import session_for
from catalog.models import SignIn
from hub.cli import app as cli
from hub.registry.roles import Permission, load_roles
from hub.web.app import create_app
from tests.support import staff
from tests.support.staff import PASSWORD, signed_in

OPEN = None  # anyone, signed in or not
#: (method, route) -> the permission it needs, and a request that exercises it
ROUTES: dict[tuple[str, str], tuple[Permission | None, str, dict | None]] = {
    ("GET", "/openapi.json"): (OPEN, "/openapi.json", None),
    ("GET", "/docs"): (OPEN, "/docs", None),
    ("GET", "/docs/oauth2-redirect"): (OPEN, "/docs/oauth2-redirect", None),
    ("GET", "/redoc"): (OPEN, "/redoc", None),
    ("GET", "/"): (OPEN, "/", None),
    ("GET", "/datasets/{dataset_id}"): (OPEN, "/datasets/bike_trips", None),
    ("GET", "/api/v1/datasets"): (OPEN, "/api/v1/datasets", None),
    ("GET", "/api/v1/search"): (OPEN, "/api/v1/search?q=bike", None),
    ("GET", "/map"): (OPEN, "/map?dataset=street_safety", None),
    ("GET", "/kpi"): (OPEN, "/kpi", None),
    ("GET", "/api/v1/kpis"): (OPEN, "/api/v1/kpis", None),
    ("GET", "/api/v1/datasets/{dataset_id}"): (OPEN, "/api/v1/datasets/bike_trips", None),
    ("GET", "/api/v1/datasets/{dataset_id}/lineage"): (
        OPEN,
        "/api/v1/datasets/bike_trips/lineage",
        None,
    ),
    # rows and files: a partner's API key decides (tests/products/test_sharing.py), not a role
    ("GET", "/api/v1/datasets/{dataset_id}/records"): (OPEN, "/api/v1/datasets/x/records", None),
    ("GET", "/api/v1/datasets/{dataset_id}/files"): (OPEN, "/api/v1/datasets/x/files", None),
    ("GET", "/api/v1/datasets/{dataset_id}/files/{fmt}"): (
        OPEN,
        "/api/v1/datasets/x/files/csv",
        None,
    ),
    ("GET", "/api/v1/portal/{dataset_id}"): (OPEN, "/api/v1/portal/x", None),
    ("POST", "/requests"): (OPEN, "/requests", {"title": "t", "description": "d"}),
    ("POST", "/api/v1/requests"): (OPEN, "/api/v1/requests", None),
    ("GET", "/api/v1/requests"): (OPEN, "/api/v1/requests", None),
    ("GET", "/catalog.jsonld"): (OPEN, "/catalog.jsonld", None),
    ("GET", "/catalog.schemaorg.jsonld"): (OPEN, "/catalog.schemaorg.jsonld", None),
    ("GET", "/ngsi-ld/v1/entities"): (OPEN, "/ngsi-ld/v1/entities?type=AirQualityObserved", None),
    ("GET", "/ngsi-ld/v1/entities/{entityId}"): (OPEN, "/ngsi-ld/v1/entities/urn:x", None),
    ("GET", "/ngsi-ld/v1/temporal/entities"): (OPEN, "/ngsi-ld/v1/temporal/entities", None),
    ("GET", "/ngsi-ld/v1/temporal/entities/{entityId}"): (
        OPEN,
        "/ngsi-ld/v1/temporal/entities/urn:x",
        None,
    ),
    ("GET", "/login"): (OPEN, "/login", None),
    ("POST", "/login"): (OPEN, "/login", {"login": "x", "password": "y", "csrf": "z"}),
    ("GET", "/me"): (OPEN, "/me", None),
    ("GET", "/login/oidc"): (OPEN, "/login/oidc", None),
    ("GET", "/login/oidc/callback"): (OPEN, "/login/oidc/callback", None),
    ("POST", "/logout"): (OPEN, "/logout", {"csrf": "z"}),
    ("GET", "/audit"): (Permission.audit_read, "/audit", None),
    ("GET", "/audit.csv"): (Permission.audit_read, "/audit.csv", None),
    ("GET", "/audit/inspection"): (Permission.inspection_report, "/audit/inspection", None),
    ("GET", "/audit/datasets/{dataset_id}"): (
        Permission.audit_read,
        "/audit/datasets/bike_trips",
        None,
    ),
    ("GET", "/audit/registers/{kind}"): (
        Permission.registers_read,
        "/audit/registers/provision",
        None,
    ),
    ("GET", "/provisions"): (Permission.provisions_own, "/provisions", None),
    ("POST", "/provisions"): (
        Permission.provisions_request,
        "/provisions",
        {
            "dataset_id": "nope",
            "purpose": "p",
            "legal_basis": "l",
            "columns": "c",
            "until": "2099-01-01",
        },
    ),
    ("POST", "/provisions/{request_id}/decision"): (
        Permission.provisions_decide,
        "/provisions/999/decision",
        {"decision": "refuse", "reason": "r"},
    ),
}
#: who may open /provisions besides its own permission: it lists requests to deciders and readers
ALSO = {
    ("GET", "/provisions"): (Permission.provisions_decide, Permission.registers_read),
}
#: ``hub`` commands that act as a person -> the permission they ask for, and their arguments
COMMANDS: dict[str, tuple[Permission, list[str]]] = {
    "users list": (Permission.users_manage, ["users", "list"]),
    "partner add": (Permission.partners_manage, ["partner", "add", "p-x", "--name", "X"]),
    "partner key": (Permission.partners_manage, ["partner", "key", "nobody"]),
    "partner grant": (
        Permission.provisions_decide,
        [
            "partner",
            "grant",
            "nobody",
            "bike_trips",
            "--purpose",
            "p",
            "--legal-basis",
            "l",
            "--columns",
            "c",
            "--until",
            "2099-01-01T00:00Z",
        ],
    ),
    "audit verify": (Permission.audit_read, ["audit", "verify"]),
    "audit list": (Permission.audit_read, ["audit", "list", "--last", "1"]),
    "users role": (Permission.users_manage, ["users", "role", "nobody", "--role", "auditor"]),
    "users disable": (Permission.users_manage, ["users", "disable", "nobody"]),
    "vault rotate": (Permission.keys_rotate, ["vault", "rotate", "nofeed", "--purpose", "p"]),
    "vault request": (
        Permission.reidentify_request,
        ["vault", "request", "f", "t", "--reason", "r"],
    ),
    "vault decide": (Permission.reidentify_approve, ["vault", "decide", "999"]),
    "vault resolve": (Permission.reidentify_request, ["vault", "resolve", "999"]),
}
COMMANDS |= {
    "users add": (
        Permission.users_manage,
        ["users", "add", "newbie", "--name", "N", "--role", "auditor"],
    ),
    "run": (Permission.pipelines_run, ["run", "nofeed"]),
    "maintain": (Permission.pipelines_run, ["maintain", "nodataset"]),
    "backup": (Permission.pipelines_run, ["backup", "--keep", "1"]),
    "backup list": (Permission.pipelines_run, ["backup", "list"]),
    "quality show": (Permission.catalog_read, ["quality", "show", "nofeed"]),
    "quality freshness": (Permission.pipelines_run, ["quality", "freshness", "nofeed"]),
    "quality report": (Permission.catalog_read, ["quality", "report", "--out", "report"]),
    "lineage export": (Permission.audit_read, ["lineage", "export", "--out", "events.jsonl"]),
    "lineage show": (Permission.audit_read, ["lineage", "show", "trusted.nothing"]),
    "privacy report": (Permission.audit_read, ["privacy", "report", "nofeed"]),
    "privacy registers": (Permission.registers_read, ["privacy", "registers", "nofeed"]),
}
#: commands of the machine, not of a person, and why
MACHINE = {
    "serve": "starts the web app, where people sign in",
    "up": "starts the embedded services of this home",
    "down": "stops what this home started, by PID",
    "status": "where the services are; secrets only with --show-secrets, from the environment",
    "demo": "the embedded miniature on a fresh machine, before any account exists",
    "bench": "measures the code on synthetic data in a home of its own",
    "restore": "disaster recovery: the catalog with its accounts may be gone; needs HUB_BACKUP_KEY",
    "feeds list": "reads feeds/*.yaml from the repository",
    "feeds validate": "checks YAML files on disk",
    "pii scan": "scans a local file or stdin; touches no hub data",
    "catalog export": "the same document /catalog.jsonld serves to anyone",
}
NO_ONE = ("signed out", "idle sign-in", "disabled account")


@pytest.fixture
def people_of_every_role(hub_settings):
    url, policy = hub_settings.catalog_url, load_roles(hub_settings.roles_file)
    partners.add_partner(url, "seoul-police", "Seoul Metropolitan Police")
    logins = {}
    for role, spec in policy.roles.items():
        if not spec.signs_in:
            continue
        people.add(
            url,
            policy,
            login=f"p-{role}",
            name=role,
            roles=[role],
            by="test",
            password=PASSWORD,
            department_id="climate-env-air-policy" if role == "data_steward" else None,
            partner_id="seoul-police" if role == "partner" else None,
        )
        logins[role] = f"p-{role}"
    people.add(
        url, policy, login="p-idle", name="i", roles=["administrator"], by="t", password=PASSWORD
    )
    people.add(
        url, policy, login="p-gone", name="g", roles=["administrator"], by="t", password=PASSWORD
    )
    partners.add_partner(url, "gunpo-city", "Gunpo City")
    staff.account(hub_settings, "p-other", "partner", "gunpo-city")
    return url, policy, logins


def _client(settings, login: str | None) -> TestClient:
    return signed_in(settings, login) if login else staff.client(settings)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_route_is_in_the_matrix(hub_settings):
    app = create_app(hub_settings)
    routes = {
        (method, route.path)
        for route in app.routes
        for method in getattr(route, "methods", set()) - {"HEAD"}
    }
    assert routes - set(ROUTES) == set(), "routes missing from the authorization matrix"
    assert set(ROUTES) - routes == set(), "the matrix lists routes the app no longer has"


@pytest.mark.parametrize(
    "backend", ["sqlite"]
)  # the rules, not the dialect: tests/catalog has both
def test_only_the_cells_the_duty_matrix_allows_get_through(hub_settings, people_of_every_role):
    url, policy, logins = people_of_every_role
    identities = {role: _client(hub_settings, login) for role, login in logins.items()}
    identities["citizen"] = identities["signed out"] = _client(hub_settings, None)
    identities["partner of another agency"] = _client(hub_settings, "p-other")
    identities["idle sign-in"] = _client(hub_settings, "p-idle")
    identities["disabled account"] = _client(hub_settings, "p-gone")
    with session_for(url) as session, session.begin():
        session.execute(
            update(SignIn)
            .where(SignIn.login == "p-idle")
            .values(last_seen=datetime.now(UTC) - signins.IDLE - timedelta(minutes=1))
        )
    people.disable(url, "p-gone", by="test")

    cells = 0
    for (method, route), (permission, path, form) in ROUTES.items():
        if permission is None:
            continue
        for who, client in identities.items():
            roles = [who] if who in policy.roles else ["partner"] if "agency" in who else []
            needed = (permission, *ALSO.get((method, route), ()))
            allowed = any(policy.allows(roles, p) for p in needed)
            before = len(audit.entries(url, action="access_refused", limit=None))
            if form is not None:
                token = signins.csrf_token(client.cookies.get("hub_signin") or "")
                got = client.post(path, data={**form, "csrf": token})
            else:
                got = client.get(path)
            refused = got.status_code == 403 or (
                got.status_code == 303 and got.headers["location"].startswith("/login")
            )
            assert refused != allowed, f"{method} {path} as {who}: {got.status_code}"
            after = len(audit.entries(url, action="access_refused", limit=None))
            assert after == before + (0 if allowed else 1), f"{method} {path} as {who}: audited?"
            if who in NO_ONE:
                assert got.status_code == 303, f"{who} is asked to sign in"
            cells += 1
    assert cells == sum(1 for p, _, _ in ROUTES.values() if p) * len(identities) > 50


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_partner_sees_only_their_own_agencys_requests(hub_settings, people_of_every_role):
    url, policy, logins = people_of_every_role
    asked = provisioning.file(
        url,
        policy,
        people.find(url, logins["partner"]),
        dataset_id="women_crime_incidents",
        purpose="night patrols around Yeouido station",
        legal_basis="Police Duties Act art. 2",
        columns=["case_no"],
        until=datetime.now(UTC) + timedelta(days=30),
        available=["case_no", "gu_code"],
    )
    own = _client(hub_settings, logins["partner"]).get("/provisions")
    them = _client(hub_settings, "p-other")
    other = them.get("/provisions")
    assert own.status_code == other.status_code == 200
    assert asked.purpose in own.text and asked.purpose not in other.text
    token = signins.csrf_token(them.cookies.get("hub_signin") or "")
    before = len(audit.entries(url, action="access_refused", actor="p-other"))
    denied = them.post(
        f"/provisions/{asked.id}/decision", data={"decision": "approve", "csrf": token}
    )
    assert denied.status_code == 403
    assert len(audit.entries(url, action="access_refused", actor="p-other")) == before + 1


def _command_names(group, prefix: str = "") -> set[str]:
    names = set()
    for name, command in group.commands.items():
        full = f"{prefix}{name}"
        if hasattr(command, "commands"):  # a group (typer bundles its own click)
            names |= _command_names(command, f"{full} ")
            if command.invoke_without_command:  # `hub backup` runs by itself too
                names.add(full)
        else:
            names.add(full)
    return names


def test_every_command_is_in_the_matrix_or_named_a_machine_command():
    commands = _command_names(typer.main.get_command(cli))
    assert commands - set(COMMANDS) - set(MACHINE) == set(), "commands missing from the matrix"
    assert (set(COMMANDS) | set(MACHINE)) - commands == set(), "the matrix lists lost commands"
    assert set(COMMANDS) & set(MACHINE) == set()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_command_that_acts_as_a_person_asks_the_duty_matrix(
    hub_settings, people_of_every_role, monkeypatch, tmp_path
):
    url, policy, logins = people_of_every_role
    monkeypatch.setenv("HUB_AS_PASSWORD", PASSWORD)
    monkeypatch.setenv("HUB_NEW_PASSWORD", PASSWORD)
    monkeypatch.chdir(tmp_path)  # where the commands that write a file write it
    people.disable(url, "p-gone", by="test")
    for name, (permission, args) in COMMANDS.items():
        for who in [*logins, "disabled account"]:
            login = logins.get(who, "p-gone")
            got = CliRunner().invoke(cli, [*args, "--as", login])
            denied = isinstance(got.exception, people.AccessDenied)
            assert denied != policy.allows([who], permission), f"hub {name} as {who}: {got}"
            if denied:  # and the refusal is on record under the person's name
                (last,) = audit.entries(url, action="access_refused", limit=1)
                assert (last.actor, last.target) == (login, name), f"hub {name} as {who}"
        anonymous = CliRunner().invoke(cli, args)
        assert "never anonymous" in str(anonymous.exception), f"hub {name} without --as"
