"""The NumPy MiniLM encoder: unit vectors, meaning-preserving, and batching
(padding) does not change a sentence's vector."""

from __future__ import annotations

import numpy as np
import pytest

from bot.nlu.minilm import MAX_TOKENS, shared_model


@pytest.fixture(scope="module")
def model():
    return shared_model()


def test_vectors_are_unit_length_and_paraphrases_are_closest(model) -> None:
    texts = ["how do I pay my council tax", "I want to pay the council tax bill",
             "there is a pothole in the road", "what's the weather like tomorrow"]
    vectors = np.stack([e.sentence for e in model.encode(texts)])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2
    assert similarity[0, 1] > similarity[0, 3] + 0.2


def test_batching_and_padding_do_not_change_a_vector(model) -> None:
    alone = model.encode(["my bin was not collected"])[0].sentence
    batched = model.encode(["hi", "my bin was not collected", "a much longer sentence about the street lights " * 3])
    assert np.allclose(alone, batched[1].sentence, atol=1e-5)


def test_the_tanh_gelu_gives_the_exact_gelus_vectors(model, monkeypatch) -> None:
    from bot.nlu import minilm

    texts = ["my mum is eighty four and since her fall she cant get in the bath, who do we ring about a walk in shower",
             "pot hole", "counsel tacks direct debit"]
    fast = np.stack([e.sentence for e in model.encode(texts)])
    monkeypatch.setattr(minilm, "_gelu", minilm._gelu_exact)
    exact = np.stack([e.sentence for e in model.encode(texts)])
    assert np.min(np.sum(fast * exact, axis=1)) > 0.99999


def test_word_pieces_carry_their_character_spans(model) -> None:
    encoded = model.encode(["council tacks"])[0]
    assert encoded.spans[0] == (0, 7)
    assert len(encoded.spans) == encoded.pieces.shape[0]


def test_long_and_empty_input_is_cut_not_choked_on(model) -> None:
    long, empty = model.encode(["council tax " * 5000, ""])
    assert long.pieces.shape[0] <= MAX_TOKENS
    assert np.isfinite(long.sentence).all() and np.isfinite(empty.sentence).all()
