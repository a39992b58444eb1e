"""``--apply_chat_template``: an instruct model's prompts in its own chat format.

The rule, as lm-evaluation-harness users know it: the whole prompt (header, demonstrations and the
question) is one user turn, rendered by the tokenizer's chat template with
``add_generation_prompt=True``, so the answer letter is scored right after the assistant prefix.
The template's SHA-256 is recorded in the result, since it decides every prompt.

A chat prompt keeps the shared-prefix split of ``crossknow.data.prompts.Prompt``: the template's text
before the user's message joins the prefix, the text after it joins the suffix, and the rendered
text must equal prefix + suffix exactly (a template that rewrites the message is refused).
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import dataclass

from crossknow.core.errors import CrossknowError
from crossknow.core.prompt import Prompt


class ChatTemplateError(CrossknowError):
    """A tokenizer without a chat template, or one whose rendering cannot be split around a prompt."""


@dataclass(frozen=True)
class ChatFormat:
    """Renders prompts as one user turn with the tokenizer's chat template."""

    tokenizer: object
    template: str
    drop_bos: str  # the BOS text the template writes and the tokenizer adds again ("" if none)

    @classmethod
    def of(cls, tokenizer, model: str) -> ChatFormat:
        template = getattr(tokenizer, "chat_template", None)
        if not isinstance(template, str) or not template:
            raise ChatTemplateError(f"--apply_chat_template: the tokenizer of {model} has no (single) chat "
                                    "template; drop the flag for a base model")
        return cls(tokenizer, template, _bos_added_twice(tokenizer))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.template.encode()).hexdigest()

    def describe(self) -> dict:
        """The result config's record of the chat format."""
        return {"apply_chat_template": True, "chat_template_sha256": self.sha256}

    def render(self, text: str) -> str:
        """``text`` as one user turn followed by the assistant prefix, as the model reads it."""
        rendered = self.tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                                      add_generation_prompt=True)
        return rendered.removeprefix(self.drop_bos) if self.drop_bos else rendered

    def apply(self, prompt: Prompt) -> Prompt:
        rendered = self.render(prompt.text)
        start = rendered.find(prompt.text)
        if start < 0:
            raise ChatTemplateError("--apply_chat_template: the chat template changes the prompt's text, so "
                                    "the prompt cannot be kept whole; drop the flag for this model")
        return Prompt(rendered[:start] + prompt.prefix, prompt.suffix + rendered[start + len(prompt.text):])


def _bos_added_twice(tokenizer) -> str:
    """The BOS token's text when the template writes it and tokenizing adds it again, else ``""``."""
    bos = getattr(tokenizer, "bos_token", None)
    if not bos or tokenizer.bos_token_id is None:
        return ""
    rendered = tokenizer.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False,
                                             add_generation_prompt=True)
    adds_bos = tokenizer("x").input_ids[:1] == [tokenizer.bos_token_id]
    return bos if rendered.startswith(bos) and adds_bos else ""


def add_chat_argument(p: argparse.ArgumentParser) -> None:
    """``--apply_chat_template``, the same flag for every task that scores letters."""
    p.add_argument("--apply_chat_template", action="store_true",
                   help="instruct models: each prompt as one user turn of the tokenizer's chat template, the "
                        "letter scored after the assistant prefix (recorded with the template's hash)")


def check_chat_argument(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse the flag where there is no tokenizer to render with (after ``check_model_arguments``)."""
    if args.apply_chat_template and (args.spec.is_api or args.backend != "hf"):
        p.error("--apply_chat_template: only for models loaded with transformers (--backend hf); "
                "API models are chat models already")


def chat_format(args: argparse.Namespace) -> ChatFormat | None:
    """The run's chat format when ``--apply_chat_template`` is given, else None. Loads the tokenizer
    alone, so that a model without a template stops before the model loads."""
    if not args.apply_chat_template:
        return None
    from crossknow.models.hf_backend import load_tokenizer

    tokenizer = load_tokenizer(args.spec, revision=args.loader_options.get("revision"),
                               trust_remote_code=args.loader_options.get("trust_remote_code", False))
    return ChatFormat.of(tokenizer, args.model)
