"""Split WikiText-103 into its Harry-Potter-related documents and the rest, with the paper's index.

Documents are formed as in the paper's notebook: every non-empty line of the train split is one
document (the paper counts 1,165,029). A corpus with another count is refused, since the index
would then select the wrong documents.

    python HP/extract_wiki103_hp.py --out_dir data/wiki103-hp                   # from the hub
    python HP/extract_wiki103_hp.py --input wiki.train.raw --out_dir data/wiki103-hp
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from crossknow.core.cli import add_output_argument, existing_path, non_negative_int, run
from crossknow.core.io import atomic_write_json, atomic_write_text

INDEX = Path(__file__).resolve().parent / "Wiki103-HP" / "HP_related_index_for_wikitext-103.json"
PAPER_DOCUMENT_COUNT = 1_165_029


class CorpusError(ValueError):
    pass


def read_documents(source: str, hub_config: str = "wikitext-103-v1") -> list[str]:
    """Non-empty lines of a local text file, or of the hub's ``wikitext`` train split."""
    if Path(source).is_file():
        with open(source, encoding="utf-8") as f:
            lines = f.read().splitlines()
    else:
        from crossknow.core.hub import load_hub_dataset

        rows = load_hub_dataset(source, hub_config, split="train",
                                provide_locally="pass the train split as a local text file to --input")
        lines = [row["text"].rstrip("\n") for row in rows]
    return [line for line in lines if line.strip()]


def load_index(path: Path = INDEX) -> list[int]:
    return json.loads(Path(path).read_text())["HP-related-index"]


def split_documents(documents: list[str], index: list[int], expected: int) -> tuple[list[str], list[str]]:
    if len(documents) != expected:
        raise CorpusError(f"the corpus has {len(documents):,} documents (non-empty lines), the index expects "
                          f"{expected:,}: it is not the WikiText-103 train split the index was made for")
    if max(index) >= len(documents) or min(index) < 0:
        raise CorpusError(f"index {max(index)} is out of range for {len(documents):,} documents")
    selected = set(index)
    related = [documents[i] for i in sorted(selected)]
    unrelated = [doc for i, doc in enumerate(documents) if i not in selected]
    return related, unrelated


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", default="wikitext", help="local text file, or hub dataset name")
    p.add_argument("--hub_config", default="wikitext-103-v1")
    p.add_argument("--index", type=existing_path, default=INDEX)
    add_output_argument(p, None, "where the two text files and stats.json go", type=Path, required=True)
    p.add_argument("--expected_documents", type=non_negative_int, default=PAPER_DOCUMENT_COUNT)
    args = p.parse_args(argv)
    index = load_index(args.index)
    documents = read_documents(args.input, args.hub_config)
    related, unrelated = split_documents(documents, index, args.expected_documents)
    atomic_write_text(args.output_dir / "hp_related.txt", "".join(d + "\n" for d in related))
    atomic_write_text(args.output_dir / "hp_unrelated.txt", "".join(d + "\n" for d in unrelated))
    stats = {"input": args.input, "documents": len(documents), "hp_related": len(related),
             "hp_unrelated": len(unrelated), "index": str(args.index)}
    atomic_write_json(args.output_dir / "stats.json", stats)
    print(json.dumps(stats, indent=2))
    return stats


if __name__ == "__main__":
    run(main)
