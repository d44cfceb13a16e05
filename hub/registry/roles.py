"""Who may do what: the roles of the hub's people and their permissions, declared as data.

The policy lives in ``policy/roles.yaml`` (the Gunpo plan's duty matrix) and is loaded and
validated like a feed: a permission the hub does not know, a role without a title, or a scope
that no role can carry fails at load with the file, the field and the reason. Every route and
CLI command asks the same question of it (``RolePolicy.allows``), so the matrix a test reads is
the one the hub enforces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from hub.core.errors import ConfigError
from hub.core.text import Text
from hub.registry.loader import describe_errors


class Permission(StrEnum):
    """Everything a person can be allowed to do; a policy may name nothing else."""

    open_data_read = "open_data.read"  # the portal, open records and downloads
    catalog_read = "catalog.read"  # every dataset's metadata, quality and releases
    datasets_steward = "datasets.steward"  # a department's datasets: metadata, quality, releases
    pipelines_run = "pipelines.run"  # run feeds and maintenance (no personal data)
    partners_manage = "partners.manage"  # register partners, issue and revoke their keys
    provisions_request = "provisions.request"  # file a request for restricted data
    provisions_own = "provisions.own"  # a partner's own requests, grants and usage
    provisions_decide = "provisions.decide"  # approve, narrow or refuse a request
    grants_revoke = "grants.revoke"
    reidentify_request = "reidentify.request"  # ask for a pseudonym to be resolved
    reidentify_approve = "reidentify.approve"  # the second person of dual control
    keys_rotate = "keys.rotate"  # rotate the vault's pseudonymization keys
    audit_read = "audit.read"  # the audit log, its chain, lineage, release reports
    registers_read = "registers.read"  # processing, provision and destruction registers
    inspection_report = "inspection.report"  # the semi-annual personal-data inspection
    users_manage = "users.manage"  # add staff accounts, give roles, disable


class Scope(StrEnum):
    """What a role's permissions reach: everything, one department's datasets, or one
    partner's own requests and grants."""

    city = "city"
    department = "department"
    partner = "partner"


#: What a role's narrower scope narrows: a steward looks after their department's datasets but
#: reads the whole catalog; a partner's person files and sees their own agency's requests.
SCOPED = {
    Scope.department: frozenset({Permission.datasets_steward}),
    Scope.partner: frozenset({Permission.provisions_request, Permission.provisions_own}),
}

#: What a role of any scope may hold city-wide: reading the open data and the catalog.
EVERYWHERE = frozenset({Permission.open_data_read, Permission.catalog_read})

_ROLE_ID = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class Role(BaseModel):
    """One role of the duty matrix."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: Text
    description: Text
    scope: Scope = Scope.city
    permissions: frozenset[Permission] = Field(min_length=1)
    signs_in: bool = Field(
        default=True, description="False for the anonymous citizen: no account holds it."
    )
    airflow_role: str | None = Field(
        default=None,
        description="The Airflow role the same person gets in Airflow's UI (Viewer, Op, Admin).",
    )


class RolePolicy(BaseModel):
    """The whole matrix: role id -> role."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    roles: dict[str, Role]
    anonymous: str = Field(description="The role of a person who has not signed in.")

    @field_validator("roles")
    @classmethod
    def _ids(cls, roles: dict[str, Role]) -> dict[str, Role]:
        bad = [r for r in roles if not _ROLE_ID.match(r)]
        if bad:
            raise ValueError(f"role ids are lower_snake_case: {', '.join(bad)}")
        return roles

    @model_validator(mode="after")
    def _scoped_roles_hold_scoped_permissions(self) -> RolePolicy:
        """A department's or partner's role holds only what its scope narrows and what anyone
        reads: anything else would quietly reach the whole city."""
        for name, role in self.roles.items():
            if role.scope == Scope.city:
                continue
            wide = role.permissions - SCOPED[role.scope] - EVERYWHERE
            if wide:
                raise ValueError(
                    f"roles.{name}: a {role.scope.value}-scoped role cannot hold "
                    f"{', '.join(sorted(p.value for p in wide))} (it would reach the whole city)"
                )
        return self

    @model_validator(mode="after")
    def _anonymous_role(self) -> RolePolicy:
        if self.anonymous not in self.roles:
            raise ValueError(f"anonymous role {self.anonymous!r} is not among the roles")
        if self.roles[self.anonymous].signs_in:
            raise ValueError(f"anonymous role {self.anonymous!r} must have signs_in: false")
        return self

    def allows(self, roles: Iterable[str], permission: Permission) -> bool:
        """Whether any of ``roles`` carries ``permission`` (unknown roles carry nothing)."""
        return any(permission in self.roles[r].permissions for r in roles if r in self.roles)

    def scopes(self, roles: Iterable[str], permission: Permission) -> set[Scope]:
        """The scopes in which ``roles`` carry ``permission``: the caller narrows to the
        person's department or partner when ``Scope.city`` is not among them."""
        return {
            role.scope if permission in SCOPED.get(role.scope, ()) else Scope.city
            for role in (self.roles[r] for r in roles if r in self.roles)
            if permission in role.permissions
        }

    def holders(self, permission: Permission) -> list[str]:
        return sorted(r for r, role in self.roles.items() if permission in role.permissions)


def load_roles(path: Path) -> RolePolicy:
    """Load and validate the policy file.

    Raises:
        ConfigError: the file is not YAML or not a valid policy (file, field and reason).
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML: {exc}") from None
    try:
        return RolePolicy.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_errors(path, exc)) from None
