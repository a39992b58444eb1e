"""The model spec: one parse of a model argument gives its kind, location, tokenizer and tag."""

import pytest

from conftest import load_script
from crossknow.core.model_spec import DEFAULT_MODEL, ModelSpec, api_spec, released_base_tokenizer


@pytest.mark.parametrize("name,kind,path,tag", [
    ("smollm2", "embedded", "smollm2", "SmolLM2-135M-Instruct"),
    ("SmolLM2-135M-Instruct", "embedded", "smollm2-135m-instruct", "SmolLM2-135M-Instruct"),
    ("gemma3-270m", "embedded", "gemma3-270m", "gemma-3-270m"),
    ("openai/gpt-3.5-turbo-0125", "openai", "gpt-3.5-turbo-0125", "gpt-3.5-turbo-0125"),
    ("meta-llama/Meta-Llama-3-8B", "hub", "meta-llama/Meta-Llama-3-8B", "Meta-Llama-3-8B"),
    ("models/x.Q4_K_M.gguf", "gguf", "models/x.Q4_K_M.gguf", "x.Q4_K_M"),
])
def test_kinds_paths_and_tags(name, kind, path, tag):
    spec = ModelSpec.parse(name)
    assert (spec.kind, spec.path, spec.tag, spec.tokenizer) == (kind, path, tag, name)


def test_a_local_folder_its_tokenizer_and_an_explicit_tag(tmp_path):
    folder = tmp_path / "checkpoint-400"
    folder.mkdir()
    spec = ModelSpec.parse(str(folder) + "/", tokenizer="meta-llama/Meta-Llama-3-8B")
    assert (spec.kind, spec.tag, spec.tokenizer) == ("local", "checkpoint-400", "meta-llama/Meta-Llama-3-8B")
    assert spec.location() == (str(folder) + "/", None)
    assert ModelSpec.parse(str(folder), tag="llama3-ft").tag == "llama3-ft"


def test_the_default_model_is_named_once_and_recognised():
    assert ModelSpec.parse(DEFAULT_MODEL).is_default
    assert ModelSpec.parse("embedded").is_default and not ModelSpec.parse("gemma3-270m").is_default
    assert load_script("MMLU/eval.py").parse_args([]).model == DEFAULT_MODEL
    assert load_script("HP/evaluate.py").parse_args([]).model == DEFAULT_MODEL


@pytest.mark.parametrize("name,tokenizer,message", [
    ("openai/", None, "openai/: no model name after openai/"),
    ("openai/gpt-4", "meta-llama/Meta-Llama-3-8B", "an API model takes no tokenizer"),
    ("  ", None, "empty model name"),
])
def test_bad_model_arguments_are_refused(name, tokenizer, message):
    with pytest.raises(ValueError, match=message):
        ModelSpec.parse(name, tokenizer=tokenizer)


def test_a_missing_gguf_file_and_api_weights_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.gguf: GGUF file not found"):
        ModelSpec.parse(str(tmp_path / "missing.gguf")).location()
    with pytest.raises(ValueError, match="openai/gpt-4 is an API model: it has no local weights"):
        ModelSpec.parse("openai/gpt-4").location()


def test_one_model_gets_one_tag_in_every_task(tmp_path, capsys):
    mmlu = load_script("MMLU/eval.py").parse_args(["--model", "smollm2"])
    hp = load_script("HP/evaluate.py").parse_args(["--model_name", "smollm2"])
    assert mmlu.spec == hp.spec and mmlu.spec.tag == "SmolLM2-135M-Instruct"
    with pytest.raises(SystemExit):
        load_script("MMLU/eval.py").parse_args(["--model", "openai/gpt-4", "--arch", "x"])
    assert "--model: openai/gpt-4: an API model takes no tokenizer (--arch x)" in capsys.readouterr().err


@pytest.mark.parametrize("name,base", [
    ("cross-ling-know/llama2-7b-wiki103-en", "meta-llama/Llama-2-7b-hf"),
    ("cross-ling-know/llama3-8b-wiki2-mixed-lang-sentence8words", "meta-llama/Meta-Llama-3-8B"),
    ("cross-ling-know/mixup-lang-mmlu", None),
    ("meta-llama/Meta-Llama-3-8B", None),
])
def test_the_released_checkpoints_tokenizers_come_from_one_table(name, base, tmp_path):
    """The engine and the MMLU launchers read the same table: both give the paper's --arch."""
    from test_launchers import flag, run_launcher

    assert released_base_tokenizer(name) == base
    command = run_launcher("MMLU/scripts/0shot/llama3-8b.sh", tmp_path, MODEL=name)[0]
    assert flag(command, "--arch") == base


@pytest.mark.parametrize("name,kind,path", [
    ("gpt-4-0613", "openai", "gpt-4-0613"),
    ("openai/gpt-4-0613", "openai", "gpt-4-0613"),
])
def test_an_api_model_may_be_named_without_its_prefix_where_only_api_models_go(name, kind, path):
    spec = api_spec(name)
    assert (spec.kind, spec.path, spec.tag) == (kind, path, "gpt-4-0613")
