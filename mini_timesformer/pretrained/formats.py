"""Key layouts of the published TimeSformer checkpoints and how they map onto ours.

Three layouts hold the same weights of the ``space``, ``joint`` and ``divided`` schemes
(paper §3): ours (``model.py``), Hugging Face ``TimesformerForVideoClassification`` and the
official code's ``.pyth`` files (``checkpoint["model_state"]``). The mapping is one to one,
so converting is renaming; the maths is the same (checked numerically in the tests).

``{i}`` is the block index; ``{vit}`` is the step that plays the ViT attention
(``space`` for divided and space, ``joint`` for joint); the ``time`` rows exist only for
``divided``. Every row holds ``.weight`` and ``.bias`` unless it is a bare tensor.

| ours                             | Hugging Face (prefix ``timesformer.``)             | official (prefix ``model.``)  |
|----------------------------------|----------------------------------------------------|-------------------------------|
| embed.patch_embed.proj           | embeddings.patch_embeddings.projection             | patch_embed.proj              |
| embed.cls_token                  | embeddings.cls_token                               | cls_token                     |
| embed.pos_embed                  | embeddings.position_embeddings                     | pos_embed                     |
| embed.time_embed (1)             | embeddings.time_embeddings                         | time_embed                    |
| blocks.{i}.steps.time.norm       | encoder.layer.{i}.temporal_layernorm               | blocks.{i}.temporal_norm1     |
| blocks.{i}.steps.time.attn.qkv   | encoder.layer.{i}.temporal_attention.attention.qkv | blocks.{i}.temporal_attn.qkv  |
| blocks.{i}.steps.time.attn.proj  | encoder.layer.{i}.temporal_attention.output.dense  | blocks.{i}.temporal_attn.proj |
| blocks.{i}.steps.time.extra      | encoder.layer.{i}.temporal_dense                   | blocks.{i}.temporal_fc        |
| blocks.{i}.steps.{vit}.norm      | encoder.layer.{i}.layernorm_before                 | blocks.{i}.norm1              |
| blocks.{i}.steps.{vit}.attn.qkv  | encoder.layer.{i}.attention.attention.qkv          | blocks.{i}.attn.qkv           |
| blocks.{i}.steps.{vit}.attn.proj | encoder.layer.{i}.attention.output.dense           | blocks.{i}.attn.proj          |
| blocks.{i}.norm                  | encoder.layer.{i}.layernorm_after                  | blocks.{i}.norm2              |
| blocks.{i}.mlp.fc1               | encoder.layer.{i}.intermediate.dense               | blocks.{i}.mlp.fc1            |
| blocks.{i}.mlp.fc2               | encoder.layer.{i}.output.dense                     | blocks.{i}.mlp.fc2            |
| norm                             | layernorm                                          | norm                          |
| head                             | ``classifier`` (no prefix)                         | head                          |

(1) The space-only checkpoints have no time embedding; our ``space`` model keeps an unused
zero one so that all schemes share one layout. Hugging Face orders patch tokens space-major
(``(h w t)``) and we order them time-major (``(t h w)``); attention within the same groups
does not depend on the order, so the weights are identical.
"""

from __future__ import annotations

import re

import torch

from ..config import TimeSformerConfig, canonical_scheme
from ..errors import UserError

HF_PREFIX = "timesformer."
OFFICIAL_PREFIX = "model."

# (ours, Hugging Face, official), without the prefixes; see the table above.
_EMBED_ROWS = [
    (
        "embed.patch_embed.proj.weight",
        "embeddings.patch_embeddings.projection.weight",
        "patch_embed.proj.weight",
    ),
    (
        "embed.patch_embed.proj.bias",
        "embeddings.patch_embeddings.projection.bias",
        "patch_embed.proj.bias",
    ),
    ("embed.cls_token", "embeddings.cls_token", "cls_token"),
    ("embed.pos_embed", "embeddings.position_embeddings", "pos_embed"),
    ("embed.time_embed", "embeddings.time_embeddings", "time_embed"),
]
_ADDED_STEP_ROWS = [  # divided only: the temporal step
    ("steps.time.norm", "temporal_layernorm", "temporal_norm1"),
    ("steps.time.attn.qkv", "temporal_attention.attention.qkv", "temporal_attn.qkv"),
    ("steps.time.attn.proj", "temporal_attention.output.dense", "temporal_attn.proj"),
    ("steps.time.extra", "temporal_dense", "temporal_fc"),
]
_BLOCK_ROWS = [
    ("steps.{vit}.norm", "layernorm_before", "norm1"),
    ("steps.{vit}.attn.qkv", "attention.attention.qkv", "attn.qkv"),
    ("steps.{vit}.attn.proj", "attention.output.dense", "attn.proj"),
    ("norm", "layernorm_after", "norm2"),
    ("mlp.fc1", "intermediate.dense", "mlp.fc1"),
    ("mlp.fc2", "output.dense", "mlp.fc2"),
]
_FINAL_ROWS = [
    ("norm.weight", "layernorm.weight", "norm.weight"),
    ("norm.bias", "layernorm.bias", "norm.bias"),
]
_HEAD = ("head", "classifier", "head")  # HF's classifier sits outside the "timesformer." prefix
_CONVERTIBLE = ("space", "joint", "divided")


def key_map(attention: str, depth: int, fmt: str) -> dict[str, str]:
    """Our key -> the key in ``fmt`` ("hf" or "official"), for one scheme and depth."""
    attention = canonical_scheme(attention)
    if attention not in _CONVERTIBLE:
        raise UserError(
            f"the {attention!r} scheme has no Hugging Face or official checkpoint "
            f"layout; only {', '.join(_CONVERTIBLE)} do"
        )
    col = {"hf": 1, "official": 2}[fmt]
    prefix = HF_PREFIX if fmt == "hf" else OFFICIAL_PREFIX
    vit = "joint" if attention == "joint" else "space"
    block_rows = (_ADDED_STEP_ROWS if attention == "divided" else []) + _BLOCK_ROWS
    layer = "encoder.layer.{i}." if fmt == "hf" else "blocks.{i}."
    mapping = {row[0]: prefix + row[col] for row in _EMBED_ROWS + _FINAL_ROWS}
    for i in range(depth):
        for row in block_rows:
            for leaf in ("weight", "bias"):
                ours = f"blocks.{i}." + row[0].format(vit=vit) + "." + leaf
                mapping[ours] = prefix + layer.format(i=i) + row[col] + "." + leaf
    for leaf in ("weight", "bias"):
        head = _HEAD[col] if fmt == "hf" else prefix + _HEAD[col]
        mapping[f"{_HEAD[0]}.{leaf}"] = f"{head}.{leaf}"
    return mapping


def vit_key_map(steps, depth: int) -> dict[str, str]:
    """Our key -> the timm ViT key it starts from (ImageNet init, paper §4 / Appendix A).

    The official column of the table is timm's ViT layout (official
    ``timesformer/models/vit.py`` builds on it) without its prefix: every attention step in
    ``steps`` maps to the ViT block's ``norm1``/``attn`` (Appendix A: the attentions "are
    initialized with the same weights"). The time embedding and the added steps' ``extra``
    Linear have no ViT counterpart and are absent.
    """
    rows = [row for row in _EMBED_ROWS + _FINAL_ROWS if row[0] != "embed.time_embed"]
    mapping = {row[0]: row[2] for row in rows}
    for i in range(depth):
        for ours, _, timm in _BLOCK_ROWS:
            for step in steps if "{vit}" in ours else [None]:
                for leaf in ("weight", "bias"):
                    key = f"blocks.{i}.{ours.format(vit=step)}.{leaf}"
                    mapping[key] = f"blocks.{i}.{timm}.{leaf}"
    for leaf in ("weight", "bias"):
        mapping[f"{_HEAD[0]}.{leaf}"] = f"{_HEAD[2]}.{leaf}"
    return mapping


def _depth_of(keys, pattern: str) -> int:
    indices = [int(m.group(1)) for k in keys if (m := re.search(pattern, k))]
    return max(indices) + 1 if indices else 0


def infer_attention(keys, fmt: str) -> str:
    """divided if temporal weights exist, else joint if a time embedding exists, else space."""
    keys = list(keys)
    temporal = "temporal_attention." if fmt == "hf" else "temporal_attn."
    if any(temporal in k for k in keys):
        return "divided"
    time = "time_embeddings" if fmt == "hf" else "time_embed"
    return "joint" if any(k.endswith(time) for k in keys) else "space"


def _convert_in(
    state: dict, fmt: str, attention: str | None, num_frames: int
) -> dict[str, torch.Tensor]:
    layer = r"encoder\.layer\.(\d+)\." if fmt == "hf" else r"blocks\.(\d+)\."
    attention = canonical_scheme(attention or infer_attention(state, fmt))
    theirs_to_ours = {v: k for k, v in key_map(attention, _depth_of(state, layer), fmt).items()}
    ours = {}
    for key, value in state.items():
        if key not in theirs_to_ours:
            raise UserError(
                f"unexpected key {key!r} in a {fmt} {attention} checkpoint "
                f"(no counterpart in our layout; see formats.py)"
            )
        ours[theirs_to_ours[key]] = value
    if attention == "space" and "embed.time_embed" not in ours and "embed.pos_embed" in ours:
        pos = ours["embed.pos_embed"]  # space-only files have no time embedding: ours is unused
        ours["embed.time_embed"] = pos.new_zeros(1, num_frames, pos.shape[-1])
    return ours


def convert_hf_state_dict(
    hf_state_dict: dict, attention: str | None = None, num_frames: int = 8
) -> dict:
    """Hugging Face ``TimesformerForVideoClassification`` (or ``TimesformerModel``) state
    dict -> ours. ``attention`` is inferred from the keys when not given.

    A space-only file has no time embedding; it gets a zero ``embed.time_embed`` of
    ``num_frames`` steps (the ``space`` scheme never uses it).
    """
    state = {}
    for key, value in hf_state_dict.items():  # a bare TimesformerModel has no prefix
        bare = key.startswith(("embeddings.", "encoder.", "layernorm."))
        state[HF_PREFIX + key if bare else key] = value
    return _convert_in(state, "hf", attention, num_frames)


def convert_official_state_dict(
    state_dict: dict, attention: str | None = None, num_frames: int = 8
) -> dict:
    """Official TimeSformer ``checkpoint["model_state"]`` (keys ``model.…``) -> ours.

    Accepts the whole checkpoint dict too (it then reads ``model_state``)."""
    if "model_state" in state_dict:
        state_dict = state_dict["model_state"]
    state = {}
    for key, value in state_dict.items():  # tolerate files saved without the prefix
        state[key if key.startswith(OFFICIAL_PREFIX) else OFFICIAL_PREFIX + key] = value
    return _convert_in(state, "official", attention, num_frames)


def _convert_out(state: dict, cfg: TimeSformerConfig, fmt: str) -> dict[str, torch.Tensor]:
    mapping = key_map(cfg.attention, cfg.depth, fmt)
    out = {}
    for key, value in state.items():
        if cfg.attention == "space" and key == "embed.time_embed":
            continue  # unused by space-only; their layouts have no such tensor
        out[mapping[key]] = value.detach().clone()
    return out


def to_hf_state_dict(model) -> dict:
    """Our model -> a state dict for ``TimesformerForVideoClassification`` (strict load)."""
    return _convert_out(model.state_dict(), model.config, "hf")


def to_official_state_dict(model) -> dict:
    """Our model -> ``{"model_state": {...}}`` in the official ``.pyth`` layout."""
    return {"model_state": _convert_out(model.state_dict(), model.config, "official")}


# ---------------------------------------------------------------- configs
def config_from_hf(hf_config, **overrides) -> TimeSformerConfig:
    """A Hugging Face ``TimesformerConfig`` (object or dict, e.g. ``config.json``) -> ours.

    Label names come from ``id2label`` unless they are HF's defaults (``LABEL_0``...).
    Normalisation defaults to 0.5 / 0.5, the processor HF's conversion script used;
    ``from_pretrained`` overrides it with ``preprocessor_config.json`` when present.
    """
    c = hf_config.to_dict() if hasattr(hf_config, "to_dict") else dict(hf_config)
    if c.get("hidden_act", "gelu") != "gelu":
        raise UserError(f"hidden_act {c['hidden_act']!r} is not supported; expected 'gelu'")
    size, patch = c.get("image_size", 224), c.get("patch_size", 16)
    for name, value in (("image_size", size), ("patch_size", patch)):
        if isinstance(value, (list, tuple)):
            if len(set(value)) != 1:
                raise UserError(f"{name} {value} is not square; expected one integer")
    size = size[0] if isinstance(size, (list, tuple)) else size
    patch = patch[0] if isinstance(patch, (list, tuple)) else patch
    id2label = c.get("id2label") or {}
    num_classes = c.get("num_labels", len(id2label)) if not id2label else len(id2label)
    names = [id2label[k] for k in sorted(id2label, key=int)]
    if names == [f"LABEL_{i}" for i in range(len(names))]:
        names = None
    hidden = c.get("hidden_size", 768)
    values = dict(
        num_frames=c.get("num_frames", 8),
        image_size=size,
        patch_size=patch,
        in_channels=c.get("num_channels", 3),
        embed_dim=hidden,
        depth=c.get("num_hidden_layers", 12),
        num_heads=c.get("num_attention_heads", 12),
        mlp_ratio=c.get("intermediate_size", 4 * hidden) / hidden,
        qkv_bias=c.get("qkv_bias", True),
        num_classes=num_classes,
        attention=c.get("attention_type", "divided_space_time"),
        drop_path_rate=float(c.get("drop_path_rate", 0.0)),
        dropout=c.get("hidden_dropout_prob", 0.0),
        attention_dropout=c.get("attention_probs_dropout_prob", 0.0),
        layer_norm_eps=c.get("layer_norm_eps", 1e-6),
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        label_names=names,
    )
    return TimeSformerConfig.from_dict({**values, **overrides})


def config_from_official(state: dict, **overrides) -> TimeSformerConfig:
    """Infer a config from our-layout weights converted from an official file.

    The weights fix dims, patch, grid, frames, depth, MLP width, qkv bias, classes and
    scheme; they do not fix the number of heads, which defaults to the ViT rule
    embed_dim / 64 (ViT-Ti 3, ViT-S 6, ViT-B 12, ViT-L 16) unless ``num_heads`` is given.
    """
    dim = state["embed.pos_embed"].shape[-1]
    patch = state["embed.patch_embed.proj.weight"].shape[-1]
    grid = round((state["embed.pos_embed"].shape[1] - 1) ** 0.5)
    fc1 = state["blocks.0.mlp.fc1.weight"]
    head = state.get("head.weight")
    values = dict(
        embed_dim=dim,
        patch_size=patch,
        image_size=grid * patch,
        in_channels=state["embed.patch_embed.proj.weight"].shape[1],
        num_frames=state["embed.time_embed"].shape[1],
        depth=_depth_of(state, r"^blocks\.(\d+)\."),
        num_heads=max(1, dim // 64),
        mlp_ratio=fc1.shape[0] / dim,
        qkv_bias=any(k.endswith("attn.qkv.bias") for k in state),
        num_classes=0 if head is None else head.shape[0],
        attention="divided"
        if any(".steps.time." in k for k in state)
        else ("joint" if any(".steps.joint." in k for k in state) else "space"),
    )
    return TimeSformerConfig.from_dict({**values, **overrides})
