"""Alias kept for ``crossknow.evaluate``: the MMLU task lives in ``crossknow.tasks.mmlu``.

The alias is the module itself (not a copy), so that ``from crossknow.evaluate import Settings`` and
a test that patches ``crossknow.evaluate.X`` act on the task's own names.
"""

import sys

from crossknow.tasks import mmlu

sys.modules[__name__] = mmlu
