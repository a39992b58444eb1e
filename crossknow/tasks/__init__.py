"""Tasks: each benchmark as a dataset, a prompt builder and a scorer, found through a registry.

``get_task("mmlu")`` (or ``"module:attribute"``) returns a task; ``python -m crossknow.tasks --task NAME``
runs one through the runner. See ``crossknow/tasks/base.py`` and ``crossknow/tasks/README.md``.
"""

from crossknow.tasks.base import Configuration, Task, get_task, known_tasks, register_task

__all__ = ["Configuration", "Task", "get_task", "known_tasks", "register_task"]
