"""The bundled FLoRes-101 devtest subset (100 parallel sentences per language), for any task.

The files are package data (``crossknow/data/flores_devtest/{lang}.devtest``, one sentence a line,
line i the same sentence in every language; see its SOURCE.md for origin and licence); code in any
folder reads them through ``load_flores`` or ``FLORES_DIR``.
"""

from __future__ import annotations

from pathlib import Path

from crossknow.core.languages import flores_file

FLORES_DIR = Path(__file__).resolve().parent / "flores_devtest"


def load_flores(lang: str, data_dir: str | Path = FLORES_DIR, limit: int | None = None) -> list[str]:
    """The first ``limit`` (default: all) sentences in ``lang``; a missing file or an empty line is an error."""
    path = flores_file(Path(data_dir), lang)  # {lang}.devtest, or the FLoRes-200 release's zho_Hans.devtest
    if not path.is_file():
        available = sorted(p.stem for p in Path(data_dir).glob("*.devtest"))
        raise FileNotFoundError(f"{path}: no FLoRes file for {lang!r} (available: {', '.join(available) or 'none'})")
    lines = path.read_text(encoding="utf-8").splitlines()
    for row, line in enumerate(lines, start=1):
        if not line.strip():
            raise ValueError(f"{path}: line {row} is empty")
    if limit is not None and limit > len(lines):
        raise ValueError(f"{path}: {limit} sentences asked, the file has {len(lines)}")
    return lines[:limit]
