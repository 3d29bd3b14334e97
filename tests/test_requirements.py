"""function/requirements.txt is what the Cloud Function installs: it must pin what pyproject declares."""

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        req = Requirement(text)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{text!r} is not pinned with =="
        pins[req.name.lower()] = spec.version
    return pins


def test_requirements_txt_matches_pyproject_runtime_dependencies() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared = _pins(pyproject["project"]["dependencies"])
    deployed = _pins((ROOT / "function" / "requirements.txt").read_text(encoding="utf-8").splitlines())
    assert deployed == declared


def test_dev_dependencies_are_pinned() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert _pins(pyproject["project"]["optional-dependencies"]["dev"])
