"""Benchmark the site pipeline: cold build (per topic), no-op rebuild, and `mkdocs build` alone.

Works on a throw-away copy of the checkout, so the committed metrics and figures are untouched.
Usage: ``python scripts/bench_build.py [--repeats N]``. Goals on a 2-core machine: no-op rebuild
under 15 s, ``mkdocs build`` under 10 s, each topic's offline regeneration under 10 minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from llmnotes.experiments import TOPIC_MODULES
from llmnotes.paths import repo_root, shared_data_dir
from llmnotes.tables import format_table

IGNORED = shutil.ignore_patterns(".venv", ".git", "site", ".cache", "test-artifacts", "__pycache__")


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each warm measurement")
    repeats = parser.parse_args().repeats
    cli = [sys.executable, "-m", "llmnotes"]
    regenerate = [*cli, "regenerate", "--offline", "--quiet"]
    build = [*cli, "build"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "llmnotes"
        shutil.copytree(repo_root(), root, ignore=IGNORED)
        shutil.rmtree(root / "docs" / "generated")
        env = {**os.environ, "LLMNOTES_ROOT": str(root), "HF_HUB_OFFLINE": "1"}
        if data := shared_data_dir():
            env["LLMNOTES_DATA_DIR"] = str(data)
        per_topic = {topic: timed([*regenerate, topic], root, env) for topic in TOPIC_MODULES}
        cold_regen = sum(per_topic.values())
        cold_build = timed(build, root, env)
        noop = [timed(regenerate, root, env) + timed(build, root, env) for _ in range(repeats)]
        builds = [timed(build, root, env) for _ in range(repeats)]
    rows = [
        ("measurement", "seconds", "what it runs"),
        (
            "cold build",
            f"{cold_regen + cold_build:.1f}",
            "regenerate everything + build, no caches",
        ),
        ("  of which regenerate", f"{cold_regen:.1f}", "every experiment, offline assets"),
        *[
            (f"    {topic}", f"{seconds:.1f}", f"llmnotes regenerate {topic}")
            for topic, seconds in per_topic.items()
        ],
        ("  of which mkdocs build", f"{cold_build:.1f}", "notebooks executed (cold cache)"),
        (
            "no-op rebuild",
            f"{statistics.median(noop):.1f}",
            f"regenerate + build, median of {repeats}",
        ),
        (
            "mkdocs build",
            f"{statistics.median(builds):.1f}",
            f"warm notebook cache, median of {repeats}",
        ),
    ]
    print(format_table(rows))


if __name__ == "__main__":
    main()
