"""Plain-text tables for the command line.

Examples:
    >>> print(format_table([("name", "value"), ("pi", "3.14")]))
    name  value
    pi    3.14
"""

from __future__ import annotations

from collections.abc import Sequence


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Align ``rows`` (the first one is the header) in columns two spaces apart.

    The last column is not padded, so a long free-text column does not widen the others.
    """
    if not rows:
        return ""
    padded = len(rows[0]) - 1
    widths = [max(len(row[i]) for row in rows) for i in range(padded)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:padded], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)
