"""Alias kept for ``python -m crossknow.compare``: the module lives in ``crossknow.analysis.compare``."""

import runpy

if __name__ == "__main__":
    runpy.run_module("crossknow.analysis.compare", run_name="__main__", alter_sys=True)
