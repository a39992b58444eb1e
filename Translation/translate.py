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
with the source text, and a re-run translates the failed lines again. A finished direction is not
translated again (``--overwrite`` to redo it). ``settings.json`` records the model and the settings
that wrote the folder: a run with another model or other settings is refused there.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from crossknow.core.cli import run
from crossknow.models.translation import make_translator, translate
from crossknow.tasks import get_task

TRANSLATION = get_task("translation")  # the directions, translator and files (crossknow/tasks/translation.py)
default_system_name = TRANSLATION.default_system_name


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    TRANSLATION.add_arguments(p, output_dir=Path("Translation/outputs"))
    args = p.parse_args(argv)
    TRANSLATION.check_arguments(p, args)
    return TRANSLATION.run(args, make_translator=make_translator, translate=translate)


if __name__ == "__main__":
    run(main)
