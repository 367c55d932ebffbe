"""`pip install .` (not editable) into a fresh virtualenv gives a hub that runs from any directory:
the configuration and schemas ship inside the package. About 25 s: a wheel is built and installed
with its dependencies (from pip's cache once they were downloaded)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=240)


def test_a_wheel_installed_in_a_fresh_virtualenv_runs_the_demo_and_the_rules_check_from_elsewhere(tmp_path: Path) -> None:
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", tmp_path / "dist", ROOT, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("laporhub-*.whl"))
    made = run(sys.executable, "-m", "venv", tmp_path / "venv", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    installed = run(tmp_path / "venv/bin/pip", "install", "--quiet", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAPORHUB_", "PYTHON"))}
    laporhub = tmp_path / "venv/bin/laporhub"
    where = run(tmp_path / "venv/bin/python", "-c", "import hub; print(hub.__file__)", cwd=elsewhere, env=env)
    assert str(tmp_path / "venv") in where.stdout, "the installed copy runs, not the checkout"

    check = run(laporhub, "rules", "check", cwd=elsewhere, env=env)
    assert check.returncode == 0 and check.stdout.startswith("ok: "), check.stdout + check.stderr
    demo = run(laporhub, "demo", cwd=elsewhere, env=env)
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert "14 complaints" in demo.stdout and "laporhub serve" in demo.stdout.splitlines()[-1]
    version = run(laporhub, "--version", cwd=elsewhere, env=env)
    assert version.stdout.startswith("laporhub ")

    refused = run(laporhub, "keys", "list", cwd=elsewhere, env=env)
    assert refused.returncode == 2 and "LAPORHUB_DATABASE_URL is not set" in refused.stderr
    custom = tmp_path / "city-config"
    run("cp", "-r", ROOT / "config", custom, cwd=tmp_path)
    (custom / "rules.yaml").write_text("rules: 12\n", encoding="utf-8")
    broken = run(laporhub, "rules", "check", cwd=elsewhere, env={**env, "LAPORHUB_CONFIG_DIR": str(custom)})
    assert broken.returncode != 0 and "rules.yaml" in broken.stdout + broken.stderr, "LAPORHUB_CONFIG_DIR is read"
    assert list(elsewhere.iterdir()) == [], "nothing was written into the current directory"
