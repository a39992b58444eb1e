"""What every command-line script shares: one vocabulary, argument types checked at parse time,
and one-line errors.

One vocabulary: the same flag means the same thing in every script. The canonical flags are
``--model``, ``--languages``, ``--limit``, ``--output_dir``, ``--overwrite``, ``--seed``,
``--batch_size``, ``--device`` and ``--dtype``; the ``add_*_argument`` helpers below add them, each
with the spellings older scripts and the paper's code use as aliases of the same setting:
``--output_dir`` (``--save_dir``, ``--out_dir``, ``--outputs_dir``), ``--limit`` (``--num_examples``,
``-n``), ``--languages`` (``--langs``; the paper's single ``--lang``), ``--model`` (``-m``), and
``--data_dir`` (``--data``) for input data. The model options are in ``crossknow/models/backends.py``.

Argument types (``positive_int``, ``non_negative_int``, ``batch_size``, ``fraction``,
``language_code``, ``model_name``, ``data_location``) make argparse refuse a bad value before any
work, with its usual ``error: argument --limit: ...`` line and exit status 2.

``run(main)`` is the last line of every script: the project's own errors and OS, decoding, JSON and
SQLite errors become ``error: <file or setting>: <what is wrong>`` on stderr and exit status 1; the
traceback is shown only with ``CROSSKNOW_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from crossknow.core.errors import CrossknowError
from crossknow.core.languages import language_code
from crossknow.core.model_spec import is_api_name

DEBUG_VARIABLE = "CROSSKNOW_DEBUG"
NO_SUCH_PATH = "no such file or folder"


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}") from None


def positive_int(value: str) -> int:
    """An integer >= 1 (``--limit``, ``--num_examples``, ``--max_new_tokens``, ...)."""
    number = _integer(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def non_negative_int(value: str) -> int:
    """An integer >= 0 (``--ntrain``/``-k``, ``--seed``, ...)."""
    number = _integer(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {number}")
    return number


def batch_size(value: str) -> str:
    """``auto`` or an integer >= 1, as text (``"auto"``, ``"16"``): the backends read a string."""
    if value == "auto":
        return value
    return str(positive_int(value))


def positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {value}")
    return number


def non_negative_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
    if not number >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return number


def fraction(value: str) -> float:
    """A number from 0 to 1 (a probability)."""
    number = non_negative_float(value)
    if number > 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return number


def looks_like_path(value: str) -> bool:
    """A value that can only mean a local file or folder: absolute, ``./``, ``~``, a Windows path,
    a file suffix such as ``.gguf``, or more than one ``/`` (hub names are ``owner/name``)."""
    return (value.startswith(("/", ".", "~")) or "\\" in value or value.count("/") > 1
            or Path(value).suffix.lower() in (".gguf", ".csv", ".json", ".jsonl", ".txt", ".parquet",
                                               ".safetensors", ".bin"))


def _existing_or_name(value: str) -> str:
    if looks_like_path(value) and not Path(value).expanduser().exists():
        raise argparse.ArgumentTypeError(f"{value}: {NO_SUCH_PATH}")
    return value


def model_name(value: str) -> str:
    """A model: alias, hub name, ``openai/<name>`` or a local path, which must exist (never looked
    up on the hub when it is path-like)."""
    if is_api_name(value):
        return value
    return _existing_or_name(value)


def data_location(value: str) -> str:
    """A data folder or a hub dataset name; a path-like value must exist."""
    return _existing_or_name(value)


def existing_path(value: str) -> Path:
    """A file or folder that must exist."""
    path = Path(value).expanduser()
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{value}: {NO_SUCH_PATH}")
    return path


def results_folder(value: str) -> Path:
    """A folder that must exist and hold a result (``result_*.json``) directly in it."""
    path = existing_path(value)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value}: not a folder")
    if not any(path.glob("result_*.json")):
        raise argparse.ArgumentTypeError(f"{value}: no result_*.json in this folder (a results folder of one "
                                         "model, such as results/mmlu/{model}_0shot)")
    return path


OUTPUT_ALIASES = ("--save_dir", "--out_dir", "--outputs_dir")
LIMIT_ALIASES = ("--num_examples", "-n")


def add_output_argument(p: argparse.ArgumentParser, default: str | Path | None, help: str = "results folder",
                        **options) -> None:
    """``--output_dir`` (also ``--save_dir``, ``--out_dir``, ``--outputs_dir``) into ``args.output_dir``;
    ``options`` go to argparse as they are (``type``, ``required``, ``nargs``)."""
    shown = f" (default: {default})" if default is not None else ""
    p.add_argument("--output_dir", *OUTPUT_ALIASES, dest="output_dir", default=default, metavar="DIR",
                   help=help + shown, **options)


def add_limit_argument(p: argparse.ArgumentParser, help: str = "first N questions", default: int | None = None) -> None:
    """``--limit N`` (also ``--num_examples``, ``-n``) into ``args.limit``: a positive integer."""
    p.add_argument("--limit", *LIMIT_ALIASES, dest="limit", type=positive_int, default=default, metavar="N", help=help)


def add_data_argument(p: argparse.ArgumentParser, default: str, help: str) -> None:
    p.add_argument("--data_dir", "--data", dest="data_dir", default=default, type=data_location, help=help)


def add_languages_argument(p: argparse.ArgumentParser, default: list[str] | None, help: str,
                           words: tuple[str, ...] = ()) -> None:
    """Codes of crossknow/core/languages.tsv (an unknown one is a usage error listing the known ones);
    ``words`` pass as they are (HP's ``all``)."""
    def code(value: str) -> str:
        return value if value in words else language_code(value)

    p.add_argument("--languages", "--langs", dest="languages", nargs="+", type=code, default=default, help=help)
    p.add_argument("--lang", dest="languages", nargs=1, type=code, help="one language (the paper's flag)")


def add_model_argument(p: argparse.ArgumentParser | argparse._ArgumentGroup, default: str | None,
                       help: str = "hub name, local folder or .gguf file") -> None:
    """``--model`` (also ``-m``) into ``args.model``; a path-like value must exist."""
    p.add_argument("--model", "-m", dest="model", default=default, type=model_name, help=help)


def add_overwrite_argument(p: argparse.ArgumentParser, help: str = "replace existing outputs") -> None:
    p.add_argument("--overwrite", action="store_true", help=help)


def add_seed_argument(p: argparse.ArgumentParser | argparse._ArgumentGroup, default: int = 0,
                      help: str = "random seed") -> None:
    p.add_argument("--seed", type=non_negative_int, default=default, help=f"{help} (default: {default})")


def add_batch_size_argument(p: argparse.ArgumentParser | argparse._ArgumentGroup, default: int | str,
                            help: str | None = None) -> None:
    """``--batch_size``: an integer >= 1, or also ``auto`` where the default is ``auto``."""
    kind = batch_size if default == "auto" else positive_int
    p.add_argument("--batch_size", type=kind, default=default, help=help or f"examples per batch (default: {default})")


def add_device_argument(p: argparse.ArgumentParser | argparse._ArgumentGroup,
                        help: str = "cpu or cuda (default: cuda when available)") -> None:
    p.add_argument("--device", default=None, help=help)


def add_dtype_argument(p: argparse.ArgumentParser | argparse._ArgumentGroup, help: str, **options) -> None:
    """``--dtype``; ``options`` (``choices``, ``type``, ``nargs``, ``default``) go to argparse."""
    p.add_argument("--dtype", help=help, **{"default": None, **options})


def check_limit(p: argparse.ArgumentParser, limit: int | None) -> None:
    if limit is not None and limit < 1:
        p.error(f"--limit must be a positive number of questions, got {limit}")


def error_message(error: BaseException) -> str | None:
    """The one line for an error the user can fix, or None for a bug (which keeps its traceback)."""
    if isinstance(error, OSError):
        reason = (error.strerror or str(error)).rstrip(".")
        reason = NO_SUCH_PATH if isinstance(error, FileNotFoundError) else reason[:1].lower() + reason[1:]
        place = error.filename if error.filename is not None else None
        if error.strerror is None:  # raised by the project with a message of its own
            return str(error)
        return f"{place}: {reason}" if place is not None else reason
    if isinstance(error, UnicodeDecodeError):
        return (f"not valid {error.encoding} text ({error.reason} at byte {error.start}); "
                "save the file as UTF-8")
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
    if isinstance(error, sqlite3.Error):
        return f"SQLite: {error}"
    if isinstance(error, (CrossknowError, ValueError, ImportError)):
        return str(error)
    return None


def run(main: Callable[..., object], argv: list[str] | None = None) -> None:
    """Run a script's ``main`` and turn an error into one line and a non-zero exit status."""
    debug = os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")
    try:
        main(argv) if argv is not None else main()
    except KeyboardInterrupt:
        if debug:
            raise
        print("error: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except Exception as error:  # noqa: BLE001 - the one place where every error is reported
        message = error_message(error)
        if debug or message is None:
            traceback.print_exc()
            if message is None:
                print(f"error: unexpected {type(error).__name__} (a bug: please report it with the traceback "
                      "above)", file=sys.stderr)
                raise SystemExit(1) from None
        print(f"error: {' '.join(message.split())}", file=sys.stderr)
        raise SystemExit(1) from None
