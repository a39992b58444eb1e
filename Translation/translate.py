"""Translate the FLoRes subset between English and fr/de/es/it with an LLM, an MT model or an API.

    python Translation/translate.py --model smollm2 --system_name smollm2 --num_examples 20
    python Translation/translate.py --model facebook/nllb-200-3.3B --system_name nllb-3.3b
    python Translation/translate.py --model openai/gpt-3.5-turbo-0125 --system_name gpt3.5
    python Translation/translate.py --model apertium --system_name apertium --languages es fr it

Causal LLMs get the zero-shot prompt ``Translate this from {Source} to {Target}:\\n{Source}:
{text}\\n{Target}:`` and the first line of their output is kept; seq2seq MT (NLLB, M2M100, Marian)
get their language codes; OpenAI chat models the system message ``Translate the following {Source}
text to {Target}:``, with ``--openai_preset`` greedy (default) or paper (the paper's sampling). Each direction is written to ``{output_dir}/{system_name}/test-{src}-{tgt}``,
one line per source line; a failed line is left empty and listed in ``settings.json``, never filled
with the source text. A finished direction is not translated again (``--overwrite`` to redo it).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crossknow.cli import add_languages_argument  # noqa: E402
from crossknow.io import atomic_write_json, atomic_write_text  # noqa: E402
from crossknow.languages import PAPER_LANGUAGES, flores_file  # noqa: E402
from crossknow.translation import OPENAI_PRESETS, TRANSLATORS, TranslationCache, make_translator, translate  # noqa: E402

FLORES = Path(__file__).resolve().parent / "data" / "flores"


def directions(direction: str, languages: list[str]) -> list[tuple[str, str]]:
    en2x = [("en", lang) for lang in languages]
    x2en = [(lang, "en") for lang in languages]
    return {"en2x": en2x, "x2en": x2en, "both": en2x + x2en}[direction]


def read_source(input_dir: Path, lang: str, num_examples: int | None) -> list[str]:
    path = flores_file(input_dir, lang)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no FLoRes file for {lang}")
    return path.read_text(encoding="utf-8").splitlines()[:num_examples]


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="smollm2", help="causal LM, seq2seq MT model, openai/<name>, apertium, google")
    p.add_argument("--system_name", default=None, help="output folder name (default: from --model)")
    p.add_argument("--translator", default="auto", choices=["auto", *TRANSLATORS])
    p.add_argument("--direction", default="both", choices=["en2x", "x2en", "both"])
    add_languages_argument(p, PAPER_LANGUAGES, "language codes (crossknow/languages.tsv)")
    p.add_argument("--input_dir", type=Path, default=FLORES)
    p.add_argument("--output_dir", type=Path, default=Path("Translation/outputs"))
    p.add_argument("--num_examples", type=int, default=None, help="first N sentences (default: all 100)")
    p.add_argument("--batch_size", type=int, default=8)
    p.add_argument("--num_beams", type=int, default=1)
    p.add_argument("--max_new_tokens", type=int, default=256)
    p.add_argument("--openai_preset", default="greedy", choices=sorted(OPENAI_PRESETS),
                   help="OpenAI request settings: greedy, or paper (temperature 0.7, max_tokens 64, top_p 1)")
    p.add_argument("--cache", default=None, help="translation cache; by default none (every run translates)")
    p.add_argument("--overwrite", action="store_true")
    args = p.parse_args(argv)

    system = args.system_name or Path(args.model).name.removeprefix("openai/")
    out_dir = args.output_dir / system
    pairs = directions(args.direction, args.languages)
    sources = {src: read_source(args.input_dir, src, args.num_examples) for src in {s for s, _ in pairs}}
    todo = [(s, t) for s, t in pairs if args.overwrite or not (out_dir / f"test-{s}-{t}").exists()]
    settings_file = out_dir / "settings.json"
    settings = json.loads(settings_file.read_text()) if settings_file.exists() else {"failed": {}}
    if todo:
        translator = make_translator(args.translator, args.model, args.max_new_tokens, args.num_beams,
                                     args.batch_size, args.openai_preset)
        cache = TranslationCache(args.cache) if args.cache else None
        for src, tgt in todo:
            results = translate(translator, sources[src], src, tgt, cache, batch_size=args.batch_size,
                                desc=f"{system} {src}->{tgt}")
            lines = [(r.text or "").replace("\n", " ") if r.ok else "" for r in results]
            failed = [i + 1 for i, r in enumerate(results) if not r.ok]
            atomic_write_text(out_dir / f"test-{src}-{tgt}", "\n".join(lines) + "\n")
            settings["failed"][f"{src}-{tgt}"] = failed
            if failed:
                print(f"warning: {len(failed)} line(s) of {src}->{tgt} failed and are left empty: {failed[:10]}")
        settings.update({"model": args.model, "system_name": system, "translator": f"{translator.name}:{translator.model}",
                         "num_examples": args.num_examples, "num_beams": args.num_beams,
                         "max_new_tokens": args.max_new_tokens, "batch_size": args.batch_size,
                         "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")})
        atomic_write_json(settings_file, settings)
    for src, tgt in pairs:
        if (src, tgt) not in todo:
            print(f"{out_dir / f'test-{src}-{tgt}'} exists: skipped (use --overwrite to redo it)")
    return settings


if __name__ == "__main__":
    main()
