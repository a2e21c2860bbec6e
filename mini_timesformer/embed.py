"""From a clip to tokens (paper §3, "Decomposition into patches" and "Linear embedding").

Each frame is cut into N = H'·W' patches of P×P pixels, each linearly embedded to D dims
(a Conv2d with kernel = stride = P is exactly that linear map). A learned spatial position
embedding (shared by all frames), a learned time embedding (shared by all patches of a
frame) and a learned CLS token are added. Output tokens are time-major:
``(B, 1 + T·N, D)`` = [CLS, frame 0's N patches, frame 1's N patches, ...].

When the input's T, H' or W' differ from the config, the embeddings are resized on the
fly with nearest-neighbour interpolation (2-D for space, 1-D for time), as the official
code and Hugging Face do, so checkpoints behave identically at new sizes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .config import TimeSformerConfig


class PatchEmbed(nn.Module):
    """Per-frame patch embedding: (B, T, C, H, W) -> (B, T, N, D)."""

    def __init__(self, patch_size: int, in_channels: int, embed_dim: int):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_channels, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        B = video.shape[0]
        frames = rearrange(video, "b t c h w -> (b t) c h w")
        patches = self.proj(frames)  # (B·T, D, H', W')
        return rearrange(patches, "(b t) d h w -> b t (h w) d", b=B)


def resize_pos_embed(pos: torch.Tensor, grid: tuple[int, int], mode: str = "nearest"):
    """Resize a ViT position embedding (1, 1 + h·w, D) to a new (H', W') patch grid.

    The CLS slot (index 0) is kept; the grid part is interpolated in 2-D.
    """
    cls_pos, grid_pos = pos[:, :1], pos[:, 1:]
    side = int(round(grid_pos.shape[1] ** 0.5))
    if (side, side) == tuple(grid):
        return pos
    grid_pos = rearrange(grid_pos, "1 (h w) d -> 1 d h w", h=side)
    kwargs = {} if mode == "nearest" else {"align_corners": False}
    grid_pos = F.interpolate(grid_pos, size=tuple(grid), mode=mode, **kwargs)
    grid_pos = rearrange(grid_pos, "1 d h w -> 1 (h w) d")
    return torch.cat([cls_pos, grid_pos], dim=1)


def resize_time_embed(time: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Resize a time embedding (1, T0, D) to (1, T, D) by 1-D nearest interpolation."""
    if time.shape[1] == num_frames:
        return time
    resized = F.interpolate(time.transpose(1, 2), size=num_frames, mode="nearest")
    return resized.transpose(1, 2)  # (1, D, T) -> (1, T, D)


class VideoEmbedding(nn.Module):
    """Patch embedding + CLS token + spatial and time position embeddings."""

    def __init__(self, cfg: TimeSformerConfig):
        super().__init__()
        D = cfg.embed_dim
        self.patch_embed = PatchEmbed(cfg.patch_size, cfg.in_channels, D)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, D))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + cfg.num_patches, D))  # CLS + grid
        self.time_embed = nn.Parameter(torch.zeros(1, cfg.num_frames, D))
        self.pos_drop = nn.Dropout(cfg.dropout)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        # time_embed starts at zero (official vit.py, not the paper): step 0 = per-frame ViT features

    def forward(self, video: torch.Tensor, use_time: bool = True):
        """Return ``(tokens, grid)`` where grid = (T, H', W').

        ``use_time=True``: tokens (B, 1 + T·N, D), one CLS for the clip.
        ``use_time=False`` (space-only scheme): tokens (B·T, 1 + N, D), frames folded
        into the batch, each frame with its own CLS and no time embedding.
        """
        B, T, _, H, W = video.shape
        grid = (T, H // self.patch_embed.patch_size, W // self.patch_embed.patch_size)
        pos = resize_pos_embed(self.pos_embed, grid[1:])  # (1, 1 + N, D)
        patches = self.patch_embed(video) + pos[:, None, 1:]  # (B, T, N, D)
        cls = (self.cls_token + pos[:, :1]).expand(B, -1, -1)  # (B, 1, D)
        if use_time:
            time = resize_time_embed(self.time_embed, T)  # (1, T, D)
            patches = patches + time[:, :, None]  # same time vector for all N patches
            tokens = torch.cat([cls, rearrange(patches, "b t n d -> b (t n) d")], dim=1)
        else:
            frames = rearrange(patches, "b t n d -> (b t) n d")
            tokens = torch.cat([cls.repeat_interleave(T, dim=0), frames], dim=1)
        return self.pos_drop(tokens), grid
