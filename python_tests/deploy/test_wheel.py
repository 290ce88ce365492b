"""The ingest job as Databricks runs it: the wheel built from pyproject.toml, installed where a
Databricks Runtime's packages are already present, started through its entry point.

The "cluster" is a fresh virtualenv (no site packages of any other environment). The runtime's
pyspark, py4j and Delta Lake are put on its path by a .pth file, as importable packages without
pip metadata: pip cannot count them as installed, so a wheel that declared them (or anything
else) as a dependency would make pip look for it. pip installs the wheel with dependency
resolution on, from the wheel's folder only (--no-index): a declared dependency fails the
install instead of being downloaded over the runtime's Spark.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from python_tests.conftest import REPO_ROOT, run

pytestmark = pytest.mark.spark

DISTRIBUTION = "retail_lakehouse"  # the python_wheel_task's package_name
ENTRY_POINT = "lakehouse-ingest"  # its entry_point
RUNTIME_PYTHON = "3.12.3"  # Databricks Runtime 17.3 LTS (the bundle's spark_version)
RUNTIME_PACKAGES = ("pyspark", "py4j", "delta")  # what the runtime provides that the job imports
PYPROJECT_OPTIONAL = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel` of a copy of the project (the build leaves build/ and *.egg-info behind)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "streaming_ingest", source / "streaming_ingest",
                    ignore=shutil.ignore_patterns("__pycache__"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--disable-pip-version-check",
         "-q", "-w", str(work / "dist"), str(source)], env=None, cwd=work)
    (built,) = (work / "dist").glob("*.whl")
    return built


def metadata(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta = Parser().parsestr(archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
        entry_points = archive.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    packages = sorted({n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")})
    return {"meta": meta, "entry_points": entry_points, "packages": packages}


def test_the_wheel_holds_the_job_only_and_admits_the_runtime_python(wheel):
    info = metadata(wheel)
    assert wheel.name == f"{DISTRIBUTION}-0.1.0-py3-none-any.whl"
    assert info["meta"]["Name"] == DISTRIBUTION
    # the runtime provides Spark and Delta: nothing is installed with the wheel; the only
    # requirements are the opt-in `airflow` extra's (orchestration/dags, never on a cluster)
    requires = info["meta"].get_all("Requires-Dist") or []
    assert [r for r in requires if not r.endswith('; extra == "airflow"')] == []
    assert sorted(r.split(";")[0] for r in requires) == sorted(PYPROJECT_OPTIONAL["airflow"])
    assert SpecifierSet(info["meta"]["Requires-Python"]).contains(RUNTIME_PYTHON)
    assert info["packages"] == ["streaming_ingest"]
    assert info["entry_points"].split() == ["[console_scripts]", ENTRY_POINT, "=", "streaming_ingest.__main__:main"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, wheel) -> Path:
    """A fresh virtualenv with the wheel installed (before the runtime packages are on its path)."""
    venv = tmp_path_factory.mktemp("cluster") / "venv"
    run([sys.executable, "-m", "venv", str(venv)], env=None, cwd=venv.parent)
    python = venv / "bin" / "python"
    run([str(python), "-m", "pip", "install", "--no-index", "--find-links", str(wheel.parent),
         "--disable-pip-version-check", "-q", DISTRIBUTION], env=None, cwd=venv.parent)
    return venv


def installed(venv: Path) -> set[str]:
    listing = run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
                  env=None, cwd=venv)
    return {package["name"].lower().replace("-", "_") for package in json.loads(listing.stdout)}


def add_runtime_packages(venv: Path) -> None:
    """pyspark, py4j and delta importable in `venv`, as the runtime has them (no pip metadata)."""
    runtime = venv.parent / "runtime"
    runtime.mkdir(exist_ok=True)
    site_packages = Path(sysconfig.get_paths()["purelib"])
    for package in RUNTIME_PACKAGES:
        if not (runtime / package).exists():
            (runtime / package).symlink_to(site_packages / package)
    (venv_site_packages(venv) / "databricks_runtime.pth").write_text(f"{runtime}\n")


def venv_site_packages(venv: Path) -> Path:
    (path,) = (venv / "lib").glob("python3*/site-packages")
    return path


def test_pip_installs_nothing_but_the_wheel_and_help_needs_no_spark(cluster):
    assert installed(cluster) - {"pip", "setuptools"} == {DISTRIBUTION}
    env = {"PATH": "/usr/bin:/bin"}
    probe = subprocess.run([str(cluster / "bin" / "python"), "-c", "import pyspark"], env=env, cwd=cluster,
                           capture_output=True, text=True, timeout=60)
    assert probe.returncode == 1 and "No module named 'pyspark'" in probe.stderr
    shown = run([str(cluster / "bin" / ENTRY_POINT), "--help"], env=env, cwd=cluster)
    assert shown.stdout.startswith("usage: ") and "--checkpoint-dir" in shown.stdout


def test_the_entry_point_lands_bronze_on_the_cluster(cluster, lakehouse, spark):
    add_runtime_packages(cluster)
    assert installed(cluster) - {"pip", "setuptools"} == {DISTRIBUTION}  # still no pyspark for pip
    # the python_wheel_task finds its function by package_name and entry_point in the metadata
    resolved = run([str(cluster / "bin" / "python"), "-c", (
        "import importlib.metadata as m, streaming_ingest; "
        f"(ep,) = [e for e in m.distribution('{DISTRIBUTION}').entry_points if e.name == '{ENTRY_POINT}']; "
        "print(ep.value, streaming_ingest.__file__)"
    )], env={"PATH": "/usr/bin:/bin"}, cwd=cluster)
    value, module_file = resolved.stdout.split()
    assert value == "streaming_ingest.__main__:main"
    assert Path(module_file).is_relative_to(venv_site_packages(cluster))  # the wheel's code, not the repo's

    lines = [f'{{"transaction_id":"w{i}","quantity":{i}}}' for i in range(7)] + ["{broken"]
    lakehouse.write_landing_file("sales-0001.json", lines)
    env = {k: v for k, v in lakehouse.env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{cluster / 'bin'}:/usr/bin:/bin"
    out = run([str(cluster / "bin" / ENTRY_POINT), "--source", "files", "--trigger", "available-now",
               "--landing-dir", str(lakehouse.landing), "--bronze-path", lakehouse.bronze_path,
               "--checkpoint-dir", str(lakehouse.path("checkpoints", "wheel"))], env=env, cwd=lakehouse.root).stdout
    assert out.strip().splitlines()[-1].startswith("[ingest] done: 8 rows in 1 batches, ")
    bronze = spark.read.format("delta").load(lakehouse.bronze_path)
    assert sorted(r.raw_payload for r in bronze.collect()) == sorted(lines)
    assert bronze.select("record_id").distinct().count() == 8
