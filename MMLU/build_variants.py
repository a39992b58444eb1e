"""Build the crosslingual MMLU variants from English and full translations (no re-translation).

Reads ``{data_dir}/{split}`` and ``{data_dir}/{split}_full_{lang}`` and writes
``{split}_{mode}_{lang}`` for question, options, gt, gt_question, onewrong, threewrong, and mixup
over English and the --mixup_languages (default: --languages; four or more): ``{split}_mixup`` for
the paper's de/fr/es/it, ``{split}_mixup_ar-hi-ru-zh`` for another set. Each folder gets a
``manifest.json`` (mixup's records its languages), mixup a ``languages.jsonl`` with the language of
the question and of each option per row. Any language of crossknow/core/languages.tsv works.
A full folder whose manifest records strings kept in English is refused, naming them, unless
``--allow_kept_english``.

    python MMLU/build_variants.py --data_dir MMLU/data/demo --languages fr de es it
    python MMLU/build_variants.py --data_dir MMLU/data/demo --languages zh ru ar hi ja --mixup_languages zh ru ar hi
"""

from __future__ import annotations

import argparse

from crossknow.core.cli import (
    add_languages_argument,
    add_overwrite_argument,
    add_seed_argument,
    existing_path,
    run,
)
from crossknow.core.languages import PAPER_LANGUAGES, language_code
from crossknow.data.variant_folders import build_variant_folders
from crossknow.data.variants import BUILT_MODES


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_dir", required=True, type=existing_path)
    add_languages_argument(p, PAPER_LANGUAGES, "language codes (crossknow/core/languages.tsv)")
    p.add_argument("--splits", nargs="+", default=["dev", "test"])
    p.add_argument("--modes", nargs="+", default=list(BUILT_MODES), choices=list(BUILT_MODES))
    p.add_argument("--no_mixup", action="store_true")
    p.add_argument("--mixup_languages", nargs="+", type=language_code, default=None,
                           help="the languages mixed with English in mixup (default: --languages)")
    add_seed_argument(p)
    add_overwrite_argument(p, "replace existing files with other content")
    p.add_argument("--allow_kept_english", action="store_true",
                   help="build from full folders whose manifest records strings kept in English "
                        "(MMLU/translate.py --on_failure keep_english); refused by default")
    args = p.parse_args(argv)
    folders = build_variant_folders(args.data_dir, args.languages, args.splits, args.modes,
                                    not args.no_mixup, args.seed, args.overwrite, args.mixup_languages,
                                    allow_kept_english=args.allow_kept_english)
    print(f"wrote {len(folders)} folders under {args.data_dir}")


if __name__ == "__main__":
    run(main)
