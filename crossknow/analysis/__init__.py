"""Analysis: what is done with results once they exist.

The report table (``report``), per-question paired comparisons (``paired``, ``paired_report``),
run-to-run comparison (``compare``), re-scoring from records (``rescore``), figures (``plots``) and
exports (``export``, ``every_eval_ever``). Reads results files; never runs a model for a task.
"""
