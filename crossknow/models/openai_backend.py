"""OpenAI-compatible chat completions, with bounded retries; the API key is never stored.

Uses only the standard library so that any server speaking the ``/chat/completions`` protocol
(OpenAI, vLLM's server, a local test server) works without the ``openai`` package.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request

from tqdm.auto import tqdm

from crossknow.core.errors import CrossknowError, StopRun, mask_secrets
from crossknow.core.model_spec import ModelSpec, require_spec
from crossknow.core.prompt import Prompt
from crossknow.models.model_api import GENERATION, LETTER_SCORES, LOGLIKELIHOOD, cut_at_stop, require

DEFAULT_BASE_URL = "https://api.openai.com/v1"
RETRIABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}
AUTHENTICATION_STATUS = {401, 403}


class APIError(CrossknowError, RuntimeError):  # a user error: one line from crossknow.core.cli.run
    pass


class AuthenticationError(StopRun, APIError):
    """The server refused the key: every other request would be refused too."""


class OpenAIChatBackend:
    """``--model openai/gpt-3.5-turbo-0125``: temperature 0, ``max_tokens`` 1 as in the paper.
    The contract's generation only: a chat API gives no letter logits nor likelihoods."""

    name = "openai"
    capabilities = frozenset({GENERATION})

    def __init__(self, spec: ModelSpec, max_tokens: int = 1, temperature: float = 0.0,
                 base_url: str | None = None, api_key: str | None = None,
                 max_retries: int = 5, backoff_seconds: float = 1.0, timeout: float = 60.0):
        spec = require_spec(spec, "OpenAIChatBackend")
        if not spec.is_api:
            raise ValueError(f"{spec.name}: not an API model (give openai/<name>)")
        self.spec = spec
        self.model = spec.path
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self._api_key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        if not self._api_key:
            raise APIError("set OPENAI_API_KEY to use an OpenAI model")
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.timeout = timeout

    def describe(self) -> dict:
        """What goes into the results' config block (no key)."""
        return {"backend": self.name, "model": self.model, "base_url": self.base_url,
                "temperature": self.temperature, "max_retries": self.max_retries}

    def request_body(self, messages: list[dict], max_tokens: int | None = None,
                     temperature: float | None = None) -> dict:
        return {"model": self.model, "messages": messages,
                "max_tokens": self.max_tokens if max_tokens is None else max_tokens,
                "temperature": self.temperature if temperature is None else temperature}

    def complete_one(self, prompt: str, **request) -> str:
        return self.chat([{"role": "user", "content": prompt}], **request)

    def chat(self, messages: list[dict], **request) -> str:
        body = json.dumps(self.request_body(messages, **request)).encode()
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions", data=body, method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._api_key}"},
        )
        last_error = ""
        for attempt in range(self.max_retries + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    payload = json.loads(response.read())
                return payload["choices"][0]["message"]["content"] or ""
            except urllib.error.HTTPError as error:
                last_error = f"HTTP {error.code}: {self.quoted_body(error)}"
                if error.code in AUTHENTICATION_STATUS:
                    raise AuthenticationError(f"{self.base_url}: {last_error} (the API key was refused: check "
                                              "OPENAI_API_KEY and OPENAI_BASE_URL)") from None
                if error.code not in RETRIABLE_STATUS:
                    break
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                last_error = str(error)
            if attempt < self.max_retries:
                time.sleep(self.backoff_seconds * 2**attempt)
        raise APIError(f"{self.base_url}: request failed after {attempt + 1} attempt(s): {last_error}")

    def quoted_body(self, error: urllib.error.HTTPError) -> str:
        """The start of a server's error answer, with the key and anything key-like masked."""
        body = error.read()[:300].decode("utf-8", errors="replace")
        return repr(mask_secrets(body, (self._api_key,)))

    def answer_token_ids(self, labels: tuple[str, ...]) -> dict[str, list[int]]:
        require(self, LETTER_SCORES)

    def score_letters(self, prompts: list[Prompt], labels: tuple[str, ...], desc: str = "scoring"):
        require(self, LETTER_SCORES)

    def loglikelihood(self, texts: list[str], desc: str = "likelihood") -> list[float]:
        require(self, LOGLIKELIHOOD)

    def generate(self, prompts: list[Prompt], max_new_tokens: int, do_sample: bool = False, seed: int = 0,
                 stop: list[str] | None = None, desc: str = "querying") -> list[str]:
        # OpenAI's API takes at most four stop strings, so they are applied here, to the returned text.
        request = {"max_tokens": max_new_tokens, "temperature": 1.0 if do_sample else None}
        return [cut_at_stop(self.complete_one(p.text, **request), stop)
                for p in tqdm(prompts, desc=desc, leave=False)]
