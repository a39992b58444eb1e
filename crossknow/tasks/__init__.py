"""Tasks: each benchmark as a dataset, a prompt builder and a scorer, found through a registry."""
