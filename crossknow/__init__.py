"""crossknow: measure the crosslingual knowledge barrier of large language models.

The shared engine behind the task folders (MMLU/, HP/, Translation/, FT/): data loading,
prompts, model backends, scoring and results.
"""

__version__ = "0.1.0"
