"""Turn a corpus (WikiText or local text files) into a mixed-language corpus.

Each translation unit (document, sentence, or k words) gets a language drawn uniformly from
``--languages``; English units stay as they are, the others are translated through the shared
translator interface and its cache (resumable). A unit whose translation fails stays in English,
is marked ``failed`` in ``units.jsonl`` and is counted in ``stats.json``: never tagged translated.

    python FT/make_mixed_corpus.py --dataset wikitext --dataset_config wikitext-2-raw-v1 \\
        --unit sentence --translator hf --model facebook/nllb-200-distilled-600M --out_dir data/wiki2-sentence
    python FT/make_mixed_corpus.py --input_files wiki.test.raw --unit words --unit_words 8 \\
        --translator apertium --languages en es fr it --out_dir data/wiki2-8words
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from crossknow.core.cli import (
    add_batch_size_argument,
    add_languages_argument,
    add_model_argument,
    add_output_argument,
    add_seed_argument,
    existing_path,
    positive_int,
    run,
)
from crossknow.core.errors import CrossknowError
from crossknow.core.io import atomic_write_json, atomic_write_jsonl, atomic_write_text, read_json, read_text
from crossknow.core.resume import check_same
from crossknow.data.mixing import UNITS, assign_languages, parse_corpus
from crossknow.models.translation import TRANSLATORS, TranslationCache, make_translator, translate


def read_lines(args) -> list[str]:
    if args.input_files:
        lines = []
        for path in args.input_files:
            lines += read_text(path).splitlines()
        if not any(line.strip() for line in lines):
            raise CrossknowError(f"{', '.join(map(str, args.input_files))}: no text (an empty corpus)")
        return lines
    from crossknow.core.hub import load_hub_dataset

    rows = load_hub_dataset(args.dataset, args.dataset_config, split=args.split,
                            provide_locally="pass local text files to --input_files")
    return [row["text"].rstrip("\n") for row in rows]


def build(lines: list[str], unit: str, unit_words: int, languages: list[str], seed: int, translator,
          cache=None, batch_size: int = 16) -> tuple[list[str], list[dict], dict]:
    """(mixed lines, unit records, stats)."""
    parsed = parse_corpus(lines, unit, unit_words)
    langs = assign_languages(parsed, unit, languages, seed)
    results = {}
    for lang in sorted(set(languages) - {"en"}):
        todo = [u for line, ls in zip(parsed, langs) for u, lg in zip(line.units, ls) if lg == lang]
        if todo:
            results[lang] = dict(zip(todo, translate(translator, todo, "en", lang, cache, batch_size=batch_size,
                                                     desc=f"en->{lang}")))
    mixed, records = [], []
    stats = Counter()
    for line_no, (line, line_langs) in enumerate(zip(parsed, langs)):
        if line.heading:
            mixed.append(line.text)
            continue
        texts = []
        for unit_no, (source, lang) in enumerate(zip(line.units, line_langs)):
            stats[f"units_{lang}"] += 1
            if lang == "en":
                text, status = source, "english"
            else:
                result = results[lang][source]
                text, status = (result.text, "translated") if result.ok else (source, "failed")
            stats[status] += 1
            texts.append(text)
            records.append({"line": line_no, "unit": unit_no, "document": line.document, "language": lang,
                            "status": status, "source": source, "text": text})
        mixed.append(" " + " ".join(texts) + " ")
    stats_out = {"unit": unit, "unit_words": unit_words if unit == "words" else None, "languages": languages,
                 "seed": seed, "lines": len(parsed), "documents": parsed[-1].document + 1 if parsed else 0,
                 "units": len(records), "translated": stats["translated"], "failed": stats["failed"],
                 "english": stats["english"],
                 "units_per_language": {lang: stats[f"units_{lang}"] for lang in languages}}
    return mixed, records, stats_out


def corpus_settings(args: argparse.Namespace) -> dict:
    """What decides a corpus's text: its source, unit, languages, seed and translator."""
    source = [str(f) for f in args.input_files] if args.input_files else [args.dataset, args.dataset_config, args.split]
    needs_translation = set(args.languages) != {"en"}
    return {"source": source, "unit": args.unit, "unit_words": args.unit_words if args.unit == "words" else None,
            "languages": list(args.languages), "seed": args.seed,
            "translator": args.translator if needs_translation else None,
            "model": args.model if needs_translation else None}


def reusable_corpus(out_dir: Path, settings: dict) -> dict | None:
    """The stats of a finished corpus in ``out_dir`` built under ``settings`` (so it is not built again);
    None when there is none. One built under other settings is refused, naming the first difference,
    so that a changed translator never reuses the old text."""
    stats_file = out_dir / "stats.json"
    if not ((out_dir / "mixed.txt").exists() and stats_file.exists()):
        return None
    stats = read_json(stats_file)
    recorded = stats.get("settings")
    if recorded is None:
        raise CrossknowError(f"{out_dir}: a corpus built before its settings were recorded (translator "
                             f"{stats.get('translator')}): delete the folder to rebuild it, or use another --output_dir")
    check_same(stats_file, {key: recorded.get(key) for key in settings}, settings,
               "delete the folder to rebuild it, or use another --output_dir", "built with other settings")
    return stats


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="wikitext")
    p.add_argument("--dataset_config", default="wikitext-2-raw-v1")
    p.add_argument("--split", default="train")
    p.add_argument("--input_files", nargs="+", default=None, type=existing_path, help="local text files instead of a hub dataset")
    p.add_argument("--unit", default="sentence", choices=UNITS)
    p.add_argument("--unit_words", type=positive_int, default=8)
    add_languages_argument(p, ["en", "fr", "de", "es", "it"], "language codes (crossknow/core/languages.tsv)")
    add_seed_argument(p)
    p.add_argument("--translator", default="hf", choices=TRANSLATORS)
    add_model_argument(p, None, "the translator's model")
    p.add_argument("--cache", default=None)
    add_batch_size_argument(p, 16)
    add_output_argument(p, None, "where mixed.txt, units.jsonl and stats.json go", type=Path, required=True)
    args = p.parse_args(argv)
    settings = corpus_settings(args)
    reused = reusable_corpus(args.output_dir, settings)
    if reused is not None:
        print(f"{args.output_dir / 'mixed.txt'}: built under these settings: reused")
        return reused
    needs_translation = set(args.languages) != {"en"}
    translator = make_translator(args.translator, args.model) if needs_translation else None
    mixed, records, stats = build(read_lines(args), args.unit, args.unit_words, args.languages, args.seed,
                                  translator, TranslationCache(args.cache), args.batch_size)
    stats["translator"] = f"{translator.name}:{translator.model}" if translator else None
    stats["settings"] = settings
    atomic_write_text(args.output_dir / "mixed.txt", "".join(line + "\n" for line in mixed))
    atomic_write_jsonl(args.output_dir / "units.jsonl", records)
    atomic_write_json(args.output_dir / "stats.json", stats)
    print(f"{stats['units']} units: {stats['translated']} translated, {stats['failed']} failed, "
          f"{stats['english']} English -> {args.output_dir / 'mixed.txt'}")
    if stats["failed"]:
        print(f"warning: {stats['failed']} unit(s) failed to translate and stay in English (status 'failed')")
    return stats


if __name__ == "__main__":
    run(main)
