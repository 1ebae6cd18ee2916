"""The tests are organised one way (tests/README.md): every test file under one of the four layers, every folder
of Python files a package."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]
LAYERS = {"unit", "contract", "integration", "browser"}


def test_every_test_file_is_in_a_layer():
    outside = [
        str(p.relative_to(TESTS))
        for p in TESTS.rglob("test_*.py")
        if p.relative_to(TESTS).parts[0] not in LAYERS
    ]
    assert outside == [], f"move these under tests/<layer>/<domain>/ (tests/README.md): {outside}"


def test_every_folder_of_python_files_is_a_package():
    folders = {p.parent for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts}
    missing = [str(f.relative_to(TESTS.parent)) for f in sorted(folders) if not (f / "__init__.py").exists()]
    assert missing == [], f"add an empty __init__.py to: {missing}"
