"""The duty matrix as data: the repo's policy loads, keeps the duties apart that the Gunpo plan
keeps apart, and a bad policy file fails at load naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hub.core.errors import ConfigError
from hub.core.settings import HubSettings
from hub.registry.roles import Permission, Scope, load_roles

POLICY = HubSettings().roles_file

#: what changes the hub's state or reveals personal data: an auditor holds none of it
CHANGES = {
    Permission.datasets_steward,
    Permission.pipelines_run,
    Permission.partners_manage,
    Permission.provisions_request,
    Permission.provisions_decide,
    Permission.grants_revoke,
    Permission.reidentify_request,
    Permission.reidentify_approve,
    Permission.keys_rotate,
    Permission.users_manage,
}
PERSONAL = {
    Permission.reidentify_request,
    Permission.reidentify_approve,
    Permission.keys_rotate,
    Permission.provisions_decide,
    Permission.registers_read,
}


def test_the_repo_policy_loads_and_every_permission_has_a_holder():
    policy = load_roles(POLICY)
    assert {
        "administrator",
        "data_steward",
        "pd_manager",
        "protection_officer",
        "auditor",
        "operator",
        "partner",
        "citizen",
    } <= set(policy.roles)
    assert [p for p in Permission if not policy.holders(p)] == []
    assert policy.allows([policy.anonymous], Permission.open_data_read)
    assert not policy.allows([policy.anonymous], Permission.catalog_read)
    assert not policy.allows(["no_such_role"], Permission.open_data_read)


def test_the_duties_stay_apart():
    policy = load_roles(POLICY)
    assert not any(policy.allows(["auditor"], p) for p in CHANGES)
    assert not any(policy.allows(["operator"], p) for p in PERSONAL)
    # the administrator runs the house but approves no provision and resolves no pseudonym
    assert not policy.allows(["administrator"], Permission.provisions_decide)
    assert not policy.allows(["administrator"], Permission.reidentify_approve)
    # key rotation needs the protection officer; a steward's reach is their department
    assert policy.holders(Permission.keys_rotate) == ["protection_officer"]
    assert policy.scopes(["data_steward"], Permission.datasets_steward) == {Scope.department}
    assert policy.scopes(["partner"], Permission.provisions_own) == {Scope.partner}
    # ...while what every member of staff reads stays city-wide for a steward, too
    assert policy.scopes(["data_steward"], Permission.catalog_read) == {Scope.city}


@pytest.mark.parametrize(
    ("change", "names"),
    [
        (lambda d: d["roles"]["auditor"]["permissions"].append("audit.delete"), "roles.auditor"),
        (lambda d: d.update(anonymous="visitor"), "visitor"),
        (lambda d: d["roles"]["citizen"].update(signs_in=True), "signs_in"),
        (lambda d: d["roles"]["operator"].pop("title"), "roles.operator.title"),
        # a department's steward given pipelines.run would run every department's feeds
        (
            lambda d: d["roles"]["data_steward"]["permissions"].append("pipelines.run"),
            "roles.data_steward: a department-scoped role cannot hold pipelines.run",
        ),
    ],
)
def test_a_bad_policy_fails_at_load_naming_the_file_and_the_field(tmp_path: Path, change, names):
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    change(data)
    bad = tmp_path / "roles.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_roles(bad)
    assert str(bad) in err.value.message and names in err.value.message
