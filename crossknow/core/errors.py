"""The project's own error type: bad input, settings or data that the user can fix.

The command-line wrapper (``crossknow.core.cli.run``) prints such an error as one line,
``error: <file or setting>: <what is wrong>``, and exits non-zero.
"""

from __future__ import annotations

import re


class CrossknowError(Exception):
    """An error in the user's input, settings or data; the message names the place."""


class StopRun(CrossknowError):
    """A failure that no retry can fix (a refused API key): the whole run stops at once, instead of
    recording every request as failed."""


# Key-like text in a quoted server answer: "Bearer <token>", OpenAI-style keys, and the value of a
# field named like a key ("api_key": "...", token=...).
_SECRETS = [
    (re.compile(r"(Bearer\s+)[^\s\"',}]+", re.IGNORECASE), r"\1***"),
    (re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-*]{6,}"), r"\1-***"),
    (re.compile(r"((?:api[_-]?key|access[_-]?token|token|secret|password|authorization)[\"']?\s*[:=]\s*[\"']?)"
                r"(?!Bearer\b)[^\s\"',}]+", re.IGNORECASE), r"\1***"),
]


def mask_secrets(text: str, known: tuple[str, ...] = ()) -> str:
    """``text`` with every ``known`` secret and anything that looks like a key or a ``Bearer``
    token replaced by ``***``, for quoting a server's answer in an error message."""
    for secret in known:
        if secret:
            text = text.replace(secret, "***")
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text
