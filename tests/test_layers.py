"""The layers of the code base (registry < partners < projects), as import-linter checks
them in `make lint` with the contracts in pyproject.toml: the real tree keeps them, and a
copy of it with one upward import breaks them, naming the importing line."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

LAYERS = "registry < partners < projects: no import upwards"
FORBIDDEN = "Rules, reads and writes never import the admin, the API or the import"

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), str(where / "pyproject.toml"), "--no-cache"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(where)},
    )


def copy_tree(target: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    for package in ("registry", "partners", "projects"):
        shutil.copytree(
            ROOT / package,
            target / package,
            ignore=shutil.ignore_patterns("__pycache__", "locale", "static", "templates"),
        )
    return target


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "upward", "contract"),
    [
        ("registry/api/errors.py", "from projects.errors import InvalidData", LAYERS),
        ("registry/roles.py", "import partners.models", LAYERS),
        ("partners/api.py", "from projects import access", LAYERS),
        ("projects/services.py", "from projects.api import serializers", FORBIDDEN),
    ],
)
def test_an_upward_import_breaks_a_contract(tmp_path, module, upward, contract):
    tree = copy_tree(tmp_path)
    assert lint_imports(tree).returncode == 0
    path = tree / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{upward}  # upward\n", encoding="utf-8")

    result = lint_imports(tree)

    assert result.returncode == 1
    assert f"{contract} BROKEN" in result.stdout
    # The report names the importing module and the line that was added.
    importer = module.removesuffix(".py").replace("/", ".")
    line = len(path.read_text(encoding="utf-8").splitlines())
    assert f"{importer} -> " in result.stdout
    assert f"l.{line}" in result.stdout
