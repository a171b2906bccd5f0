"""LoTLIP-style corner tokens in open_clip's causal CLIP text tower (the LoTLIP paper).

A corner-token model is an open_clip `CLIP` whose token-embedding table has K extra rows
(ids `base_vocab .. base_vocab + K - 1`, the corner tokens). The text sequence is

    [SOT] text ... [C0] ... [C(K-1)] [EOT] [PAD] ...

so the corners sit just before end-of-text. On top of the causal mask, nobody attends to
the K + 1 special positions (the corners and EOT) except each of them to itself: the text
tokens never see a corner, and the corners and EOT never see each other. EOT and every
corner therefore summarise the same text independently. The pooled features are taken at
`eot - i` for i = 0..K; feature 0 (EOT) is the model's text embedding at evaluation.

With K = 0 this is exactly open_clip's CLIP text encoding (causal mask, EOT pooling).
Either way the padding after the batch's last EOT is dropped before the tower runs: the
tower is causal, so no pooled feature depends on it, and short texts cost a fraction of the
full context length. Models written by lipeval's trainer (K = 0 or more) are trained and
evaluated through this one path.

The model adds no parameters or buffers to `CLIP`, so its state dict is a plain open_clip
state dict and open_clip's factory and checkpoint loader build and load it; the behaviour is
switched on by `convert()`, driven by the block that the trainer writes into the run
folder's `open_clip_config.json` under the key `MARKER_KEY`.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from open_clip.model import CLIP

MARKER_KEY = "lipeval"
VARIANT = "corner_text"  # K > 0 corner tokens
PLAIN = "clip"  # K = 0: open_clip's CLIP text encoding


def corner_attention_allowed(eot_pos: torch.Tensor, seq_len: int, num_corners: int) -> torch.Tensor:
    """Boolean [B, L, L] matrix, True where query row q may attend to key column k.

    Causal base; the columns of the K + 1 special positions (eot - K .. eot) are closed for
    every row, then each special position is re-opened on its own diagonal entry.
    """
    b = eot_pos.shape[0]
    device = eot_pos.device
    idx = torch.arange(seq_len, device=device)
    allowed = (idx[None, :] <= idx[:, None]).expand(b, seq_len, seq_len).clone()  # causal: k <= q
    first = (eot_pos - num_corners)[:, None]
    special = (idx[None, :] >= first) & (idx[None, :] <= eot_pos[:, None])  # [B, L]
    allowed &= ~special[:, None, :]
    diag = torch.diag_embed(special)  # [B, L, L], True on special diagonal entries
    return allowed | diag


def corner_attention_mask(eot_pos: torch.Tensor, seq_len: int, num_corners: int, heads: int,
                          dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Additive mask [B * heads, L, L] (0 where allowed, -inf elsewhere) for nn.MultiheadAttention."""
    allowed = corner_attention_allowed(eot_pos, seq_len, num_corners)
    mask = torch.zeros(allowed.shape, dtype=dtype, device=allowed.device)
    mask.masked_fill_(~allowed, float("-inf"))
    return mask.repeat_interleave(heads, dim=0)


class CornerTokenizer:
    """open_clip's tokenizer plus K corner ids inserted just before end-of-text.

    The text is tokenised by the wrapped tokenizer at `context_length - K` (so its own
    truncation rule applies: the first tokens are kept and the last is forced to EOT), then
    the corner ids are inserted before EOT, giving exactly `context_length` ids.
    """

    truncation_rule = "keep_first_corners_eot_last"

    def __init__(self, base, context_length: int, num_corners: int, base_vocab: int):
        if context_length - num_corners < 2:
            raise ValueError(f"context length {context_length} leaves no room for {num_corners} corner tokens")
        self.base = base
        self.context_length = context_length
        self.num_corners = num_corners
        self.corner_ids = list(range(base_vocab, base_vocab + num_corners))
        self.eot_token_id = base.eot_token_id
        self.sot_token_id = base.sot_token_id

    def encode(self, text: str) -> list[int]:
        return self.base.encode(text)

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Length of each full sequence before truncation: SOT + text + corners + EOT."""
        return [len(self.base.encode(t)) + 2 + self.num_corners for t in texts]

    def __call__(self, texts, context_length: int | None = None) -> torch.Tensor:
        if isinstance(texts, str):
            texts = [texts]
        length = context_length or self.context_length
        base = self.base(texts, context_length=length - self.num_corners)
        return insert_corners(base, self.eot_token_id, self.corner_ids)


def insert_corners(tokens: torch.Tensor, eot_id: int, corner_ids: list[int]) -> torch.Tensor:
    """[B, n] ids holding one EOT each -> [B, n + K] with the corner ids placed before EOT."""
    k = len(corner_ids)
    b, n = tokens.shape
    eot = (tokens == eot_id).int().argmax(dim=1)
    if not bool((tokens[torch.arange(b), eot] == eot_id).all()):
        raise ValueError("every token row needs an end-of-text id")
    out = torch.zeros(b, n + k, dtype=tokens.dtype)
    pos = torch.arange(n)[None, :].expand(b, n)
    shifted = pos + k * (pos >= eot[:, None])  # ids from EOT on move K places right
    out.scatter_(1, shifted, tokens)
    corners = torch.tensor(corner_ids, dtype=tokens.dtype)
    out[torch.arange(b)[:, None], eot[:, None] + torch.arange(k)[None, :]] = corners
    return out


class CornerTextCLIP(CLIP):
    """open_clip CLIP whose text tower carries K >= 0 corner tokens; see the module docstring.

    Built by `convert(clip_model, ...)`; never constructed directly, so open_clip's factory
    stays the only place a model is built.
    """

    num_corners: int
    eot_token_id: int

    def _text_tokens(self, text: torch.Tensor) -> torch.Tensor:
        """Final-layer token states [B, L, width], after ln_final, under the corner mask."""
        cast_dtype = self.transformer.get_cast_dtype()
        seq_len = text.shape[1]
        x = self.token_embedding(text).to(cast_dtype)
        x = x + self.positional_embedding[:seq_len].to(cast_dtype)
        if self.num_corners:
            eot = self.eot_positions(text)
            mask = corner_attention_mask(eot, seq_len, self.num_corners,
                                         self.transformer.resblocks[0].attn.num_heads, dtype=x.dtype)
        else:
            mask = self.attn_mask[:seq_len, :seq_len]  # open_clip's causal mask
        x = self.transformer(x, attn_mask=mask)
        return self.ln_final(x)

    def eot_positions(self, text: torch.Tensor) -> torch.Tensor:
        return (text == self.eot_token_id).int().argmax(dim=-1)

    def _project(self, x: torch.Tensor) -> torch.Tensor:
        if self.text_projection is None:
            return x
        if isinstance(self.text_projection, torch.nn.Linear):
            return self.text_projection(x)
        return x @ self.text_projection

    def encode_text_all(self, text: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """[B, K + 1, D]: the EOT feature, then the corner features at eot-1, ..., eot-K.

        The padding after the batch's last EOT is dropped first (exact, see the module docstring).
        """
        eot = self.eot_positions(text)
        text = text[:, :int(eot.max()) + 1]
        x = self._text_tokens(text)
        rows = torch.arange(x.shape[0], device=x.device)[:, None]
        cols = eot[:, None] - torch.arange(self.num_corners + 1, device=x.device)[None, :]
        feats = self._project(x[rows, cols])
        return F.normalize(feats, dim=-1) if normalize else feats

    def encode_text(self, text: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """The EOT feature only: what evaluation uses."""
        return self.encode_text_all(text, normalize=normalize)[:, 0]


def convert(model: CLIP, num_corners: int, eot_token_id: int) -> CornerTextCLIP:
    """Switch an open_clip CLIP (built with K extra vocabulary rows) to this text encoding (K >= 0)."""
    if not isinstance(model, CLIP):
        raise TypeError(f"corner tokens need open_clip's CLIP text tower, got {type(model).__name__}")
    if num_corners < 0:
        raise ValueError(f"num_corners must be >= 0, got {num_corners}")
    if getattr(model, "text_pool_type", "argmax") not in ("argmax", "eos"):
        raise ValueError(f"the text tower pools with {model.text_pool_type!r}; EOT pooling is needed")
    model.__class__ = CornerTextCLIP  # adds methods only: no parameters, buffers or state
    model.num_corners = int(num_corners)
    model.eot_token_id = int(eot_token_id)
    return model


def marker(num_corners: int, context_length: int, base_vocab: int, eot_token_id: int) -> dict:
    """The block written into open_clip_config.json under MARKER_KEY."""
    return {"variant": VARIANT if num_corners else PLAIN, "num_corner_tokens": int(num_corners),
            "context_length": int(context_length), "base_vocab_size": int(base_vocab),
            "eot_token_id": int(eot_token_id)}


def read_marker(folder: Path | str) -> dict | None:
    """The trainer's block in a model folder's open_clip_config.json, or None (any other model)."""
    path = Path(folder) / "open_clip_config.json"
    if not path.is_file():
        return None
    try:
        block = json.loads(path.read_text()).get(MARKER_KEY) or {}
    except (ValueError, AttributeError):
        return None
    return block if block.get("variant") in (VARIANT, PLAIN) and "eot_token_id" in block else None


def apply_marker(model, tokenizer, block: dict):
    """(model, tokenizer) switched to the text encoding described by `block`."""
    k = int(block["num_corner_tokens"])
    model = convert(model, k, int(block["eot_token_id"]))
    if k:
        tokenizer = CornerTokenizer(tokenizer, int(block["context_length"]), k, int(block["base_vocab_size"]))
    return model, tokenizer
