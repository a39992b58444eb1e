"""Build the crosslingual MMLU variants from English and full translations (no re-translation).

Reads ``{data_dir}/{split}`` and ``{data_dir}/{split}_full_{lang}`` and writes
``{split}_{mode}_{lang}`` for question, options, gt, gt_question, onewrong, threewrong, and
``{split}_mixup``; each folder gets a ``manifest.json``, mixup a ``languages.jsonl`` with the
language of the question and of each option per row.

    python MMLU/build_variants.py --data_dir MMLU/data/demo --languages fr de es it
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crossknow.cli import existing_path, language_code, non_negative_int, run  # noqa: E402
from crossknow.languages import PAPER_LANGUAGES  # noqa: E402
from crossknow.variant_folders import build_variant_folders  # noqa: E402
from crossknow.variants import BUILT_MODES  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_dir", required=True, type=existing_path)
    p.add_argument("--languages", nargs="+", default=PAPER_LANGUAGES, type=language_code)
    p.add_argument("--splits", nargs="+", default=["dev", "test"])
    p.add_argument("--modes", nargs="+", default=list(BUILT_MODES), choices=list(BUILT_MODES))
    p.add_argument("--no_mixup", action="store_true")
    p.add_argument("--seed", type=non_negative_int, default=0)
    p.add_argument("--overwrite", action="store_true", help="replace existing files with other content")
    args = p.parse_args(argv)
    folders = build_variant_folders(args.data_dir, args.languages, args.splits, args.modes,
                                    not args.no_mixup, args.seed, args.overwrite)
    print(f"wrote {len(folders)} folders under {args.data_dir}")


if __name__ == "__main__":
    run(main)
