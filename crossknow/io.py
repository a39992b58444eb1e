"""Atomic file writes and JSON helpers: a killed run never leaves a half-written result."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from crossknow.errors import CrossknowError

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; results should read like any file
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def atomic_write_jsonl(path: str | Path, records: list[dict]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """The text of ``path``; bytes that are not ``encoding`` are an error naming the file."""
    try:
        return Path(path).read_text(encoding=encoding)
    except UnicodeDecodeError as error:
        raise CrossknowError(f"{path}: not valid UTF-8 text ({error.reason} at byte {error.start}); "
                             "save the file as UTF-8") from None


def read_json(path: str | Path) -> Any:
    """The JSON in ``path``; a malformed file is an error naming the file, line and column."""
    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise CrossknowError(f"{path}: line {error.lineno}: not valid JSON ({error.msg})") from None


def read_jsonl(path: str | Path) -> list[dict]:
    """One JSON object per non-empty line; a bad line (a truncated write) is named by number."""
    records = []
    for line_no, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise CrossknowError(f"{path}: line {line_no}: not valid JSON ({error.msg}); "
                                 "the file is damaged (a killed write?)") from None
    return records
