"""Training: full and LoRA fine-tuning on mixed-language corpora (``finetuning``)."""
