"""Run the benchmarks, store their results, and print one table of every speed figure.

Usage: ``python scripts/bench.py [SUB ...] [--repeats N]``, where SUB is a topic (that topic's
speed experiments, rerun) or ``pipeline`` (the site's build, timed on a throw-away copy of the
checkout). With no SUB, all of them. Results go to ``docs/generated/metrics.json``;
``docs/performance.md`` shows them. ``--table`` only prints the stored table.
"""

from __future__ import annotations

import argparse
import time

from llmnotes.pipeline.benchmarks import (
    pipeline_timings,
    speed_experiments,
    store_pipeline,
    summary_rows,
)
from llmnotes.pipeline.experiment import load_topics
from llmnotes.pipeline.metrics import MetricsStore
from llmnotes.pipeline.paths import docs_dir, metrics_path, repo_root, shared_data_dir
from llmnotes.pipeline.regenerate import regenerate, summary_table
from llmnotes.pipeline.tables import format_table


def main() -> None:
    speed = speed_experiments()
    choices = [*speed, "pipeline"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("subs", nargs="*", metavar="SUB", help=f"any of: {', '.join(choices)}")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each warm measurement")
    parser.add_argument("--table", action="store_true", help="print the stored table only")
    args = parser.parse_args()
    if unknown := [sub for sub in args.subs if sub not in choices]:
        parser.error(f"unknown sub-benchmark {unknown[0]!r}; choose from: {', '.join(choices)}")
    store = MetricsStore(metrics_path())
    if not args.table:
        for sub in args.subs or choices:
            if sub == "pipeline":
                start = time.perf_counter()
                values = pipeline_timings(repo_root(), shared_data_dir(), args.repeats)
                store_pipeline(store, values, time.perf_counter() - start)
                continue
            experiments = load_topics(speed[sub])
            outcomes = regenerate(experiments, store, docs_dir(), offline=True, force=True)
            print(summary_table(outcomes))
    print(format_table(summary_rows(store)))


if __name__ == "__main__":
    main()
