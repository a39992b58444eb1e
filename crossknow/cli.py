"""One command-line vocabulary for the task scripts: the same flag means the same thing everywhere.

Canonical names first, then the aliases that older scripts and the paper's code use:
``--save_dir`` (``--output_dir``, ``--out_dir``), ``--limit`` (``--num_examples``, ``-n``),
``--languages`` (``--langs``; the paper's single ``--lang``), ``--data_dir`` (``--data``).
The model options are in ``crossknow/backends.py``.
"""

from __future__ import annotations

import argparse

from crossknow.languages import language_code


def add_output_argument(p: argparse.ArgumentParser, default: str, help: str = "results folder") -> None:
    p.add_argument("--save_dir", "--output_dir", "--out_dir", dest="save_dir", default=default,
                   help=f"{help} (default: {default})")


def add_limit_argument(p: argparse.ArgumentParser, help: str = "first N questions") -> None:
    p.add_argument("--limit", "--num_examples", "-n", dest="limit", type=int, default=None, help=help)


def add_data_argument(p: argparse.ArgumentParser, default: str, help: str) -> None:
    p.add_argument("--data_dir", "--data", dest="data_dir", default=default, help=help)


def add_languages_argument(p: argparse.ArgumentParser, default: list[str] | None, help: str,
                           words: tuple[str, ...] = ()) -> None:
    """Codes of crossknow/languages.tsv (an unknown one is a usage error listing the known ones);
    ``words`` pass as they are (HP's ``all``)."""
    def code(value: str) -> str:
        return value if value in words else language_code(value)

    p.add_argument("--languages", "--langs", dest="languages", nargs="+", type=code, default=default, help=help)
    p.add_argument("--lang", dest="languages", nargs=1, type=code, help="one language (the paper's flag)")


def check_limit(p: argparse.ArgumentParser, limit: int | None) -> None:
    if limit is not None and limit < 1:
        p.error(f"--limit must be a positive number of questions, got {limit}")
