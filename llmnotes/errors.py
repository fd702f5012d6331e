"""The one base class of errors a user can fix, which the command line prints as one line.

Teaching code raises its own subclasses (an unknown word, a malformed data file), the pipeline
its own (a missing asset, a metrics store edited by hand); :func:`llmnotes.cli.main` catches
them all in one place and prints ``llmnotes: error: <message>`` with exit status 2.

Examples:
    >>> class UnknownColour(UserError, KeyError):
    ...     pass
    >>> isinstance(UnknownColour("no colour 'mauve'"), UserError)
    True
"""

from __future__ import annotations


class UserError(Exception):
    """An error whose message names what was wrong and how to fix it, in one line."""

    def __str__(self) -> str:
        # KeyError's str() adds quotes around its message; a user reads the message as written.
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()
