"""Fetch English MMLU (and the paper's released mixup set) into the paper's folder layout.

Writes ``{out_dir}/dev`` and ``{out_dir}/test`` (one ``{subject}_{split}.csv`` each, Hugging Face
CSV format) from ``cais/mmlu``, and ``{out_dir}/{split}_mixup`` from the paper's release
``cross-ling-know/mixup-lang-mmlu``. The step before MMLU/translate.py; all three are run by
``bash MMLU/scripts/prepare_data.sh``.

    python MMLU/fetch_data.py --out_dir MMLU/data/full
    python MMLU/fetch_data.py --out_dir MMLU/data/full --source /path/to/mmlu_saved_with_datasets --no_mixup

Local stand-ins for the hub (offline machines, tests): ``--source`` a DatasetDict saved with
``save_to_disk`` (columns question, subject, choices, answer); ``--mixup`` a folder holding
``data/{split}/{subject}_{split}.csv`` (what ``MMLU/translate.py --export`` writes).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm.auto import tqdm

from crossknow.core.cli import add_output_argument, add_overwrite_argument, data_location, run
from crossknow.data.mmlu import (
    ENGLISH_HUB,
    MIXUP_HUB,
    DataError,
    HubSource,
    folder_name,
    read_mmlu_csv,
    subject_path,
    write_mmlu_csv,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_output_argument(p, "MMLU/data/full", "the data folder the launchers read")
    p.add_argument("--source", default=ENGLISH_HUB, type=data_location, help="English MMLU: a hub name or a saved DatasetDict")
    p.add_argument("--mixup", default=MIXUP_HUB, type=data_location, help="the paper's mixup release: a hub name or a local copy")
    p.add_argument("--no_mixup", action="store_true", help="skip the mixup release (build it with "
                   "MMLU/build_variants.py instead)")
    p.add_argument("--splits", nargs="+", default=["dev", "test"], choices=["dev", "test"])
    p.add_argument("--subjects", nargs="+", default=None, help="default: every subject the source holds")
    add_overwrite_argument(p, "replace existing files with other content")
    return p.parse_args(argv)


def fetch(source: HubSource, variant: str, split: str, subjects: list[str] | None, out_dir: Path,
          overwrite: bool) -> int:
    """Copy one split of one variant into ``out_dir``; an existing file with other content is refused."""
    subjects = subjects or source.subjects(split, variant)
    if not subjects:
        raise DataError(f"{source.describe(split, variant)}: no {split} subjects")
    folder = out_dir / folder_name(split, variant)
    rows = 0
    for subject in tqdm(subjects, desc=f"{folder.name}", unit="subject"):
        items = source.load(subject, split, variant)
        target = subject_path(folder, subject, split)
        if target.exists() and not overwrite and read_mmlu_csv(target) != items:
            raise FileExistsError(f"{target} exists with other content; use --overwrite to replace it")
        write_mmlu_csv(target, items)
        rows += len(items)
    return rows


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    out_dir = Path(args.output_dir)
    english = HubSource(args.source, variant="", provide_locally="pass a DatasetDict saved with save_to_disk "
                                                                  "to --source")
    mixup = None if args.no_mixup else HubSource(args.mixup, variant="mixup", provide_locally="pass a local copy "
                                                 "to --mixup, or skip it with --no_mixup")
    for source, variant in ((english, ""), (mixup, "mixup")):
        if source is None:
            continue
        for split in args.splits:
            if not source.has(split, variant):
                raise DataError(f"{source.describe(split, variant)}: no {split} split")
            rows = fetch(source, variant, split, args.subjects, out_dir, args.overwrite)
            print(f"{out_dir / folder_name(split, variant)}: {rows} questions")


if __name__ == "__main__":
    run(main)
