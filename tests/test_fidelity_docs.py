"""What the READMEs say about the paper's differences and the bundled translations, checked against
the files: every item of the MMLU, FT and HP difference lists names the file and the flag (or
setting, or launcher variable) that controls it (HP's flags are those HP/evaluate.py takes), and
every bundled demo translation names its translator."""

import json
import re

import pytest

from conftest import ROOT, load_script

FILE = re.compile(r"`[\w./-]+\.(?:py|yaml|sh|json)\b")
CONTROL = re.compile(r"`[^`]*--\w+|`[A-Z][A-Z_]{2,}`|no flag")


def difference_items(readme: str) -> list[str]:
    """The bullets of a README's "Differences from the paper" section, one string each."""
    text = (ROOT / readme).read_text(encoding="utf-8")
    section = text.split("## Differences from the paper", 1)[1].split("\n## ", 1)[0]
    return [" ".join(item.split()) for item in re.split(r"\n(?=- )", section) if item.startswith("- ")]


@pytest.mark.parametrize("readme", ["MMLU/README.md", "FT/README.md", "HP/README.md"])
def test_every_difference_names_its_file_and_flag(readme):
    items = difference_items(readme)
    assert len(items) >= 3
    for item in items:
        if item.startswith("- Not a difference"):
            continue
        assert FILE.search(item), f"{readme}: names no file: {item[:80]}"
        assert CONTROL.search(item), f"{readme}: names no flag or setting: {item[:80]}"


def test_the_issue_23_differences_are_listed():
    mmlu = " ".join(difference_items("MMLU/README.md"))
    for topic in ("Translate-then-answer decoding", "Reading GPT's replies", "fp16 near-ties"):
        assert f"**{topic}**" in mmlu
    assert "Only fp32 gives exact parity" in mmlu and "0.4%" in mmlu and "(1%)" in mmlu
    ft = " ".join(difference_items("FT/README.md"))
    for topic in ("Examples: packed or per line", "BOS", "Corpus translation"):
        assert f"**{topic}**" in ft


def test_the_hp_differences_name_flags_that_hp_evaluate_takes(capsys):
    items = difference_items("HP/README.md")
    for topic in ("Tokenizer class", "Batching", "Precision on a CPU"):
        assert any(item.startswith(f"- **{topic}** (") for item in items), topic
    with pytest.raises(SystemExit):
        load_script("HP/evaluate.py").parse_args(["--help"])
    known = set(re.findall(r"--\w+", capsys.readouterr().out))
    named = {flag for item in items for flag in re.findall(r"--\w+", item)}
    assert named >= {"--answer_token", "--batch_size", "--no_prefix_cache", "--dtype", "--model_args"}
    assert named <= known, f"flags HP/evaluate.py does not take: {sorted(named - known)}"


def test_every_bundled_demo_translation_names_its_translator():
    folders = sorted((ROOT / "MMLU/data/demo").glob("*_full_*"))
    assert len(folders) == 18  # dev and test, nine languages
    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        split, language = folder.name.split("_full_")
        assert (manifest["split"], manifest["language"], manifest["subjects"]) == (split, language, 5)
        assert manifest["rows"] == (25 if split == "dev" else 50)
        assert manifest["translator"] == "crossknow project"
        assert manifest["reviewed"] == "not by a professional or native-speaker translator"


def test_global_mmlu_is_described_in_its_cards_terms():
    for path in ("MMLU/README.md", "MMLU/translate.py", "README.md"):
        text = (ROOT / path).read_text(encoding="utf-8")
        assert not re.search(r"Global-MMLU[^.]*human translations", text), path
    readme = " ".join((ROOT / "MMLU/README.md").read_text(encoding="utf-8").split())
    assert ('"machine translations for MMLU questions along with professional translations and crowd-sourced '
            'post-edits"') in readme


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors_of(path: str) -> set[str]:
    return {github_anchor(h) for h in re.findall(r"^#+ (.+)$", (ROOT / path).read_text(encoding="utf-8"), re.M)}


def test_every_link_to_benchmarks_md_or_within_a_readme_reaches_a_section():
    readmes = ("README.md", "MMLU/README.md", "FT/README.md", "Synthetic/README.md", "BENCHMARKS.md")
    anchors = {readme: anchors_of(readme) for readme in readmes}
    broken, checked = [], 0
    for readme in readmes:
        text = (ROOT / readme).read_text(encoding="utf-8")
        for to_benchmarks, within in re.findall(r"BENCHMARKS\.md#([\w-]+)|\]\(#([\w-]+)\)", text):
            target, anchor = ("BENCHMARKS.md", to_benchmarks) if to_benchmarks else (readme, within)
            checked += 1
            if anchor not in anchors[target]:
                broken.append((readme, target, anchor))
    assert checked >= 8
    assert broken == []
