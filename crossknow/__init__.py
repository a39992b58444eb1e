"""crossknow: measure the crosslingual knowledge barrier of large language models.

The shared engine behind the task folders (MMLU/, HP/, Translation/, FT/, Synthetic/): data
loading, prompts, the model contract (model_api) and model spec (model_spec), backends, the
task-agnostic runner (runner), and results in one versioned schema (results, results_schema.json).
"""

__version__ = "0.1.0"
