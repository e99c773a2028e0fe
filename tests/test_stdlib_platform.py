"""The repository's platform/ folder must never shadow the standard library's platform module."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()


def test_platform_folder_is_not_a_package() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_platform_in_this_process_is_the_stdlib_module() -> None:
    assert Path(platform.__file__).resolve().parent == STDLIB
    assert platform.python_version()  # and it works


@pytest.mark.parametrize(
    "argv",
    [
        [sys.executable, "-c", "import platform, uuid; print(platform.__file__)"],
        [sys.executable, "manage.py", "shell", "-c", "import platform; print(platform.__file__)"],
        [sys.executable, "-c", "import config.celery_app, platform; print(platform.__file__)"],
    ],
    ids=["python-from-repo-root", "manage.py", "celery-app"],
)
def test_stdlib_platform_everywhere(argv: list[str]) -> None:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.test")
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    reported = Path(out.stdout.strip().splitlines()[-1]).resolve()
    assert reported.parent == STDLIB


def test_python_dash_m_pytest_collects_from_repo_root() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "tests/test_stdlib_platform.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_guards_stdlib_shadowing() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert '"A"' in text  # flake8-builtins, which includes A005 (module shadows stdlib)


def test_platform_root_holds_only_packages() -> None:
    """platform/ is on sys.path: a module there (e.g. selectors.py) would shadow the stdlib."""
    stray = [p.name for p in (ROOT / "platform").iterdir() if p.is_file() and p.suffix == ".py"]
    assert stray == []
