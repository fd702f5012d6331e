from llmnotes.pipeline.tables import format_table


def test_columns_align_and_last_column_is_free():
    table = format_table([("a", "bb", "note"), ("ccc", "d", "a long free-text reason")])
    assert table.splitlines() == ["a    bb  note", "ccc  d   a long free-text reason"]


def test_empty_table():
    assert format_table([]) == ""
