r"""The course around the pages: each topic's box, its reading time, the path and the self-checks.

A topic page declares itself in its front matter, with what a reader will be able to do and
what the page assumes (Markdown links)::

    course:
      objectives:
        - Train a byte-level BPE and explain each merge.
      assumes:
        - "[Python](https://docs.python.org/3/tutorial/)"

The build puts a box under the page's title (:func:`course_box`) with those lines and a time
estimate computed from the page (:func:`reading_time`); the Start page lists the topics in nav
order (:func:`path_table`). Each topic's self-check lives in ``docs/quizzes/TOPIC.yml``, read
and checked by :func:`load_quiz` and drawn by :func:`quiz_html`; ``docs/assets/quiz.js`` gives
feedback and keeps the reader's answers in the browser.

Examples:
    >>> reading_time("Two words.\n\n```python\nprint(1)\n```\n")
    ReadingTime(words=2, blocks=1, minutes=5)
    >>> reading_time("word " * 2000).minutes
    10
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from llmnotes.errors import UserError
from llmnotes.pipeline.notebooks import FENCE, SOLUTION
from llmnotes.pipeline.site_config import FRONT_MATTER, front_matter, mkdocs_config, nav_pages

#: Words of technical prose a reader takes in per minute (a careful, not a skimming, pace).
WORDS_PER_MINUTE = 200
#: Minutes to read one code block, run it and compare its output with the page's.
MINUTES_PER_BLOCK = 1.5
#: Estimates are rounded up to this many minutes: they are estimates.
ROUND_TO = 5
#: How many questions a self-check has, and how many options each question.
QUESTIONS = range(5, 9)
OPTIONS = range(3, 6)
QUIZ_FOLDER = "quizzes"
#: A folded solution whose block ran at least this long (seconds) says so in its title.
SLOW_SECONDS = 2.0

_FENCE = re.compile(r"^( *)(`{3,}|~{3,}).*?^\1\2[ \t]*$", re.M | re.S)
_MACRO = re.compile(r"\{\{.*?\}\}", re.S)
_HTML_TAG = re.compile(r"<[^>]+>")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*")
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class QuizError(UserError, ValueError):
    """A self-check file that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class ReadingTime:
    """A page's size and the time it takes: prose words, code blocks, minutes (rounded up)."""

    words: int
    blocks: int
    minutes: int


def reading_time(markdown: str) -> ReadingTime:
    """Estimate how long a page takes from its words and code blocks.

    Prose is read at :data:`WORDS_PER_MINUTE`; each code block costs :data:`MINUTES_PER_BLOCK`
    (read it, run it, compare). Macros, HTML tags and link targets are not words.
    """
    blocks = len(_FENCE.findall(markdown))
    prose = _FENCE.sub(" ", FRONT_MATTER.sub("", markdown))
    prose = _LINK_TARGET.sub("]", _HTML_TAG.sub(" ", _MACRO.sub(" x ", prose)))
    words = len(_WORD.findall(prose))
    minutes = words / WORDS_PER_MINUTE + blocks * MINUTES_PER_BLOCK
    return ReadingTime(words, blocks, max(ROUND_TO, ROUND_TO * math.ceil(minutes / ROUND_TO)))


@dataclass(frozen=True)
class Topic:
    """A topic page of the course: where it is, its nav title, what it teaches and assumes."""

    page: str
    title: str
    objectives: tuple[str, ...]
    assumes: tuple[str, ...]

    @property
    def name(self) -> str:
        """The topic's name, its page's stem (``language-models``): its self-check's file name."""
        return Path(self.page).stem


def topic_of(page: str, title: str, meta: dict[str, Any]) -> Topic | None:
    """The topic a page's front matter declares (``course:``), or ``None``.

    Raises:
        QuizError: When ``course`` is not a mapping of two lists of strings.
    """
    course = meta.get("course")
    if course is None:
        return None
    lists = {
        key: course.get(key) if isinstance(course, dict) else None
        for key in ("objectives", "assumes")
    }
    if not all(
        isinstance(v, list) and v and all(isinstance(s, str) for s in v) for v in lists.values()
    ):
        raise QuizError(
            f"docs/{page}: front matter 'course' needs 'objectives' and 'assumes', "
            "each a list of sentences"
        )
    return Topic(page, title, tuple(lists["objectives"]), tuple(lists["assumes"]))


def topics(root: Path | None = None) -> list[Topic]:
    """The topic pages, in nav order: the pages whose front matter has ``course:``."""
    from llmnotes.pipeline.paths import repo_root

    root = root or repo_root()
    found = []
    for title, page in nav_pages(mkdocs_config(root)["nav"]):
        path = root / "docs" / page
        if page.endswith(".md") and path.is_file():
            topic = topic_of(page, title, front_matter(path.read_text(encoding="utf-8")))
            if topic:
                found.append(topic)
    return found


def course_box(topic: Topic, markdown: str) -> str:
    """The box under a topic's title: what it teaches, what it assumes, how long it takes."""
    time = reading_time(markdown)
    lines = ['!!! abstract "In this topic"', "", "    **You will be able to**", ""]
    lines += [f"    - {objective}" for objective in topic.objectives]
    lines += ["", "    **It assumes:** " + "; ".join(topic.assumes) + ".", ""]
    lines += [
        f"    **Time:** about {time.minutes} minutes: {time.words:,} words at "
        f"{WORDS_PER_MINUTE} a minute, and {time.blocks} code blocks at "
        f"{MINUTES_PER_BLOCK:g} minutes each to read and run. "
        "[Exercises](#exercises) · [Self-check](#self-check) · [Key takeaways](#key-takeaways)",
        "",
    ]
    return "\n".join(lines)


def path_table(root: Path | None = None) -> str:
    """The Start page's table of the topics in order.

    Each row has the topic's first objective, its time and the reader's progress on its
    self-check, which ``quiz.js`` fills in from the browser's storage.
    """
    from llmnotes.pipeline.paths import repo_root

    root = root or repo_root()
    rows = [
        "| Topic | You will be able to | Time | Your self-check |",
        "| --- | --- | --- | --- |",
    ]
    for step, topic in enumerate(topics(root), start=1):
        time = reading_time((root / "docs" / topic.page).read_text(encoding="utf-8"))
        progress = (
            f'<span class="llmnotes-progress" data-quiz="{topic.name}">'
            f"[not started]({topic.page}#self-check)</span>"
        )
        rows.append(
            f"| {step}. [{topic.title}]({topic.page}) | {topic.objectives[0]} | "
            f"{time.minutes} min | {progress} |"
        )
    return "\n".join(rows)


@dataclass(frozen=True)
class Option:
    """One answer to a question, whether it is the right one, and why."""

    answer: str
    why: str
    right: bool


@dataclass(frozen=True)
class Question:
    """A multiple-choice question with its stable id (the browser keeps answers by it)."""

    id: str
    question: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Quiz:
    """A topic's self-check."""

    topic: str
    questions: tuple[Question, ...]


def load_quiz(path: Path) -> Quiz:
    """Read and check a self-check file.

    The file holds ``questions:``, a list of mappings with ``id`` (lowercase words joined by
    hyphens, unique), ``question`` and ``options``; each option has ``answer`` and ``why``, and
    exactly one has ``right: true``.

    Raises:
        QuizError: Naming the file, the question and what to fix.
    """
    where = f"{path.parent.name}/{path.name}"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuizError(
            f"{where}: no such self-check file; write one (see docs/contributing.md)"
        ) from None
    except yaml.YAMLError as error:
        raise QuizError(f"{where}: not valid YAML ({str(error).splitlines()[0]})") from None
    if (
        not isinstance(data, dict)
        or set(data) != {"questions"}
        or not isinstance(data["questions"], list)
    ):
        raise QuizError(f"{where}: the file must hold one key, 'questions', a list")
    items = data["questions"]
    if len(items) not in QUESTIONS:
        raise QuizError(
            f"{where}: {len(items)} questions; a self-check has "
            f"{QUESTIONS.start} to {QUESTIONS.stop - 1}"
        )
    questions, seen = [], set()
    for number, item in enumerate(items, start=1):
        question = _question(item, f"{where}, question {number}")
        if question.id in seen:
            raise QuizError(f"{where}, question {number}: id {question.id!r} is used twice")
        seen.add(question.id)
        questions.append(question)
    return Quiz(path.stem, tuple(questions))


def _text(value: Any, what: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise QuizError(f"{where}: '{what}' must be a non-empty string")
    return value.strip()


def _question(item: Any, where: str) -> Question:
    if not isinstance(item, dict) or set(item) != {"id", "question", "options"}:
        keys = sorted(item) if isinstance(item, dict) else type(item).__name__
        raise QuizError(f"{where}: needs exactly 'id', 'question' and 'options' (has {keys})")
    ident = _text(item["id"], "id", where)
    if not _ID.fullmatch(ident):
        raise QuizError(f"{where}: id {ident!r} must be lowercase words joined by hyphens")
    options = item["options"]
    if not isinstance(options, list) or len(options) not in OPTIONS:
        raise QuizError(f"{where}: needs {OPTIONS.start} to {OPTIONS.stop - 1} options")
    parsed = []
    for letter, option in zip("abcde", options, strict=False):
        at = f"{where}, option {letter}"
        if not isinstance(option, dict) or not {"answer", "why"} <= set(option) <= {
            "answer",
            "why",
            "right",
        }:
            raise QuizError(f"{at}: needs 'answer' and 'why' (and 'right: true' on the right one)")
        if option.get("right", False) not in (True, False):
            raise QuizError(f"{at}: 'right' must be true or false")
        parsed.append(
            Option(
                _text(option["answer"], "answer", at),
                _text(option["why"], "why", at),
                option.get("right", False),
            )
        )
    right = sum(option.right for option in parsed)
    if right != 1:
        raise QuizError(f"{where}: {right} options are marked 'right: true'; exactly one must be")
    return Question(ident, _text(item["question"], "question", where), tuple(parsed))


def quiz_path(docs: Path, topic: str) -> Path:
    """Where the self-check of ``topic`` lives."""
    return docs / QUIZ_FOLDER / f"{topic}.yml"


def _inline(text: str) -> str:
    """Markdown of one answer or explanation as inline HTML (code, emphasis, links, math)."""
    import markdown

    rendered = markdown.markdown(
        text,
        extensions=["pymdownx.arithmatex"],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )
    return re.sub(r"^<p>|</p>$", "", rendered.strip())


def shown_order(question: Question) -> list[int]:
    """The order a question's options are shown in: shuffled, the same at every build.

    Files list the right answer wherever is convenient (often first); the page must not.
    """
    key = lambda index: hashlib.sha256(f"{question.id}:{index}".encode()).hexdigest()  # noqa: E731
    return sorted(range(len(question.options)), key=key)


def quiz_html(quiz: Quiz) -> str:
    """The self-check as HTML that works without scripts.

    Each question is a ``fieldset`` of radio buttons, in :func:`shown_order`; the right answer
    and every option's explanation sit in a ``details`` below it, so a reader without
    JavaScript can still check. ``quiz.js`` adds feedback as soon as an option is picked and
    keeps the picks. An option's ``value`` is its place in the file, so a kept answer survives
    a new order.
    """
    parts = [
        f'<form class="llmnotes-quiz" data-quiz="{quiz.topic}" aria-label="Self-check">',
        f'<p class="llmnotes-quiz-score" aria-live="polite">{len(quiz.questions)} questions. '
        "Pick an answer to see whether it is right, and why.</p>",
    ]
    for number, question in enumerate(quiz.questions, start=1):
        name = f"{quiz.topic}-{question.id}"
        order = shown_order(question)
        parts.append(f'<fieldset class="llmnotes-question" data-question="{question.id}">')
        parts.append(f"<legend>{number}. {_inline(question.question)}</legend>")
        for index in order:
            option = question.options[index]
            right = " data-right" if option.right else ""
            parts.append(
                f'<label class="llmnotes-option"><input type="radio" name="{name}" '
                f'value="{index}"{right}> <span>{_inline(option.answer)}</span></label>'
            )
        parts.append('<p class="llmnotes-feedback" role="status" aria-live="polite"></p>')
        parts.append(
            '<details class="llmnotes-answers"><summary>All answers explained</summary><ul>'
        )
        for index in order:
            option = question.options[index]
            verdict = "Right" if option.right else "Wrong"
            parts.append(
                f'<li data-option="{index}"><strong>{verdict}:</strong> {_inline(option.answer)}'
                f' — <span class="llmnotes-why">{_inline(option.why)}</span></li>'
            )
        parts.append("</ul></details></fieldset>")
    parts.append(
        '<button type="reset" class="llmnotes-quiz-reset">Clear my answers</button></form>'
    )
    return "".join(parts)


def solution_seconds(source: str, run: Mapping[str, Any] | None, digest: str) -> list[float | None]:
    r"""How long each folded solution's block ran in the last test run, in page order.

    Args:
        source: The page's Markdown, front matter included (the lines the tests numbered).
        run: The page's record in the test runs (:func:`llmnotes.pipeline.verified.read_runs`).
        digest: The page's digest now; a record of another version of the page times nothing.

    Examples:
        >>> page = 'Do it.\n\n??? success "Solution"\n\n    ```python\n    x = 1\n    ```\n'
        >>> solution_seconds(page, {"sha": "abc", "seconds": {"5": 12.5}}, "abc")
        [12.5]
        >>> solution_seconds(page, {"sha": "old", "seconds": {"5": 12.5}}, "abc")
        [None]
    """
    lines = source.splitlines()
    current = run is not None and run.get("sha") == digest
    seconds = run.get("seconds", {}) if current and run else {}
    found = []
    for number, line in enumerate(lines, start=1):
        if SOLUTION.match(line):
            fence = next(
                (n for n in range(number + 1, len(lines) + 1) if FENCE.match(lines[n - 1])), None
            )
            found.append(seconds.get(str(fence)))
    return found


def time_solutions(markdown: str, seconds: list[float | None]) -> str:
    r"""Put in each long solution's title how long it ran (:data:`SLOW_SECONDS` or more).

    Examples:
        >>> print(time_solutions('??? success "Solution"', [12.4]))
        ??? success "Solution (it ran in 12 s in this site's last test run)"
    """
    times = iter(seconds)
    lines = []
    for line in markdown.splitlines(keepends=True):
        # The same pattern solution_seconds counts by, so each time goes to its own solution.
        took = next(times, None) if SOLUTION.match(line) else None
        if took is not None and took >= SLOW_SECONDS:
            note = f" (it ran in {took:.0f} s in this site's last test run)"
            line = line.replace('"Solution"', f'"Solution{note}"', 1)
        lines.append(line)
    return "".join(lines)
