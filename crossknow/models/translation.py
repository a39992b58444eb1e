"""One translator interface for the whole project, its backends, and a persistent cache.

Every translator keeps the ``Translator`` protocol: a ``name`` and ``model`` (the cache's key), its
parsed ``spec`` (None for a service with no model choice), ``check_pair`` (an unsupported language
pair refused in one line) and ``translate_batch``.

``translate(translator, texts, src, tgt, cache)`` returns one ``Translation`` per text, each with
the text and whether it succeeded. The language pair is checked before any work. A failed batch is
split until the string that fails is alone, so one bad string fails alone; a failed string is
retried a bounded number of times, all retries together within a time budget, and then recorded as
failed: it is never replaced by the source text. Successes go to the cache as soon as each batch
finishes, each row with a checksum, so a re-run translates nothing twice, retries only what failed,
and a killed run resumes.

Backends: Hugging Face seq2seq MT (NLLB-200, M2M100, Marian), a causal LLM prompted to translate,
Google Translate (``googletrans``, online), an OpenAI-compatible chat model, and Apertium (Debian
packages, offline, rule-based and weak: BLEU 12-16 on FLoRes).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from tqdm.auto import tqdm

from crossknow.core.embedded import cache_dir
from crossknow.core.errors import CrossknowError, StopRun
from crossknow.core.languages import get_language
from crossknow.core.model_spec import DEFAULT_TRANSLATION_MODELS, ModelSpec, api_spec, require_spec
from crossknow.core.resume import settings_sha256
from crossknow.models.openai_backend import OpenAIChatBackend


@runtime_checkable
class Translator(Protocol):
    """What ``translate`` calls. ``name`` and ``model`` key the cache (``model`` is the model as the
    cache has always named it); ``spec`` is the parsed model, None for a service (Google, Apertium)."""

    name: str
    model: str
    spec: ModelSpec | None

    def check_pair(self, src: str, tgt: str) -> None:
        """Refuse, in one line, a language pair this translator cannot do."""

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        """One translation per text, in order."""


class AnyPair:
    """For translators that take any two languages of the table (an LLM, a chat model, a service)."""

    spec: ModelSpec | None = None

    def check_pair(self, src: str, tgt: str) -> None:
        return None


@dataclass(frozen=True)
class Translation:
    text: str | None
    ok: bool
    error: str | None = None


def _checksum(source: str, text: str) -> str:
    return hashlib.sha256(f"{source}\0{text}".encode()).hexdigest()


# The generation settings a translator's output depends on besides its model (HF MT and LLM
# translators); the OpenAI preset is already in the translator's name.
CACHED_SETTINGS = ("num_beams", "max_new_tokens")


def cache_model(translator) -> str:
    """The cache's model column: the model, with the fingerprint of its generation settings where
    it has some (``crossknow.core.resume.settings_sha256``), so that translations made with other
    beams or another length limit are never served to this run. The cache is keyed per sentence,
    not per folder, so the fingerprint is part of every row's key instead of a settings file."""
    settings = {key: getattr(translator, key) for key in CACHED_SETTINGS if hasattr(translator, key)}
    return f"{translator.model} settings:{settings_sha256(settings)[:16]}" if settings else translator.model


class TranslationCache:
    """SQLite store keyed by (backend, model, source language, target language, text hash); each
    row carries a checksum of its source and translation, checked on every read."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else cache_dir() / "translations.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path)
            self.db.execute("CREATE TABLE IF NOT EXISTS translations (backend TEXT, model TEXT, src TEXT, tgt TEXT, "
                            "hash TEXT, source TEXT, text TEXT, checksum TEXT, "
                            "PRIMARY KEY (backend, model, src, tgt, hash))")
            columns = [row[1] for row in self.db.execute("PRAGMA table_info(translations)")]
            if "checksum" not in columns:  # a cache written before rows had checksums
                self._add_checksums()
        except sqlite3.DatabaseError as error:
            raise self.corrupt(f"{error}") from None

    def corrupt(self, what: str) -> CrossknowError:
        return CrossknowError(f"{self.path}: the translation cache is damaged ({what}); delete the file to "
                              "rebuild it (its translations are then computed again)")

    def _add_checksums(self) -> None:
        with self.db:
            self.db.execute("ALTER TABLE translations ADD COLUMN checksum TEXT")
            rows = self.db.execute("SELECT rowid, source, text FROM translations").fetchall()
            self.db.executemany("UPDATE translations SET checksum=? WHERE rowid=?",
                                [(_checksum(source, text), rowid) for rowid, source, text in rows])

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get_many(self, translator, src: str, tgt: str, texts: list[str]) -> dict[str, str]:
        found = {}
        try:
            for text in texts:
                row = self.db.execute("SELECT source, text, checksum FROM translations WHERE backend=? AND model=? "
                                      "AND src=? AND tgt=? AND hash=?",
                                      (translator.name, cache_model(translator), src, tgt, self.key(text))).fetchone()
                if row is None:
                    continue
                source, translated, checksum = row
                if source != text or not isinstance(translated, str) or checksum != _checksum(source, translated):
                    raise self.corrupt(f"the row for {text[:40]!r} ({src}->{tgt}) fails its checksum")
                found[text] = translated
        except sqlite3.DatabaseError as error:
            raise self.corrupt(f"{error}") from None
        return found

    def put_many(self, translator, src: str, tgt: str, pairs: list[tuple[str, str]]) -> None:
        try:
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO translations (backend, model, src, tgt, hash, source, "
                                    "text, checksum) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                    [(translator.name, cache_model(translator), src, tgt, self.key(s), s, t, _checksum(s, t))
                                     for s, t in pairs])
        except sqlite3.DatabaseError as error:
            raise self.corrupt(f"{error}") from None


class JournalCache:
    """The translations a run has finished, appended to its resume journal
    (``crossknow.core.resume.Journal``) as each batch ends, so a killed run resumes without a
    ``TranslationCache``; read first, before ``fallback`` (the user's cache, if any), and written to
    both. The journal's fingerprint decides the translator; rows are keyed by the source text."""

    def __init__(self, journal, finished: list[dict], fallback: TranslationCache | None = None):
        self.journal, self.fallback = journal, fallback
        self.found = {r["source"]: r["text"] for r in finished}

    def get_many(self, translator, src: str, tgt: str, texts: list[str]) -> dict[str, str]:
        found = {text: self.found[text] for text in texts if text in self.found}
        if self.fallback is not None:
            found.update(self.fallback.get_many(translator, src, tgt, [t for t in texts if t not in found]))
        return found

    def put_many(self, translator, src: str, tgt: str, pairs: list[tuple[str, str]]) -> None:
        self.journal.append([{"source": source, "text": text} for source, text in pairs])
        self.found.update(pairs)
        if self.fallback is not None:
            self.fallback.put_many(translator, src, tgt, pairs)


class RetryBudget:
    """The time that failed calls and the waits between retries may take, over a whole run: once it
    is spent, the strings left are recorded as failed without being tried."""

    def __init__(self, seconds: float = 120.0):
        self.seconds, self.spent, self.last_error = seconds, 0.0, ""

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.seconds

    def charge(self, seconds: float, error: str) -> None:
        self.spent += seconds
        self.last_error = error

    def not_tried(self) -> Translation:
        return Translation(None, False, f"not tried: {self.seconds:g} s of failures and retries spent "
                                        f"(last error: {self.last_error})")


def check_languages(translator: Translator, src: str, tgt: str) -> None:
    """An unknown code or a pair the translator cannot do is an error before any work."""
    if not isinstance(translator, Translator):
        missing = [m for m in ("name", "model", "spec", "check_pair", "translate_batch") if not hasattr(translator, m)]
        raise TypeError(f"{type(translator).__name__} is not a Translator: it lacks {', '.join(missing)}")
    for code in (src, tgt):
        get_language(code)
    if src == tgt:
        raise CrossknowError(f"source and target language are both {src!r}")
    translator.check_pair(src, tgt)


def translate(translator: Translator, texts: list[str], src: str, tgt: str, cache: TranslationCache | None = None,
              batch_size: int = 16, max_retries: int = 2, retry_wait: float = 1.0,
              desc: str | None = None, budget: RetryBudget | None = None) -> list[Translation]:
    """Translate ``texts`` (duplicates once), from the cache where possible. ``budget`` bounds the
    time spent on failures; pass one budget to every call of a run to bound the run's."""
    check_languages(translator, src, tgt)
    budget = budget or RetryBudget()
    unique = list(dict.fromkeys(texts))
    done: dict[str, Translation] = {}
    if cache is not None:
        done = {t: Translation(v, True) for t, v in cache.get_many(translator, src, tgt, unique).items()}
    todo = [t for t in unique if t not in done]
    with tqdm(total=len(todo), desc=desc or f"{src}->{tgt}", leave=False, disable=not todo) as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            results = _translate_batch(translator, batch, src, tgt, max_retries, retry_wait, budget)
            done.update(zip(batch, results))
            if cache is not None:
                cache.put_many(translator, src, tgt, [(s, r.text) for s, r in zip(batch, results) if r.ok])
            bar.update(len(batch))
    return [done[t] for t in texts]


def _call(translator, batch: list[str], src: str, tgt: str) -> list[Translation]:
    outputs = translator.translate_batch(batch, src, tgt)
    if len(outputs) != len(batch):
        raise RuntimeError(f"{len(outputs)} outputs for {len(batch)} inputs")
    return [Translation(o, True) if o and o.strip() else Translation(None, False, "empty output") for o in outputs]


def _translate_batch(translator, batch: list[str], src: str, tgt: str, max_retries: int, wait: float,
                     budget: RetryBudget) -> list[Translation]:
    """A failed batch is split in halves (no waiting) until the failing string is alone; that one is
    retried with exponential waits while the budget lasts."""
    if budget.exhausted:
        return [budget.not_tried() for _ in batch]
    attempts = 1 + (max_retries if len(batch) == 1 else 0)
    for attempt in range(attempts):
        started = time.monotonic()
        try:
            return _call(translator, batch, src, tgt)
        except StopRun:  # a refused key: no retry or other string can succeed
            raise
        except Exception as exc:  # noqa: BLE001 - any backend failure is split or retried, then recorded
            error = f"{type(exc).__name__}: {exc}"
            budget.charge(time.monotonic() - started, error)
        if len(batch) > 1:
            half = len(batch) // 2
            return (_translate_batch(translator, batch[:half], src, tgt, max_retries, wait, budget)
                    + _translate_batch(translator, batch[half:], src, tgt, max_retries, wait, budget))
        if attempt == attempts - 1 or budget.exhausted:
            break
        pause = min(wait * 2**attempt, budget.seconds - budget.spent)
        time.sleep(pause)
        budget.charge(pause, error)
    return [Translation(None, False, error)]


class HFSeq2SeqTranslator:
    """NLLB-200, M2M100 or Marian through transformers, batched beam search."""

    name = "hf-seq2seq"

    def __init__(self, spec: ModelSpec, device: str | None = None, num_beams: int = 4, max_new_tokens: int = 256,
                 model_obj=None, tokenizer=None):
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        from crossknow.models.loading import default_device

        self.spec = require_spec(spec, "HFSeq2SeqTranslator")
        self.model = spec.name
        self.device = device or default_device()
        if tokenizer is None or model_obj is None:
            path = spec.location()[0]
            tokenizer = tokenizer or AutoTokenizer.from_pretrained(path)
            model_obj = model_obj or AutoModelForSeq2SeqLM.from_pretrained(path)
        self.tokenizer = tokenizer
        self.hf_model = model_obj.to(self.device).eval()
        self.num_beams, self.max_new_tokens = num_beams, max_new_tokens
        self.family = self._family()

    def _family(self) -> str:
        model_type = self.hf_model.config.model_type
        if model_type == "marian":
            return "marian"
        if "nllb" in type(self.tokenizer).__name__.lower() or "eng_Latn" in self.tokenizer.get_vocab():
            return "nllb"
        if model_type == "m2m_100":
            return "m2m100"
        raise ValueError(f"{self.model}: unsupported seq2seq model type {model_type!r} (NLLB, M2M100, Marian)")

    def codes(self, src: str, tgt: str) -> tuple[str | None, str | None]:
        """The model's codes from the language table; a language the model lacks is an error."""
        column = {"nllb": "nllb", "m2m100": "m2m"}.get(self.family)
        if column is None:
            return None, None
        codes = [getattr(get_language(lang), column) for lang in (src, tgt)]
        for lang, code in zip((src, tgt), codes):
            if code is None:
                raise ValueError(f"{self.model}: {self.family} has no code for language {lang!r} "
                                 f"({get_language(lang).name})")
        return codes[0], codes[1]

    def check_pair(self, src: str, tgt: str) -> None:
        """The model must know both language codes (a Marian model is one pair: not checked here)."""
        for code in self.codes(src, tgt):
            if code is None:
                continue
            if self.family == "m2m100":
                known = code in getattr(self.tokenizer, "lang_code_to_id", {}) or self._has_lang_id(code)
            else:
                known = self.tokenizer.convert_tokens_to_ids(code) != self.tokenizer.unk_token_id
            if not known:
                raise CrossknowError(f"{self.model}: the model has no language code {code!r}")

    def _has_lang_id(self, code: str) -> bool:
        try:
            self.tokenizer.get_lang_id(code)
            return True
        except (KeyError, AttributeError):
            return False

    def generation_inputs(self, texts: list[str], src: str, tgt: str):
        """Tokenized inputs and ``forced_bos_token_id`` for this family and language pair."""
        src_code, tgt_code = self.codes(src, tgt)
        forced_bos = None
        if self.family == "nllb":
            self.tokenizer.src_lang = src_code
            forced_bos = self.tokenizer.convert_tokens_to_ids(tgt_code)
        elif self.family == "m2m100":
            self.tokenizer.src_lang = src_code
            forced_bos = self.tokenizer.get_lang_id(tgt_code)
        elif f">>{tgt}<<" in self.tokenizer.get_vocab():  # multi-target Marian models
            texts = [f">>{tgt}<< {t}" for t in texts]
        inputs = self.tokenizer(texts, return_tensors="pt", padding=True, truncation=True)
        return inputs.to(self.device), forced_bos

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        import torch

        inputs, forced_bos = self.generation_inputs(texts, src, tgt)
        kwargs = {"forced_bos_token_id": forced_bos} if forced_bos is not None else {}
        with torch.inference_mode():
            out = self.hf_model.generate(**inputs, num_beams=self.num_beams, max_new_tokens=self.max_new_tokens,
                                         **kwargs)
        return self.tokenizer.batch_decode(out, skip_special_tokens=True)


LLM_PROMPT = "Translate this from {source} to {target}:\n{source}: {text}\n{target}:"


def llm_translation_prompt(text: str, src: str, tgt: str) -> str:
    return LLM_PROMPT.format(source=get_language(src).name, target=get_language(tgt).name, text=text)


def first_line(text: str) -> str:
    """The translation is the first non-empty line of what the model generates."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


class CausalLMTranslator(AnyPair):
    """A causal LLM prompted zero-shot to translate; batched greedy generation, left padding."""

    name = "llm"

    def __init__(self, spec: ModelSpec, backend=None, max_new_tokens: int = 256, batch_size: int | str = "auto",
                 dtype: str = "auto", num_beams: int = 1):
        from crossknow.models.hf_backend import HFBackend, load_model

        self.spec = require_spec(spec, "CausalLMTranslator")
        self.model = spec.name
        self.backend = backend or HFBackend(*load_model(spec, dtype=dtype), batch_size=batch_size)
        self.max_new_tokens, self.num_beams = max_new_tokens, num_beams

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        from crossknow.core.prompt import Prompt

        prompts = [Prompt("", llm_translation_prompt(t, src, tgt)) for t in texts]
        outputs = self.backend.generate(prompts, max_new_tokens=self.max_new_tokens, desc=f"{src}->{tgt}",
                                        first_line_only=True, num_beams=self.num_beams)
        return [first_line(o) for o in outputs]


OPENAI_PRESETS: dict[str, dict] = {
    # The paper's Translation/translate_gpt.py: sampled, and cut at 64 tokens.
    "paper": {"temperature": 0.7, "max_tokens": 64, "top_p": 1.0},
    "greedy": {"temperature": 0.0, "max_tokens": 1024, "top_p": 1.0},
}
"""Request settings of the OpenAI chat translator, by name (``--openai_preset``)."""


class _ChatClient(OpenAIChatBackend):
    """The shared OpenAI backend, sending ``top_p`` as well."""

    def __init__(self, spec: ModelSpec, top_p: float, **kwargs):
        super().__init__(spec, **kwargs)
        self.top_p = top_p

    def request_body(self, messages: list[dict]) -> dict:
        return {**super().request_body(messages), "top_p": self.top_p}


class OpenAIChatTranslator(AnyPair):
    """An OpenAI-compatible chat model; system message ``Translate the following {Source} text to {Target}:``.

    ``preset`` names the request settings (``OPENAI_PRESETS``): ``paper`` (temperature 0.7,
    ``max_tokens`` 64, ``top_p`` 1, as the paper) or ``greedy`` (temperature 0, 1,024 tokens). The
    name is part of the translator's ``name`` (``openai-paper``), so the outputs' settings say which
    was used and the cache never serves one preset's translation for the other.
    """

    def __init__(self, spec: ModelSpec, preset: str = "greedy", base_url: str | None = None,
                 api_key: str | None = None, **kwargs):
        if preset not in OPENAI_PRESETS:
            raise ValueError(f"unknown OpenAI preset {preset!r}; choose from {', '.join(OPENAI_PRESETS)}")
        self.preset = preset
        self.name = f"openai-{preset}"
        self.client = _ChatClient(spec, base_url=base_url, api_key=api_key, **OPENAI_PRESETS[preset], **kwargs)
        self.spec = spec
        self.model = self.client.model  # the API's name, without openai/

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        system = f"Translate the following {get_language(src).name} text to {get_language(tgt).name}:"
        return [self.client.chat([{"role": "system", "content": system}, {"role": "user", "content": t}])
                for t in texts]


class GoogleTranslator(AnyPair):
    """Google Translate through the ``googletrans`` package, as the paper did (needs the internet)."""

    name = "google"
    model = "googletrans"

    def __init__(self):
        try:
            from googletrans import Translator
        except ImportError as error:
            raise ImportError("--translator google needs: pip install googletrans") from error
        self.client = Translator()

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        results = self.client.translate(texts, src=src, dest=tgt)
        if hasattr(results, "__await__"):  # googletrans 4.x is asynchronous
            import asyncio

            results = asyncio.run(results)
        return [r.text for r in results]


class ApertiumTranslator:
    """Apertium (offline, rule-based). en<->es directly, fr and it through es; no German.

    Quality is low (BLEU 12-16 on FLoRes): use it where nothing better can run, and say so.
    """

    name = "apertium"
    model = "apertium"
    spec = None
    SEPARATOR = "\n\n.\n\n"
    LINE_BREAK = "[[BR]]"
    # Debian's mode names (apertium-eng-spa, apertium-fr-es, apertium-spa-ita).
    PAIRS = {("en", "es"): "eng-spa", ("es", "en"): "spa-eng", ("fr", "es"): "fr-es", ("es", "fr"): "es-fr",
             ("es", "it"): "spa-ita", ("it", "es"): "ita-spa"}

    def __init__(self, executable: str = "apertium"):
        self.executable = shutil.which(executable)
        if self.executable is None:
            raise FileNotFoundError("apertium is not installed (Debian: apt-get install apertium "
                                    "apertium-eng-spa apertium-fr-es apertium-spa-ita cg3)")

    def check_pair(self, src: str, tgt: str) -> None:
        self.route(src, tgt)

    def route(self, src: str, tgt: str) -> list[str]:
        if (src, tgt) in self.PAIRS:
            return [self.PAIRS[src, tgt]]
        if (src, "es") in self.PAIRS and ("es", tgt) in self.PAIRS:
            return [self.PAIRS[src, "es"], self.PAIRS["es", tgt]]
        raise ValueError(f"apertium cannot translate {src}->{tgt} (pairs: en-es, fr-es, es-it)")

    def _run(self, pair: str, text: str) -> str:
        out = subprocess.run([self.executable, "-u", pair], input=text, capture_output=True, text=True,
                             timeout=300, check=True)
        return out.stdout

    def translate_batch(self, texts: list[str], src: str, tgt: str) -> list[str]:
        # One process per hop for the whole batch. A line break is no sentence boundary for
        # Apertium (it moves words across it), so texts are separated by a lone full stop between
        # blank lines, and line breaks inside a text travel as a marker it passes through.
        joined = "".join(t.replace("\n", f" {self.LINE_BREAK} ") + self.SEPARATOR for t in texts)
        for pair in self.route(src, tgt):
            joined = self._run(pair, joined)
        parts = re.split(r"\n[ \t]*\n[ \t]*\.[ \t]*\n[ \t]*\n", joined)
        if parts and not parts[-1].strip():
            parts = parts[:-1]
        if len(parts) != len(texts):
            raise RuntimeError(f"apertium returned {len(parts)} segments for {len(texts)} texts")
        return [re.sub(rf"\s*{re.escape(self.LINE_BREAK)}\s*", "\n", part).strip() for part in parts]


TRANSLATORS = ("hf", "llm", "openai", "google", "apertium")


def detect_kind(model: str) -> str:
    """The translator kind for a model name: openai/..., apertium, google, seq2seq MT or causal LM."""
    if model in ("apertium", "google"):
        return model
    spec = ModelSpec.parse(model)
    if spec.is_api:
        return "openai"
    if spec.kind in ("embedded", "gguf"):
        return "llm"
    from transformers import AutoConfig

    return "hf" if getattr(AutoConfig.from_pretrained(spec.path), "is_encoder_decoder", False) else "llm"


def make_translator(kind: str, model: str | None = None, max_new_tokens: int = 256, num_beams: int = 1,
                    batch_size: int | str = "auto", openai_preset: str = "greedy") -> Translator:
    """A translator by kind: hf (seq2seq MT), llm (causal LM), openai, google, apertium; ``auto``
    picks the kind from the model. The model name is parsed here, once."""
    if kind == "auto":
        kind = detect_kind(model or "")
    if kind not in TRANSLATORS:
        raise ValueError(f"unknown translator {kind!r}; choose from {', '.join(TRANSLATORS)}")
    if kind == "google":
        return GoogleTranslator()
    if kind == "apertium":
        return ApertiumTranslator()
    name = model or DEFAULT_TRANSLATION_MODELS[kind]
    if kind == "hf":
        return HFSeq2SeqTranslator(ModelSpec.parse(name), max_new_tokens=max_new_tokens, num_beams=max(num_beams, 1))
    if kind == "llm":
        return CausalLMTranslator(ModelSpec.parse(name), max_new_tokens=max_new_tokens, num_beams=num_beams,
                                  batch_size=batch_size)
    # retries are translate()'s, within its time budget, not the client's as well
    return OpenAIChatTranslator(api_spec(name), openai_preset, max_retries=0)
