"""The one resume primitive: a fingerprint of a run's inputs and settings, the refusal of a folder
made under other ones, and an append of finished records that a kill cannot tear.

Every mechanism that resumes (the runner, the translation folders and cache, the mixed-corpus
builder, fine-tuning, the Synthetic arms) decides with these functions:

- ``settings_sha256``: the fingerprint as one hash (canonical JSON, keys sorted);
- ``first_difference`` / ``check_same``: the first setting that differs between what a folder
  records and what this run would make, refused as one line naming the file and the setting
  (``ResumeError``); a mismatch is never mixed with the records already there;
- ``SettingsFile``: the fingerprint file of a folder (read, check, write atomically);
- ``append_records`` / ``read_records``: finished records appended to a JSONL journal in one
  write each; a kill mid-write leaves at most a torn last line, which readers drop and the next
  append removes, so a resumed run ends with exactly the records of an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from crossknow.core.errors import CrossknowError
from crossknow.core.io import atomic_write_json, read_json


class ResumeError(CrossknowError, RuntimeError):  # a user error: one line from crossknow.core.cli.run
    """Results on disk were made with other settings or inputs."""


def settings_sha256(settings: Any) -> str:
    """The fingerprint as one hash: SHA-256 of its JSON with sorted keys (the hash results carry as
    ``config.fingerprint_sha256``; unchanged since schema 1, so results on disk stay served)."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


class _Unset:
    """A setting one side does not have (distinct from a setting that is None)."""

    def __repr__(self) -> str:
        return "<unset>"


UNSET = _Unset()


def first_difference(recorded: Any, current: Any, path: str = "") -> str:
    """The first setting that differs, as ``config.limit: 3 on disk, 5 now``; '' when they agree.
    Nested objects are compared key by key (keys in sorted order), so the message names a leaf; a
    key missing on one side differs from the same key set to None (shown as ``<unset>``)."""
    if isinstance(recorded, dict) and isinstance(current, dict):
        for key in sorted(set(recorded) | set(current)):
            found = first_difference(recorded.get(key, UNSET), current.get(key, UNSET), f"{path}{key}.")
            if found:
                return found
        return ""
    if recorded != current:
        return f"{path.rstrip('.') or 'settings'}: {recorded!r} on disk, {current!r} now"
    return ""


def check_same(where: str | Path, recorded: Any, current: Any, remedy: str,
               what: str = "made with other settings") -> None:
    """Refuse (``ResumeError``, one line) when ``recorded`` and ``current`` differ:
    ``{where}: {what} ({first difference}); {remedy}``."""
    difference = first_difference(recorded, current)
    if difference:
        raise ResumeError(f"{where}: {what} ({difference}); {remedy}")


class SettingsFile:
    """The fingerprint of a folder's records: written before the first record, checked on resume."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.is_file()

    def read(self) -> Any:
        """The recorded fingerprint, or None when there is none."""
        return read_json(self.path) if self.path.is_file() else None

    def check(self, current: Any, remedy: str, what: str = "made with other settings",
              keys: Iterable[str] | None = None) -> Any:
        """The recorded fingerprint after checking it against ``current`` (only ``keys`` of it, when
        given); refused when they differ; None when the folder has none yet."""
        recorded = self.read()
        if recorded is None:
            return None
        compared = recorded
        if keys is not None and isinstance(recorded, dict):
            compared = {key: recorded.get(key) for key in keys}
        check_same(self.path, compared, current, remedy, what)
        return recorded

    def write(self, current: Any) -> None:
        atomic_write_json(self.path, current)


def _trim_torn_tail(path: Path) -> None:
    """Cut a last line that a killed write left without its newline."""
    with open(path, "rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        f.seek(0)
        data = f.read()
        f.truncate(data.rfind(b"\n") + 1)


def append_records(path: str | Path, records: list[dict]) -> None:
    """Append finished records to a JSONL journal: one ``write`` of whole lines, then ``fsync``.
    NaN or infinity is refused (``ValueError``): it is not JSON."""
    if not records:
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in records).encode("utf-8")
    if path.exists():
        _trim_torn_tail(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        written = 0
        while written < len(data):  # a regular file takes it in one write; a short one is continued
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


def read_records(path: str | Path) -> list[dict]:
    """The complete records of a journal: every newline-terminated line. A torn last line (a kill
    mid-write) is dropped; a damaged line before it is an error naming the file and line."""
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")[:-1]  # what follows the last newline is torn (even mid-character)
    records = []
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else "not UTF-8"
            raise CrossknowError(f"{path}: line {line_no}: not valid JSON ({reason}); the file is damaged") from None
    return records


class Journal:
    """A folder's resumable records: its fingerprint file and its journal of finished records.

    ``open`` refuses a folder made under another fingerprint (or clears it with ``overwrite``) and
    returns the records already finished; ``append`` adds those finished since."""

    def __init__(self, folder: str | Path, settings_name: str = "settings.json", records_name: str = "records.jsonl"):
        self.folder = Path(folder)
        self.settings = SettingsFile(self.folder / settings_name)
        self.records_file = self.folder / records_name

    def open(self, current: Any, remedy: str = "use --overwrite or another output folder",
             overwrite: bool = False) -> list[dict]:
        if overwrite:
            self.records_file.unlink(missing_ok=True)
        else:
            recorded = self.settings.check(current, remedy)
            if recorded is None and self.records_file.exists():
                raise ResumeError(f"{self.records_file}: records without {self.settings.path.name}, so how they were "
                                  f"made is unknown; {remedy}")
        self.settings.write(current)
        return read_records(self.records_file)

    def append(self, records: list[dict]) -> None:
        append_records(self.records_file, records)
