"""Run command lines through ``llmnotes.cli.main`` one after another, each bounded; report JSON.

The hostile-input harness (``test_cli_hostile.py``) starts this as its own process, so a probe
that reads ``/dev/zero`` meets a memory limit instead of the test run's, and one that blocks on
a FIFO meets an alarm. It reads ``{"probes": [[arg, …], …], "seconds": S, "memory_gb": G}`` on
standard input and prints one JSON object per probe: the exit status, standard output and error,
seconds, and the traceback of any exception that escaped ``main``.

``mkdocs`` itself is replaced by a stand-in that succeeds: the harness checks what the command
line does with its arguments, not MkDocs.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import signal
import sys
import time
import traceback


class ProbeTimeout(BaseException):
    """Raised by the alarm: the probe ran past its time (a hang on a FIFO, say)."""


def _alarm(signum, frame):
    raise ProbeTimeout


def address_space() -> int:
    """The process's virtual memory size now, in bytes."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * resource.getpagesize()


def run(argv: list[str], seconds: int) -> dict:
    from llmnotes.cli import main

    out, err = io.StringIO(), io.StringIO()
    start, code, escaped = time.perf_counter(), None, None
    signal.alarm(seconds)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exit_:
                code = exit_.code
    except ProbeTimeout:
        escaped = f"ProbeTimeout: still running after {seconds} s"
    except BaseException:  # reporting what escaped is the point
        escaped = traceback.format_exc()
    finally:
        signal.alarm(0)
    return {
        "argv": argv,
        "code": code,
        "out": out.getvalue()[-4000:],
        "err": err.getvalue()[-4000:],
        "seconds": round(time.perf_counter() - start, 3),
        "escaped": escaped,
    }


def main() -> None:
    request = json.load(sys.stdin)
    import torch  # noqa: F401 - loaded before the memory limit, like every probe needs it
    import transformers  # noqa: F401

    import llmnotes.cli as cli

    cli._mkdocs = lambda *arguments: 0
    limit = address_space() + int(request["memory_gb"] * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    signal.signal(signal.SIGALRM, _alarm)
    for argv in request["probes"]:
        print(json.dumps(run(argv, request["seconds"])), flush=True)


if __name__ == "__main__":
    main()
