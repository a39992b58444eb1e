"""Fine-tune a causal LM on a (mixed-language) text corpus: full or LoRA, on one or many GPUs.

The command line of crossknow.training.finetuning. Driven by a YAML config (FT/ft_config.yaml holds the
paper's hyper-parameters, FT/configs/paper_tofu.yaml adds the paper's schedule); any setting
listed below can be overridden (``--lr 1e-4``, ``--LoRA.r 8``). An interrupted run resumes from
its last complete checkpoint; ``--restart`` starts over.

    python FT/finetune.py --config FT/ft_config.yaml --model meta-llama/Meta-Llama-3-8B \\
        --train_file data/wiki2-sentence/mixed.txt --output_dir checkpoints/llama3-wiki2-sentence
    accelerate launch --config_file FT/configs/fsdp.yaml FT/finetune.py --config FT/ft_config.yaml ...
"""

from __future__ import annotations

from pathlib import Path

from crossknow.core.cli import run
from crossknow.training.finetuning import build_parser, main

DEFAULT_CONFIG = Path(__file__).resolve().parent / "ft_config.yaml"

if __name__ == "__main__":
    run(lambda: main(parser=build_parser(__doc__, DEFAULT_CONFIG)))
