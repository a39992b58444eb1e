"""The project's own error type: bad input, settings or data that the user can fix.

The command-line wrapper (``crossknow.cli.run``) prints such an error as one line,
``error: <file or setting>: <what is wrong>``, and exits non-zero.
"""

from __future__ import annotations


class CrossknowError(Exception):
    """An error in the user's input, settings or data; the message names the place."""
