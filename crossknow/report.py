"""Alias kept for ``python -m crossknow.report``: the module lives in ``crossknow.analysis.report``."""

import runpy

if __name__ == "__main__":
    runpy.run_module("crossknow.analysis.report", run_name="__main__", alter_sys=True)
