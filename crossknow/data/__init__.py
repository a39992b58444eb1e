"""Data: readers and builders of the benchmarks' inputs, with no model in sight.

MMLU (both CSV formats, variants and their folders, question and source ids, Global-MMLU's culture
tags, alignment checks of imported translations), the Harry Potter quiz, FLoRes, the paper's
prompts, mixed-language corpora and TOFU's examples. Imports ``crossknow.core`` only.
"""
