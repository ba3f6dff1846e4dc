"""The environment block of ``results.json``: where the numbers came from.

Python, OS, CPU model (``/proc/cpuinfo``), GPU model and driver (``nvidia-smi`` when it exists,
else ``null``), NumPy and the installed framework distributions (read from package metadata, so
nothing is imported here), each adapter's own version, and the date.
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["collect_environment", "cpu_model", "gpu_info", "installed_versions", "python_runtime"]

#: Distributions whose versions a reader of the report may need; absent ones are left out.
DISTRIBUTIONS = (
    "numpy",
    "tensorflow",
    "tensorflow-cpu",
    "torch",
    "jax",
    "jaxlib",
    "cupy-cuda12x",
    "array-api-compat",
    "tape-conformance",
)


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    """The CPU's model name, from /proc/cpuinfo (or ``platform.processor()`` elsewhere)."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def gpu_info() -> dict[str, Any] | None:
    """``{"model", "count", "driver"}`` from nvidia-smi; ``None`` without it or without a GPU."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        done = subprocess.run(
            [smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    rows = [line.split(",") for line in done.stdout.splitlines() if line.strip()]
    if not rows:
        return None
    models = [row[0].strip() for row in rows]
    driver = rows[0][1].strip() if len(rows[0]) > 1 else None
    return {"model": "; ".join(dict.fromkeys(models)), "count": len(models), "driver": driver}


def installed_versions(names: Sequence[str] = DISTRIBUTIONS) -> dict[str, str]:
    """The versions of the distributions ``names`` installed here (absent ones left out)."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def python_runtime() -> dict[str, Any]:
    """This interpreter and its packages: what a worker's hello reports as ``runtime``."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "packages": installed_versions(),
    }


def collect_environment(
    adapters: Sequence[dict[str, Any]], runtime: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The environment block, with each available adapter's framework version.

    ``runtime`` (a worker's ``python_runtime()``) describes the interpreter that ran the cells
    when that is not this one (``--adapter NAME@PYTHON``); by default it is this one.
    """
    runtime = runtime or python_runtime()
    packages = runtime["packages"]
    return {
        "python": runtime["python"],
        "python_implementation": runtime["implementation"],
        "python_executable": runtime["executable"],
        "os": platform.platform(),
        "cpu": {"model": cpu_model(), "count": os.cpu_count()},
        "gpu": gpu_info(),
        "numpy": packages.get("numpy"),
        "frameworks": {a["name"]: a.get("version") for a in adapters},
        "packages": packages,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
