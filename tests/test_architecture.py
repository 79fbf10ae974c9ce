"""The direction of the house is a contract the machine checks (pyproject.toml,
docs/architecture.md): lint-imports passes on the tree as it is, and fails as soon as a
lower app imports a higher one — also from inside a function body."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["sanling", "units", "standards", "inspections", "supervision", "reports"]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(exe), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def tree_copy(tmp_path):
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_every_contract(tree_copy):
    res = lint_imports(tree_copy)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "0 broken" in res.stdout


@pytest.mark.parametrize(
    "module,line,contract",
    [
        # a lazy import in a function body of units, reaching up to the roll-up
        (
            "units/services.py",
            "def _sneaky():\n    from reports import attainment  # noqa\n",
            "Nothing below reports imports it",
        ),
        (
            "inspections/services.py",
            "def _sneaky():\n    from supervision import selectors  # noqa\n",
            "The apps are layers",
        ),
        ("sanling/kernel/api.py", "from units import models as _units  # noqa\n", "The kernel imports no app"),
        ("units/models.py", "from standards import models as _standards  # noqa\n", "units knows nothing of scoring"),
    ],
)
def test_a_forbidden_import_breaks_the_build(tree_copy, module, line, contract):
    path = tree_copy / module
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + line, encoding="utf-8")
    res = lint_imports(tree_copy)
    assert res.returncode != 0
    assert contract in res.stdout and "BROKEN" in res.stdout, res.stdout
