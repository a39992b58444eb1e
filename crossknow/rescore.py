"""Alias kept for ``python -m crossknow.rescore``: the module lives in ``crossknow.analysis.rescore``."""

import runpy

if __name__ == "__main__":
    runpy.run_module("crossknow.analysis.rescore", run_name="__main__", alter_sys=True)
