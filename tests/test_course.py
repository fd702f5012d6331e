"""The course: topic boxes and reading times, the Start page's path, the self-check files."""

from pathlib import Path

import pytest

from llmnotes.pipeline.course import (
    QuizError,
    course_box,
    load_quiz,
    path_table,
    quiz_html,
    quiz_path,
    reading_time,
    shown_order,
    solution_seconds,
    time_solutions,
    topic_of,
    topics,
)
from llmnotes.pipeline.notebooks import exercise_statements, solution_lines
from llmnotes.pipeline.paths import docs_dir

TOPICS = topics()


def page_text(topic) -> str:
    return (docs_dir() / topic.page).read_text(encoding="utf-8")


def section(markdown: str, title: str) -> str:
    """The text of the ``## title`` section of a page, up to the next ``## `` heading."""
    start = markdown.index(f"\n## {title}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end > 0 else None]


def test_the_course_has_the_six_topics_in_nav_order():
    assert [t.name for t in TOPICS] == [
        "tokenization",
        "embeddings",
        "rnns",
        "transformers",
        "language-models",
        "finetuning",
    ]


def test_reading_time_counts_prose_words_and_code_blocks_not_code_or_macros():
    prose = "word " * 399 + "word\n\n"  # two minutes at 200 words a minute
    code = "```python\n" + "x = 1\n" * 50 + "```\n"
    assert reading_time(prose + '{{ metric("a.b", "c", fmt=".2f") }}').words == 401  # a value
    time = reading_time(prose + code * 2)
    assert (time.words, time.blocks, time.minutes) == (400, 2, 5)  # 2 + 3 minutes
    assert reading_time(prose + "[a link](https://example.com/many/words/here)").words == 402
    assert reading_time("word " * 2100).minutes == 15  # 10.5 minutes, rounded up


def test_a_topic_needs_objectives_and_assumptions():
    assert topic_of("x.md", "X", {}) is None
    with pytest.raises(QuizError, match=r"docs/x\.md: front matter 'course' needs 'objectives'"):
        topic_of("x.md", "X", {"course": {"objectives": ["Do it."]}})


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
def test_every_topic_has_its_box_parts(topic):
    assert 3 <= len(topic.objectives) <= 6
    box = course_box(topic, page_text(topic))
    assert box.startswith('!!! abstract "In this topic"')
    assert f"about {reading_time(page_text(topic)).minutes} minutes" in box


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
def test_every_topic_has_exercises_with_checks_and_folded_solutions(topic):
    markdown = page_text(topic)
    exercises = section(markdown, "Exercises")
    statements = exercise_statements(markdown)
    assert 4 <= len(statements) <= 6, "a topic has four to six exercises"
    solved = solution_lines(markdown)
    for statement in statements.values():
        title = statement.splitlines()[0]
        assert title.startswith("### Exercise "), title
        # mkdocs-jupyter's table of contents drops code from a heading's anchor, its heading not
        assert "`" not in title, f"{title}: no code in an exercise title (the notebook's anchors)"
        body = exercises[exercises.index(title) :]
        nxt = body.find("\n### ", 1)
        body = body[: nxt if nxt > 0 else None]
        assert f"llmnotes.exercises.{topic.name.replace('-', '_')}" in body, f"{title}: no check"
        assert '??? success "Solution"' in body, f"{title}: no folded solution"
        assert "{{" not in statement, f"{title}: a statement shows in the notebook: no macros"
    assert solved, "the solutions are folded"


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
def test_every_topic_ends_with_its_self_check_and_key_takeaways(topic):
    markdown = page_text(topic)
    assert section(markdown, "Self-check").strip().endswith(f'{{{{ quiz("{topic.name}") }}}}')
    takeaways = [
        line for line in section(markdown, "Key takeaways").splitlines() if line.startswith("- ")
    ]
    assert 4 <= len(takeaways) <= 6, "four to six sentences a learner should say back"
    order = [
        markdown.index(f"\n## {title}\n") for title in ("Exercises", "Self-check", "Key takeaways")
    ]
    assert order == sorted(order)


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
def test_every_self_check_file_is_valid_and_its_right_answers_are_not_always_in_one_place(topic):
    quiz = load_quiz(quiz_path(docs_dir(), topic.name))
    right_places = {
        shown_order(q).index(next(i for i, o in enumerate(q.options) if o.right))
        for q in quiz.questions
    }
    assert len(right_places) > 1, "shuffle the options: the right one always shows in one place"


def test_every_self_check_file_belongs_to_a_topic():
    files = {path.stem for path in (docs_dir() / "quizzes").glob("*")}
    assert files == {t.name for t in TOPICS}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "quizzes" / "topic.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def question(ident: str, rights: tuple[bool, ...] = (True, False, False), why: bool = True) -> str:
    lines = [f"  - id: {ident}", "    question: Which?", "    options:"]
    for number, right in enumerate(rights):
        lines.append(f"      - answer: Option {number}")
        if why:
            lines.append("        why: Because.")
        if right:
            lines.append("        right: true")
    return "\n".join(lines)


def quiz_text(*questions: str) -> str:
    return "questions:\n" + "\n".join(questions) + "\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("questions: [", "not valid YAML"),
        ("- a list\n", "one key, 'questions', a list"),
        (
            quiz_text(*(question(f"q-{n}") for n in range(4))),
            "4 questions; a self-check has 5 to 8",
        ),
        (
            quiz_text(
                question("two", (True, True, False)), *(question(f"q-{n}") for n in range(4))
            ),
            "question 1: 2 options are marked 'right: true'; exactly one must be",
        ),
        (
            quiz_text(*(question(f"q-{n}") for n in range(4)), question("none", (False,) * 3)),
            "question 5: 0 options are marked",
        ),
        (
            quiz_text(question("q", why=False), *(question(f"q-{n}") for n in range(4))),
            "question 1, option a: needs 'answer' and 'why'",
        ),
        (quiz_text(*(question("same") for n in range(5))), "question 2: id 'same' is used twice"),
        (
            quiz_text(question("Bad Id"), *(question(f"q-{n}") for n in range(4))),
            "must be lowercase words joined by hyphens",
        ),
        (
            quiz_text(question("few", (True, False)), *(question(f"q-{n}") for n in range(4))),
            "question 1: needs 3 to 5 options",
        ),
    ],
)
def test_a_malformed_self_check_file_is_refused_in_one_line_naming_it(tmp_path, text, message):
    with pytest.raises(QuizError, match=r"^quizzes/topic\.yml") as error:
        load_quiz(write(tmp_path, text))
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_self_check_file_names_the_fix(tmp_path):
    with pytest.raises(QuizError, match="no such self-check file"):
        load_quiz(tmp_path / "quizzes" / "nothing.yml")


def test_the_self_check_html_has_every_option_and_explanation_without_scripts(tmp_path):
    quiz = load_quiz(write(tmp_path, quiz_text(*(question(f"q-{n}") for n in range(5)))))
    html = quiz_html(quiz)
    assert html.count("<fieldset") == 5 and html.count('type="radio"') == 15
    assert html.count("data-right") == 5 and html.count('class="llmnotes-why"') == 15
    assert html.count("<details") == 5  # the answers, readable with no JavaScript


def test_the_path_table_lists_each_topic_once_in_order_with_its_time():
    table = path_table()
    rows = [line for line in table.splitlines()[2:]]
    assert len(rows) == len(TOPICS)
    for step, (row, topic) in enumerate(zip(rows, TOPICS, strict=True), start=1):
        assert row.startswith(f"| {step}. [{topic.title}]({topic.page}) |")
        assert f"| {reading_time(page_text(topic)).minutes} min |" in row
        assert f'data-quiz="{topic.name}"' in row


def test_a_long_solution_says_how_long_it_ran_when_the_record_is_of_this_page():
    from llmnotes.pipeline.verified import file_digest

    path = docs_dir() / "tokenization.md"
    source = path.read_text(encoding="utf-8")
    fences = [
        n + 1
        for n in sorted(solution_lines(source))
        if source.splitlines()[n].lstrip().startswith("```python")
    ]
    run = {"sha": file_digest(path), "seconds": {str(fences[0]): 0.4, str(fences[-1]): 30.2}}
    seconds = solution_seconds(source, run, file_digest(path))
    assert seconds[0] == 0.4 and seconds[-1] == 30.2 and len(seconds) == 5
    timed = time_solutions(source, seconds)
    assert timed.count("it ran in") == 1 and "it ran in 30 s" in timed
    assert (
        solution_seconds(source, run | {"sha": "another version"}, file_digest(path)) == [None] * 5
    )
