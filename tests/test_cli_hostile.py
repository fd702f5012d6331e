"""The hostile-input harness: every option of every command, given values at and past its range.

The commands and their options are read from the parser, so a new option is probed the day it
is added. Each option of each command gets, in turn, hostile values for its kind (numbers: NaN,
infinities, zero, negatives, huge; paths: missing, empty, a folder, a FIFO, a device, a symlink
loop, a dangling link, a file over the read limit, a name with control characters; text: empty,
blank, control characters, very long) while the rest of the command line stays valid. Every
probe must end with status 0, or with status 2 and exactly one line on standard error starting
``llmnotes: error:``; no traceback; an error within :data:`ERROR_SECONDS`; and the store,
figures and site of the checkout unchanged unless changing them is the command's job.

The probes run in one separate process (``probe_worker.py``) under a memory limit and a
per-probe alarm, on a scratch checkout with its own cache.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from llmnotes.cli import build_parser, command_names, whole_number

from conftest import ROOT

#: The longest an error may take (loading MiniLM, which some checks need, takes about a second).
ERROR_SECONDS = 10
#: The alarm for one probe; a valid command line may run this long (a tiny fine-tuning).
PROBE_SECONDS = 60
#: What the probes may allocate beyond the worker's start, in GiB.
MEMORY_GB = 6
#: Lines a command prints on standard error that are notes, not errors.
NOTES = ("note:", "offline stand-in", "using ", "set aside ")
#: Options that name a file or folder to read or write.
PATH_OPTIONS = {
    "vectors", "model", "train", "eval", "test", "output", "out", "site_dir", "asset", "json",
    "file",
}  # fmt: skip
#: Commands with a third exit status: ``regenerate --check`` exits 1 when it finds stale entries
#: (a valid ``--asset`` path that is not the committed asset makes every entry using it stale).
EXIT_ONE = {"regenerate"}
#: Commands whose job is to change the checkout's store and figures, or its site.
MAY_CHANGE = {"regenerate": {"docs"}, "build": {"site"}, "notebooks": {"docs"}}

NUMBERS = ["nan", "inf", "-inf", "-1", "0", "1e308", "99999999999999999999", "", "x"]
TEXTS = ["", " ", "\x00\x1b[31m\n", "ü" * 100_000, "-", "../../../etc/passwd"]


def hostile_paths(folder: Path) -> list[str]:
    """Paths of every kind a command should refuse (or handle), made in ``folder``."""
    folder.mkdir()
    (folder / "empty.txt").write_text("")
    (folder / "full").mkdir()
    (folder / "full" / "file.txt").write_text("x\n")
    os.mkfifo(folder / "fifo")
    (folder / "loop").symlink_to(folder / "loop")
    (folder / "dangling").symlink_to(folder / "gone")
    with open(folder / "huge.txt", "wb") as handle:  # sparse: 9 GiB on paper, no disk used
        handle.truncate(9 << 30)
    odd = folder / "new\nline\x1b[31m.txt"
    odd.write_text("x\n")
    unreadable = folder / "unreadable.txt"
    unreadable.write_text("good,1\n")
    unreadable.chmod(0)
    names = ["empty.txt", "full", "fifo", "loop", "dangling", "huge.txt", odd.name, unreadable.name]
    return [str(folder / name) for name in names] + ["/dev/zero", "", " ", str(folder / "none")]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A scratch checkout (mkdocs.yml, the store, a built site), a cache, data and models."""
    from llmnotes.char_gpt import save_char_gpt
    from llmnotes.char_lm import CharVocabulary
    from llmnotes.classification_data import pang_lee_data
    from llmnotes.finetune import FinetuneConfig, finetune
    from llmnotes.gpt import GPT, GPTConfig
    from llmnotes.pipeline.assets import resolve

    base = tmp_path_factory.mktemp("hostile")
    root = base / "root"
    (root / "docs" / "generated").mkdir(parents=True)
    shutil.copy(ROOT / "mkdocs.yml", root)
    shutil.copytree(ROOT / "docs" / "generated", root / "docs" / "generated", dirs_exist_ok=True)
    (root / "site").mkdir()
    (root / "site" / ".llmnotes-build").write_text("an earlier build")
    (root / "site" / "index.html").write_text("<p>the last good site</p>")
    data = pang_lee_data(resolve("gensim-test-data", offline=True).path).subset(range(0, 200, 10))
    tiny = base / "tiny.csv"
    lines = [f'"{t}",{y}' for t, y in zip(data.texts, data.labels, strict=True)]
    tiny.write_text("text,label\n" + "\n".join(lines) + "\n")
    classifier = base / "classifier"
    config = FinetuneConfig(epochs=1, batch_size=8, max_length=8, progress=False)
    finetune(resolve("minilm", offline=True).path, data, data, classifier, config)
    chars = CharVocabulary.build("hello world " * 10, min_count=1)
    gpt = GPT(GPTConfig(vocab_size=len(chars.chars), context=32, d_model=16, heads=2, layers=1))
    save_char_gpt(gpt, chars, base / "char-gpt")
    return {
        "base": base,
        "root": root,
        "tiny": str(tiny),
        "classifier": str(classifier),
        "char_gpt": str(base / "char-gpt"),
        "paths": hostile_paths(base / "paths"),
    }


def base_command_lines(s: dict) -> dict[str, object]:
    """For each command, valid options and positionals that run fast (``{n}``: the probe's).

    A command may have several: each argument is probed on the first one that has it.
    """
    out = str(s["base"] / "out-{n}")
    return {
        "assets": ({"--offline": None, "--asset": ["minilm=" + s["classifier"]]}, []),
        "regenerate": ({"--check": None, "--offline": None, "--asset": []}, ["tokenization"]),
        "tokenize": ({"--offline": None, "--with": "bert"}, ["hello world"]),
        "similarity": (
            {"--offline": None, "--vectors": "minilm", "--digits": "4"}, ["king", "queen"]
        ),
        "neighbours": ({"--offline": None, "--vectors": "minilm", "-k": "3"}, ["king"]),
        "finetune": (
            {"--offline": None, "--quiet": None, "--train": [s["tiny"]], "--eval": [s["tiny"]],
             "--test": [s["tiny"]], "--output": out, "--epochs": "1", "--max-length": "8",
             "--batch-size": "8", "--lr": "5e-5", "--seed": "0", "--early-stopping": "1",
             "--model": "minilm", "--text-column": "text", "--label-column": "label"},
            [],
        ),
        "evaluate": (
            {"--offline": None, "--quiet": None, "--model": s["classifier"],
             "--test": [s["tiny"]], "--text-column": "text", "--label-column": "label",
             "--batch-size": "8", "--max-length": "8", "--json": out + ".json"},
            [],
        ),
        "sentiment": [
            ({"--offline": None, "--model": s["classifier"], "--batch-size": "8"}, ["a fine film"]),
            ({"--offline": None, "--model": s["classifier"], "--file": s["tiny"], "--quiet": None,
              "--text-column": "text", "--format": "jsonl"}, []),
        ],
        "generate": (
            {"--offline": None, "--model": s["char_gpt"], "--max-new-tokens": "5",
             "--temperature": "0.8", "--top-k": "3", "--top-p": "0.9",
             "--repetition-penalty": "1.1", "--seed": "0"},
            ["hello"],
        ),
        "attention": (
            {"--offline": None, "--layer": "0", "--head": "0", "--out": out + ".svg"}, ["hi there"]
        ),
        "notebooks": ({"--check": None}, []),
        "build": ({"--site-dir": str(s["root"] / "site"), "--force": None}, []),
        "serve": ({"--dev-addr": "127.0.0.1:8000"}, []),
    }  # fmt: skip


def render(options: dict[str, object], positionals: list[str]) -> list[str]:
    argv: list[str] = []
    for flag, value in options.items():
        if value is None:
            argv.append(flag)
        elif isinstance(value, list):
            argv += (
                [item for v in value for item in (flag, v)] if flag == "--asset" else [flag, *value]
            )
        else:
            argv += [flag, str(value)]
    return [*argv, "--", *positionals] if positionals else argv


def kind(action: argparse.Action) -> str:
    """``number``, ``path`` or ``text``: which hostile values an argument gets."""
    if action.type in (int, float) or getattr(action.type, "__qualname__", "").startswith(
        whole_number.__qualname__
    ):
        return "number"
    return "path" if action.dest in PATH_OPTIONS else "text"


def probes(s: dict) -> list[tuple[str, str, list[str]]]:
    """(command, what is probed, argv) for every argument of every command and every value."""
    bases = base_command_lines(s)
    assert set(bases) == set(command_names()), "give every command a base command line"
    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    found = []
    for command, sub in commands.choices.items():
        choices = bases[command] if isinstance(bases[command], list) else [bases[command]]
        for action in sub._actions:
            if action.nargs == 0 or isinstance(action, argparse._HelpAction):
                continue
            flag = action.option_strings[-1] if action.option_strings else None
            options, positionals = next(
                (base for base in choices if (flag in base[0] if flag else base[1])), choices[0]
            )
            values = {"number": NUMBERS, "path": s["paths"], "text": TEXTS}[kind(action)]
            for value in values:
                opts, pos = dict(options), list(positionals)
                if flag:
                    if action.dest == "asset":
                        opts[flag] = [f"minilm={value}"]
                    elif action.nargs in ("+", "*"):
                        opts[flag] = [value]
                    else:
                        opts[flag] = value
                    what = f"{flag} {value[:40]!r}"
                else:
                    index = [a.dest for a in sub._actions if not a.option_strings].index(
                        action.dest
                    )
                    if action.nargs in ("+", "*"):
                        pos = [value]
                    elif index < len(pos):
                        pos[index] = value
                    what = f"{action.dest} {value[:40]!r}"
                found.append((command, what, [command, *render(opts, pos)]))
    return found


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_every_option_of_every_command_meets_hostile_input(scratch):
    found = probes(scratch)
    for n, (_, _, argv) in enumerate(found):
        argv[:] = [arg.replace("{n}", str(n)) for arg in argv]
    root = scratch["root"]
    watched = {"docs": root / "docs", "site": root / "site"}
    env = {
        **os.environ,
        "LLMNOTES_ROOT": str(root),
        "LLMNOTES_CACHE_DIR": str(scratch["base"] / "cache"),
        "HF_HUB_OFFLINE": "1",
        "LLMNOTES_DATA_DIR": str(scratch["base"] / "no-shared-data"),
    }
    failures = []
    before = {name: tree_digest(path) for name, path in watched.items()}
    # One worker per command: a change to the checkout is tied to the command that made it,
    # and the probes of a command share one process, so imports are paid once per command.
    for command in dict.fromkeys(c for c, _, _ in found):
        batch = [(what, argv) for c, what, argv in found if c == command]
        request = {
            "probes": [argv for _, argv in batch],
            "seconds": PROBE_SECONDS,
            "memory_gb": MEMORY_GB,
        }
        worker = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("probe_worker.py"))],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=env,
            timeout=PROBE_SECONDS * len(batch) + 120,
        )
        results = [json.loads(line) for line in worker.stdout.splitlines() if line.startswith("{")]
        assert len(results) == len(batch), worker.stderr[-3000:]
        for (what, _), result in zip(batch, results, strict=True):
            if problem := judge(result, exit_one=command in EXIT_ONE):
                failures.append(f"{command} {what}: {problem}")
        after = {name: tree_digest(path) for name, path in watched.items()}
        for name in watched:
            if after[name] != before[name] and name not in MAY_CHANGE.get(command, set()):
                failures.append(f"{command} changed the checkout's {name}/")
        before = after
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} failures)"
    assert len(found) > 300


def judge(result: dict, exit_one: bool = False) -> str:
    """What is wrong with one probe's outcome, or an empty string."""
    if result["escaped"]:
        return result["escaped"].strip().splitlines()[-1]
    if "Traceback" in result["err"]:
        return "a traceback on standard error"
    if result["code"] not in (0, 2, *([1] if exit_one else [])):
        return f"exit status {result['code']}"
    if result["code"] == 2:
        lines = [line for line in result["err"].strip().splitlines() if not line.startswith(NOTES)]
        if len(lines) != 1 or not lines[0].startswith("llmnotes: error: "):
            return f"not one error line: {result['err'][-300:]!r}"
        if result["seconds"] > ERROR_SECONDS:
            return f"the error took {result['seconds']:.1f} s"
    return ""
