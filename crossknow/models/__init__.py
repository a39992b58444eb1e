"""Models: the scoring contract (``model_api``), the backends behind it and the translators.

A registry (``backends``) maps a model spec's kind to its backend: Hugging Face
(``hf_backend`` with token-budget ``batching``, ``prefix_reuse`` and ``shared_prefix`` attention),
vLLM, OpenAI-compatible APIs; ``loading`` holds what the local backends share (device, tokenizer).
Every loader takes a parsed ``ModelSpec``, never a name. ``translation`` holds the translators and their cache, ``chat`` the
chat templates, ``throughput`` FLOP and MFU figures. Imports ``crossknow.core`` only.
"""
