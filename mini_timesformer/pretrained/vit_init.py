"""ImageNet initialisation from a ViT (paper §4 and Appendix A).

TimeSformer starts from an image ViT (Dosovitskiy et al. 2021) trained on ImageNet:

* patch embedding, CLS token, final LayerNorm and every block's MLP + its LayerNorm are
  copied; the spatial position embedding is copied and 2-D (bicubic) interpolated when
  the patch grid differs from the ViT's;
* **every** attention step of every scheme (LayerNorm, qkv, projection) starts from the
  ViT block's attention — the official code does the same for the temporal attention;
* the added steps' extra Linear (official ``temporal_fc``) and the time embedding start at
  zero, so each added step starts as the identity;
* the classifier is new unless the ViT's head already has ``cfg.num_classes`` outputs.

What this buys exactly (tested in ``tests/test_vit_init.py``):

* ``space``: features = ViT final LayerNorm applied to the frames' *pre-norm* CLS tokens
  averaged over frames (the official space-only averaging), for any clip.
* ``divided``: the time steps add zero, so a block is the ViT block applied to each frame,
  except that the frames share one CLS token (its update is the mean of the per-frame
  updates). Hence features equal the ViT's exactly for a single frame or a clip of
  identical frames; for moving content they are close to, but not exactly, the per-frame
  ViT features averaged — the shared CLS feeds back into the patches from block 2 on.
* ``axial`` / ``local_global``: added steps are the identity; on a single-frame clip one
  patch wide, axial's height step sees the whole frame, i.e. it *is* the ViT.

Weights: a ``timm`` VisionTransformer (module), its state dict, a ``.pth``/``.pt``/``.bin``
or ``.safetensors`` file holding that state dict, or an ``.npz`` of the original JAX ViT
release (e.g. ``ViT-B_16.npz``, ImageNet-21K).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..config import TimeSformerConfig
from ..embed import resize_pos_embed
from ..errors import MissingPathError, UserError
from .formats import vit_key_map


def _read_vit_state(weights) -> dict[str, torch.Tensor]:
    """A timm ViT state dict from a module, a dict or a file."""
    if isinstance(weights, nn.Module):
        return weights.state_dict()
    if isinstance(weights, (str, Path)):
        path = Path(weights)
        if not path.is_file():
            raise MissingPathError(f"no ViT weights file at {path}")
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        if path.suffix == ".npz":
            return _read_jax_npz(path)
        weights = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(weights, dict):
        raise UserError(
            f"expected a timm ViT (module, state dict or file), got {type(weights).__name__}"
        )
    for nested in ("model", "state_dict"):  # common training-checkpoint wrappers
        if nested in weights and isinstance(weights[nested], dict):
            weights = weights[nested]
    return {k.removeprefix("module."): v for k, v in weights.items()}


def _read_jax_npz(path: Path) -> dict[str, torch.Tensor]:
    """The original ViT release (JAX/Flax ``.npz``, e.g. ``ViT-B_16.npz``) -> timm layout.

    Flax Dense kernels are (in, out), i.e. the transpose of ``nn.Linear.weight``; the
    attention's query/key/value kernels are (D, heads, d_h) and its output (heads, d_h, D).
    """
    import numpy as np

    npz = np.load(path)

    def t(key: str) -> torch.Tensor:
        if key not in npz:
            raise UserError(f"{path}: missing {key!r}; expected the original ViT .npz layout")
        return torch.from_numpy(np.asarray(npz[key], dtype=np.float32))

    if "embedding/kernel" not in npz:
        raise UserError(f"{path}: not an original ViT .npz (no 'embedding/kernel')")
    state = {
        "patch_embed.proj.weight": t("embedding/kernel").permute(3, 2, 0, 1),  # (D, C, P, P)
        "patch_embed.proj.bias": t("embedding/bias"),
        "cls_token": t("cls"),
        "pos_embed": t("Transformer/posembed_input/pos_embedding"),
        "norm.weight": t("Transformer/encoder_norm/scale"),
        "norm.bias": t("Transformer/encoder_norm/bias"),
    }
    if "head/kernel" in npz and npz["head/kernel"].size:
        state["head.weight"], state["head.bias"] = t("head/kernel").T, t("head/bias")
    depth = len({k.split("/")[1] for k in npz if k.startswith("Transformer/encoderblock_")})
    for i in range(depth):
        b = f"Transformer/encoderblock_{i}/"
        mha = b + "MultiHeadDotProductAttention_1/"
        dim = t(mha + "query/kernel").shape[0]
        qkv = [t(mha + f"{n}/kernel").reshape(dim, dim).T for n in ("query", "key", "value")]
        state.update(
            {
                f"blocks.{i}.norm1.weight": t(b + "LayerNorm_0/scale"),
                f"blocks.{i}.norm1.bias": t(b + "LayerNorm_0/bias"),
                f"blocks.{i}.attn.qkv.weight": torch.cat(qkv),  # (3·D, D): q, k, v rows
                f"blocks.{i}.attn.qkv.bias": torch.cat(
                    [t(mha + f"{n}/bias").reshape(dim) for n in ("query", "key", "value")]
                ),
                f"blocks.{i}.attn.proj.weight": t(mha + "out/kernel").reshape(dim, dim).T,
                f"blocks.{i}.attn.proj.bias": t(mha + "out/bias"),
                f"blocks.{i}.norm2.weight": t(b + "LayerNorm_2/scale"),
                f"blocks.{i}.norm2.bias": t(b + "LayerNorm_2/bias"),
            }
        )
        for j, fc in ((0, "fc1"), (1, "fc2")):
            dense = b + f"MlpBlock_3/Dense_{j}/"
            state[f"blocks.{i}.mlp.{fc}.weight"] = t(dense + "kernel").T
            state[f"blocks.{i}.mlp.{fc}.bias"] = t(dense + "bias")
    return {k: v.contiguous() for k, v in state.items()}


def _check_vit(vit: dict, cfg: TimeSformerConfig) -> int:
    """One-line errors when the ViT cannot initialise ``cfg``; returns the ViT's depth."""
    for key in ("cls_token", "pos_embed", "patch_embed.proj.weight", "norm.weight"):
        if key not in vit:
            raise UserError(f"not a timm ViT state dict: missing {key!r}")
    depth = 1 + max((int(k.split(".")[1]) for k in vit if k.startswith("blocks.")), default=-1)
    known = set(vit_key_map(["vit"], depth).values())  # the timm layout of formats.py's table
    for key in vit:
        if key not in known:
            raise UserError(
                f"unsupported ViT variant: key {key!r} has no place in a "
                f"TimeSformer (plain ViT with a CLS token expected)"
            )
    dim, patch = vit["cls_token"].shape[-1], vit["patch_embed.proj.weight"].shape[-1]
    if dim != cfg.embed_dim:
        raise UserError(f"ViT width {dim} does not match config embed_dim {cfg.embed_dim}")
    if patch != cfg.patch_size:
        raise UserError(f"ViT patch size {patch} does not match config patch_size {cfg.patch_size}")
    channels = vit["patch_embed.proj.weight"].shape[1]
    if channels != cfg.in_channels:
        raise UserError(f"ViT takes {channels} channels, config in_channels {cfg.in_channels}")
    if depth != cfg.depth:
        raise UserError(f"ViT depth {depth} does not match config depth {cfg.depth}")
    hidden = vit["blocks.0.mlp.fc1.weight"].shape[0]
    if hidden != int(cfg.embed_dim * cfg.mlp_ratio):
        raise UserError(
            f"ViT MLP width {hidden} does not match config "
            f"embed_dim·mlp_ratio = {int(cfg.embed_dim * cfg.mlp_ratio)}"
        )
    if ("blocks.0.attn.qkv.bias" in vit) != cfg.qkv_bias:
        raise UserError(
            f"ViT qkv bias {'blocks.0.attn.qkv.bias' in vit} does not match "
            f"config qkv_bias {cfg.qkv_bias}"
        )
    side = (vit["pos_embed"].shape[1] - 1) ** 0.5
    if side != int(side):
        raise UserError(f"ViT pos_embed {tuple(vit['pos_embed'].shape)} is not CLS + a square grid")
    return depth


def resample_pos_embed(pos: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """The ViT's (1, 1 + n, D) position embedding on a (H', W') grid: 2-D bicubic, CLS kept.

    timm's ``resample_abs_pos_embed`` where timm is installed (it is optional at run time),
    else ``embed.resize_pos_embed``: the same interpolation (no antialiasing, our choice, so
    both give one tensor; tested).
    """
    try:
        from timm.layers import resample_abs_pos_embed
    except ImportError:
        return resize_pos_embed(pos.float(), grid, "bicubic")
    return resample_abs_pos_embed(
        pos.float(), list(grid), num_prefix_tokens=1, interpolation="bicubic", antialias=False
    )


def init_from_vit(model_class, cfg: TimeSformerConfig, weights):
    """A ``model_class(cfg)`` (a TimeSformer) initialised from ImageNet ViT ``weights``;
    users call it as ``TimeSformer.from_vit(cfg, weights)``.

    If ``weights`` is a timm model whose ``pretrained_cfg`` names its normalisation, the
    returned model's config carries that mean/std (ViT: 0.5 / 0.5).
    """
    if isinstance(weights, nn.Module):
        pretrained = getattr(weights, "pretrained_cfg", None) or {}
        if "mean" in pretrained and "std" in pretrained:
            cfg = cfg.replace(mean=tuple(pretrained["mean"]), std=tuple(pretrained["std"]))
    vit = _read_vit_state(weights)
    depth = _check_vit(vit, cfg)
    model = model_class(cfg)
    state = model.state_dict()
    head = vit.get("head.weight")
    new_head = not cfg.num_classes or head is None or head.shape[0] != cfg.num_classes
    with torch.no_grad():
        for ours, theirs in vit_key_map(list(model.blocks[0].steps), depth).items():
            if ours not in state or (ours.startswith("head.") and new_head):
                continue  # no qkv bias (checked to match the ViT's); a new classifier
            if theirs not in vit:
                raise UserError(f"not a timm ViT state dict: missing {theirs!r}")
            state[ours] = vit[theirs]
        grid = (cfg.grid_size, cfg.grid_size)  # (1, 1 + n, D) -> (1, 1 + N, D)
        state["embed.pos_embed"] = resample_pos_embed(vit["pos_embed"], grid)
        for key in state:  # no ViT counterpart: zero, so each added step is the identity
            if key == "embed.time_embed" or ".extra." in key:
                state[key] = torch.zeros_like(state[key])
    model.load_state_dict(state, strict=True)
    return model
