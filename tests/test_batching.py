"""The shared batching: left padding with true positions, input order kept, and the embedding
analysis batched by it (its vectors do not depend on the batch size)."""

import numpy as np
import pytest
import torch

from conftest import load_script
from crossknow.core.model_spec import ModelSpec
from crossknow.models.batching import Batcher, pad_left


def test_pad_left_puts_every_last_token_in_the_last_column_with_its_own_positions():
    ids, mask, positions = pad_left([[5, 6, 7], [8]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7], [0, 0, 8]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert positions.tolist() == [[0, 1, 2], [0, 0, 0]]


def test_batches_run_longest_first_and_outputs_come_back_in_input_order():
    seen = []

    def step(batch):
        seen.append([len(s) for s in batch])
        return [sum(s) for s in batch]

    sequences = [[1], [1, 2, 3], [4, 4], [9, 9, 9, 9]]
    assert Batcher(2, min_batch_fill=0.0, show_progress=False).run(sequences, step) == [1, 6, 8, 36]
    assert seen == [[4, 3], [2, 1]]
    # A batch stops growing at a sequence shorter than min_batch_fill of its longest one.
    seen.clear()
    Batcher(4, min_batch_fill=0.75, show_progress=False).run(sequences, step)
    assert seen == [[4, 3], [2], [1]]


def test_a_token_budget_caps_rows_times_longest_and_keeps_one_row():
    seen = []

    def step(batch):
        seen.append([len(s) for s in batch])
        return [len(s) for s in batch]

    sequences = [[1] * 6, [1] * 5, [1] * 5, [1] * 2, [1] * 2, [1] * 2, [1] * 2, [1] * 9]
    out = Batcher(8, min_batch_fill=0.0, show_progress=False, max_batch_tokens=10).run(sequences, step)
    assert out == [6, 5, 5, 2, 2, 2, 2, 9]
    # 9 tokens alone (over budget, still one row); then 6 -> 1 row (2*6 > 10); 5+5 -> 2 rows; 2s -> 4 rows.
    assert seen == [[9], [6], [5, 5], [2, 2, 2, 2]]
    with pytest.raises(ValueError, match="max_batch_tokens must be a positive integer, got 0"):
        Batcher(max_batch_tokens=0)


def test_letter_predictions_do_not_depend_on_the_token_budget(bpe_model_dir):
    from conftest import demo_prompts
    from crossknow.models.hf_backend import HFBackend, load_model

    model, tokenizer = load_model(ModelSpec.parse(str(bpe_model_dir)), dtype="fp32", device="cpu")
    prompts = demo_prompts(k=2, variant="en") + demo_prompts(k=0, variant="mixup")
    runs = {budget: [s.probs for s in HFBackend(model, tokenizer, 16, show_progress=False, max_batch_tokens=budget,
                                                 prefix_cache=prefix).score_letters(prompts, ("A", "B", "C", "D"))]
            for prefix in (False, True) for budget in (None, 1, 300)}
    reference = runs[None]
    for probs in runs.values():
        assert [max(range(4), key=p["paper"].__getitem__) for p in probs] == \
            [max(range(4), key=p["paper"].__getitem__) for p in reference]
        assert np.allclose([p["paper"] for p in probs], [p["paper"] for p in reference], atol=1e-5)


def test_a_bad_batch_size_is_refused():
    with pytest.raises(ValueError, match="batch size must be a positive integer or auto, got 0"):
        Batcher(0)


def test_embedding_analysis_vectors_do_not_depend_on_the_batch_size(bpe_model_dir):
    analysis = load_script("Translation/embedding_analysis.py")
    texts = ["The cat sleeps.", "A much longer sentence about the weather in Paris today.", "Hi"]
    one = analysis.LMEmbedder(str(bpe_model_dir), batch_size=1).embed(texts)
    three = analysis.LMEmbedder(str(bpe_model_dir), batch_size=3).embed(texts)
    assert one["mean"].shape == (3, 3, 64)  # 2 layers + embeddings, 3 texts, hidden size 64
    for pooling in ("mean", "last"):
        np.testing.assert_allclose(one[pooling], three[pooling], atol=1e-5)
    # The last-token vector of a text is the model's final hidden state at its last token, alone.
    embedder = analysis.LMEmbedder(str(bpe_model_dir), batch_size=3)
    ids = torch.tensor([embedder.tokenizer(texts[0]).input_ids], device=embedder.model.device)
    with torch.no_grad():
        alone = embedder.model(input_ids=ids, output_hidden_states=True).hidden_states[-1][0, -1]
    np.testing.assert_allclose(three["last"][-1, 0], alone.float().cpu().numpy(), atol=1e-5)


def test_sampled_generation_does_not_depend_on_batch_size_or_order(bpe_model_dir):
    from conftest import demo_prompts
    from crossknow.models.hf_backend import HFBackend, load_model

    model, tokenizer = load_model(ModelSpec.parse(str(bpe_model_dir)), dtype="fp32", device="cpu")
    prompts = demo_prompts(k=0, variant="en")[:4]

    def sample(batch_size, order, seed=3):
        backend = HFBackend(model, tokenizer, batch_size, show_progress=False)
        texts = backend.generate([prompts[i] for i in order], max_new_tokens=6, do_sample=True, seed=seed)
        return dict(zip(order, texts))

    reference = sample(4, [0, 1, 2, 3])
    assert sample(1, [3, 2, 1, 0]) == reference
    assert sample(2, [2, 0, 3, 1]) == reference
    assert sample(4, [0, 1, 2, 3], seed=4) != reference  # the seed decides the draws
