"""Score FLoRes translations with sacrebleu (BLEU, chrF) and COMET; one table, systems x directions.

    python Translation/evaluate.py --outputs_dir Translation/outputs/smollm2 Translation/outputs/apertium
    python Translation/evaluate.py --outputs_dir Translation/outputs --num_examples 20

``--outputs_dir`` takes system folders (``test-{src}-{tgt}`` files inside) or a folder of them.
A hypothesis file whose line count differs from the references is an error, unless
``--num_examples N`` says to score the first N lines. A ``test-{src}-{tgt}.comet`` file beside a
hypothesis file (the format ALMA's scorer writes) gives its COMET score, the mean of its segment
scores; an empty or incomplete one counts as missing. ``--compute_comet`` scores with
``Unbabel/wmt22-comet-da`` (``unbabel-comet``); when it does not load, the run stops before scoring,
unless ``--skip_missing_metrics`` lets it go on without COMET. A direction with
lines that failed to translate (listed in the system's ``settings.json``, or empty) is refused;
``--allow_failed`` scores it, flagged with ``!`` in the table and ``failed_lines`` in ``scores.json``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from crossknow.core.cli import add_limit_argument, add_output_argument, run
from crossknow.core.errors import CrossknowError
from crossknow.core.io import read_json, read_text
from crossknow.core.results import result_document, write_result
from crossknow.data.flores import FLORES_DIR

HYPOTHESIS = re.compile(r"^test-([a-z]{2})-([a-z]{2})$")
SEGMENT = re.compile(r"\tSegment (\d+)\tscore: (-?[\d.]+)\s*$")
SYSTEM = re.compile(r"\tscore: (-?[\d.]+)\s*$")


class ScoringError(CrossknowError, ValueError):
    pass


def failed_lines(hyp_path: Path, hyps: list[str]) -> list[int]:
    """Line numbers (1-based) whose translation failed: listed in the system's settings.json by
    Translation/translate.py, or empty in the file."""
    settings = hyp_path.parent / "settings.json"
    direction = hyp_path.name.removeprefix("test-")
    listed = read_json(settings).get("failed", {}).get(direction, []) if settings.is_file() else []
    empty = [i + 1 for i, line in enumerate(hyps) if not line.strip()]
    return sorted({n for n in listed if n <= len(hyps)} | set(empty))


def read_comet_file(path: Path, expected_segments: int) -> float | None:
    """Mean segment score of an ALMA-style ``.comet`` file; None if empty or incomplete."""
    if not path.is_file():
        return None
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    segments = {}
    for line in lines:
        match = SEGMENT.search(line)
        if match:
            segments[int(match.group(1))] = float(match.group(2))
    has_system_line = bool(lines) and SYSTEM.search(lines[-1]) is not None and not SEGMENT.search(lines[-1])
    if not has_system_line or sorted(segments) != list(range(expected_segments)):
        return None
    return sum(segments.values()) / len(segments)


def hypothesis_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and HYPOTHESIS.match(p.name))


def system_folders(paths: list[Path]) -> list[Path]:
    folders = []
    for path in paths:
        if not path.is_dir():
            raise ScoringError(f"{path}: not a folder")
        if hypothesis_files(path):
            folders.append(path)
        else:
            folders += [sub for sub in sorted(path.iterdir()) if sub.is_dir() and hypothesis_files(sub)]
    if not folders:
        raise ScoringError(f"no test-{{src}}-{{tgt}} files under {', '.join(map(str, paths))}")
    return folders


def load_pair(hyp_path: Path, data_dir: Path, num_examples: int | None) -> tuple[list[str], list[str]]:
    tgt = HYPOTHESIS.match(hyp_path.name).group(2)
    refs = read_text(data_dir / f"{tgt}.devtest").splitlines()
    hyps = read_text(hyp_path).splitlines()
    if not hyps:
        raise ScoringError(f"{hyp_path}: no lines to score")
    if num_examples is None:
        if len(hyps) != len(refs):
            raise ScoringError(f"{hyp_path}: {len(hyps)} lines but the references have {len(refs)}; "
                               f"use --num_examples N to score the first N")
        return hyps, refs
    if len(hyps) < num_examples or len(refs) < num_examples:
        raise ScoringError(f"{hyp_path}: {len(hyps)} lines, fewer than --num_examples {num_examples}")
    return hyps[:num_examples], refs[:num_examples]


def score_system(folder: Path, data_dir: Path, num_examples: int | None, comet_model=None,
                 allow_failed: bool = False) -> dict:
    from sacrebleu.metrics import BLEU, CHRF

    bleu, chrf = BLEU(tokenize="13a"), CHRF()
    scores = {}
    for hyp_path in hypothesis_files(folder):
        hyps, refs = load_pair(hyp_path, data_dir, num_examples)
        failed = failed_lines(hyp_path, hyps)
        if failed and not allow_failed:
            raise ScoringError(f"{hyp_path}: {len(failed)} of {len(hyps)} line(s) failed to translate (lines "
                               f"{failed[:10]}); re-run Translation/translate.py to retry them, or score them "
                               "as they are (flagged) with --allow_failed")
        src = HYPOTHESIS.match(hyp_path.name).group(1)
        entry = {"n": len(hyps), "failed_lines": failed, "bleu": bleu.corpus_score(hyps, [refs]).score,
                 "chrf": chrf.corpus_score(hyps, [refs]).score,
                 "comet": read_comet_file(hyp_path.with_name(hyp_path.name + ".comet"), len(hyps))}
        if comet_model is not None:
            sources = read_text(data_dir / f"{src}.devtest").splitlines()[: len(hyps)]
            data = [{"src": s, "mt": h, "ref": r} for s, h, r in zip(sources, hyps, refs)]
            entry["comet_computed"] = float(comet_model.predict(data, batch_size=16, progress_bar=False).system_score)
        scores[hyp_path.name.removeprefix("test-")] = entry
    return result_document("translation", {"system": folder.name, "data_dir": str(data_dir), "num_examples": num_examples},
                           system=folder.name, directions=scores,
                           signatures={"bleu": str(bleu.get_signature()), "chrf": str(chrf.get_signature())})


class MetricMissing(CrossknowError):
    """A metric that was asked for could not be computed."""


def load_comet(skip_if_missing: bool = False):
    """The COMET model; one that does not load stops the run, unless the user allows it to be skipped."""
    try:
        from comet import download_model, load_from_checkpoint

        return load_from_checkpoint(download_model("Unbabel/wmt22-comet-da"))
    except Exception as error:  # noqa: BLE001 - any failure to load is reported the same way
        why = f"COMET not computed ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})"
        if not skip_if_missing:
            raise MetricMissing(f"--compute_comet: {why}; install it (pip install -e \".[comet]\") or pass "
                                "--skip_missing_metrics to score without it") from None
        print(f"note: {why}; skipped (--skip_missing_metrics); .comet files are still read")
        return None


def format_table(results: list[dict], metric: str) -> str:
    directions = sorted({d for r in results for d in r["directions"]}, key=lambda d: (not d.startswith("en-"), d))
    width = max(len(r["system"]) for r in results) + 2
    lines = [f"{metric.upper():<{width}}" + "".join(f"{d:>8}" for d in directions)]
    for r in results:
        cells = []
        for d in directions:
            value = r["directions"].get(d, {}).get(metric)
            digits = 3 if metric == "comet" else 1
            flag = "!" if r["directions"].get(d, {}).get("failed_lines") else ""
            cells.append(f"{'-' if value is None else format(value, f'.{digits}f') + flag:>8}")
        lines.append(f"{r['system']:<{width}}" + "".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_output_argument(p, None, "Translation/translate.py's output folders (one system each, or folders of them)",
                        type=Path, nargs="+", required=True)
    p.add_argument("--data_dir", type=Path, default=FLORES_DIR)
    add_limit_argument(p, "first N sentences")
    p.add_argument("--compute_comet", action="store_true",
                   help="score with unbabel-comet; an error if it does not load (see --skip_missing_metrics)")
    p.add_argument("--skip_missing_metrics", action="store_true",
                   help="with --compute_comet: go on without COMET when it does not load (a note says so)")
    p.add_argument("--allow_failed", action="store_true",
                   help="score directions with failed (empty) lines, flagged with ! and listed in scores.json")
    args = p.parse_args(argv)
    comet_model = load_comet(args.skip_missing_metrics) if args.compute_comet else None
    results = [score_system(folder, args.data_dir, args.limit, comet_model, args.allow_failed)
               for folder in system_folders(args.output_dir)]
    for folder, result in zip(system_folders(args.output_dir), results):
        write_result(folder / "scores.json", result)
    for metric in ("bleu", "chrf", "comet"):
        if any(d.get(metric) is not None for r in results for d in r["directions"].values()):
            print(format_table(results, metric) + "\n")
    if any(d["failed_lines"] for r in results for d in r["directions"].values()):
        print("! some lines failed to translate and were scored as empty (failed_lines in scores.json)")
    print(f"BLEU: {results[0]['signatures']['bleu']}\nchrF: {results[0]['signatures']['chrf']}")
    return results


if __name__ == "__main__":
    run(main)
