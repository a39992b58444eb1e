"""Atomic file writes, JSON readers that name the damaged file, the one-writer folder lock, and the
plain-name check: a killed run never leaves a half-written result, two runs never write one
folder, and a name from data or arguments never becomes a path outside its folder."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crossknow.core.errors import CrossknowError

_UMASK = os.umask(0)
os.umask(_UMASK)


class PathNameError(CrossknowError, ValueError):
    """A name that becomes part of a path (subject, language, model tag, configuration) is not plain."""


def check_plain_name(name: str, what: str) -> str:
    """``name`` unchanged if it is a plain file name: not empty, no ``/`` or ``\\``, not ``.`` or
    ``..`` nor starting with a dot, no control character. Subjects, languages, model tags and
    configuration names become file and folder names; one that is not plain could write outside
    its folder (``../../x``) or hide there."""
    problem = None
    if not isinstance(name, str) or not name.strip():
        problem = "empty"
    elif "/" in name or "\\" in name:
        problem = "it holds a path separator"
    elif name.startswith("."):
        problem = "it starts with a dot"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        problem = "it holds a control character"
    if problem:
        raise PathNameError(f"{what} {name!r}: not a plain name ({problem}); it becomes a file or folder name, "
                         "so it must stay inside its folder")
    return name


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
    except OSError as error:  # a full disk names the result it could not write, not the temporary file
        Path(tmp).unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror, str(path)) from error
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def atomic_write_jsonl(path: str | Path, records: list[dict]) -> None:
    """One JSON object per line; NaN or infinity is refused (``ValueError``): it is not JSON."""
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in records))


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


LOCK_NAME = ".crossknow.lock"


# What a run writes before its first result or record: the lock and the fingerprint of each
# configuration (``{records}/settings.json``, crossknow/runner.py).
BEFORE_FIRST_WRITE = {LOCK_NAME, "settings.json"}


def _first_missing(folder: Path) -> Path | None:
    """The outermost folder of ``folder``'s path that does not exist yet, or None."""
    missing = None
    for candidate in [folder, *folder.parents]:
        if candidate.exists():
            break
        missing = candidate
    return missing


def _remove_if_unwritten(created: Path) -> None:
    """A run that fails before its first write leaves no new folder behind."""
    files = [p for p in created.rglob("*") if not p.is_dir()]
    if all(p.name in BEFORE_FIRST_WRITE for p in files):
        shutil.rmtree(created, ignore_errors=True)


@contextlib.contextmanager
def folder_lock(folder: str | Path) -> Iterator[None]:
    """One writer per output folder: a second process is refused with a message naming the holder.

    The lock is an OS file lock (``flock``) on ``{folder}/.crossknow.lock``, which also records the
    holder's process id, host, start time and command. The OS drops the lock when the holder dies,
    even by ``kill -9``, so a killed run never leaves a stale lock behind. A folder that this lock
    created is removed again when the run fails before writing anything in it (an error, Ctrl-C).
    """
    folder = Path(folder)
    created = _first_missing(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the life of the lock
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise CrossknowError(f"{folder}: in use by {holder}; one process writes a folder at a time: wait "
                                 "for it to finish or write elsewhere") from None
        handle.seek(0)
        handle.truncate()
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        command = " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:200]
        handle.write(f"process {os.getpid()} on {socket.gethostname()} since {started} ({command})\n")
        handle.flush()
        try:
            yield
        except BaseException:
            if created is not None:
                _remove_if_unwritten(created)
            raise
    finally:
        handle.close()  # closing the file releases the lock; the record stays until the next holder
