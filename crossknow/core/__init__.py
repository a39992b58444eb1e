"""Core: what every layer shares and nothing of the engine below it.

Errors (``errors``), atomic file I/O (``io``), the language table (``languages``), answer labels
(``answers``), the model spec and every model-name rule (``model_spec``, ``embedded``), the prompt
type that tasks hand to models (``prompt``), the hub checked once (``hub``), shared CLI flags
(``cli``) and results with their schema (``results``). Modules here import no other layer.
"""
