"""What a Heroku-style platform builds from the repository: the pinned
Python, and a requirements.txt holding what production runs and nothing the
tests, the linter or the benchmark need (those are in requirements-dev.txt,
which the README's test command and CI install, and requirements-bench.txt,
which it includes)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
# (httpx is a production package since the outgoing webhooks: their sender posts with it.)
DEV_ONLY = {"pytest", "pytest-django", "pytest-asyncio", "hypothesis", "playwright", "ruff", "websockets",
            "uvicorn", "matplotlib", "numpy", "py-spy"}  # fmt: skip
# What loading the installed bench app imports (its commands need requirements-bench.txt).
BENCH_APP = ("bench/__init__.py", "bench/apps.py")


def requirements(name: str) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in (ROOT / name).read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def names(name: str) -> set[str]:
    return {canonicalize_name(requirement.name) for requirement in requirements(name)}


def test_python_is_pinned_to_the_version_the_project_is_tested_on() -> None:
    pinned = (ROOT / ".python-version").read_text().strip()
    assert pinned == "3.11" == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert 'target-version = "py311"' in (ROOT / "pyproject.toml").read_text()


def test_production_installs_none_of_the_test_lint_or_benchmark_packages() -> None:
    runtime, bench = names("requirements.txt"), names("requirements-bench.txt")
    dev = names("requirements-dev.txt") | bench
    assert not runtime & DEV_ONLY, f"dev-only packages in requirements.txt: {sorted(runtime & DEV_ONLY)}"
    assert DEV_ONLY - {"numpy"} <= dev  # numpy comes with matplotlib
    assert not runtime & dev, "listed in both files"
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert "-r requirements-bench.txt" in (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert "-r requirements.txt" in (ROOT / "requirements-bench.txt").read_text().splitlines()
    assert {"uvicorn", "matplotlib", "py-spy", "websockets"} <= bench
    assert "httpx" in runtime


def installed_by(requirement_file: str) -> set[str]:
    """Every distribution that installing ``requirement_file`` brings, dependencies included."""
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(requirement, "") for requirement in requirements(requirement_file)]
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            metadata = distribution(requirement.name)
        except PackageNotFoundError:
            continue  # not for this platform or Python
        extras = ["", *sorted(requirement.extras)]
        todo += [(Requirement(line), wanted) for line in metadata.requires or [] for wanted in extras]
    return {name for name, _ in seen}


def runtime_imports() -> set[str]:
    """Top-level modules imported by the code production runs."""
    found: set[str] = set()
    paths = [*ROOT.glob("games/**/*.py"), *ROOT.glob("gameproject/**/*.py"), ROOT / "manage.py"]
    for path in [*paths, *(ROOT / name for name in BENCH_APP)]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    own = {path.parent.name for path in ROOT.glob("*/__init__.py")}  # the project's apps: games, bench, ...
    return found - set(sys.stdlib_module_names) - own - {"__future__"}


def test_production_installs_everything_the_server_imports() -> None:
    provided = packages_distributions()
    installed = installed_by("requirements.txt")
    missing = {
        module: provided.get(module, ["?"])
        for module in runtime_imports()
        if not {canonicalize_name(dist) for dist in provided.get(module, [])} & installed
    }
    assert not missing, f"imported at runtime but not installed by requirements.txt: {missing}"


def test_ci_runs_the_readme_commands_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    serve, test = re.search(r"# 1\. .*\n(.+)\n\n# 2\. .*\n(.+)\n", readme).groups()
    assert "pip install -r requirements.txt" in serve
    assert "pip install -q -r requirements-dev.txt" in test
    assert test in (ROOT / ".ci/run").read_text().splitlines()
