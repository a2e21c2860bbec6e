"""Synthetic clips generated on the fly: the course's offline dataset.

``motion``: 8 classes in four direction pairs. An object (random shape, two-tone) moves,
turns about a pivot or changes size on a textured, noisy background. Class
``2k + 1`` is class ``2k`` played backwards — its parameters are drawn exactly as for
``2k`` and the per-frame states reversed — so the set of frames of a clip says which pair
it belongs to but only their order gives the direction: a model blind to frame order
(the ``space`` scheme averages frames) is capped at 50%, as on Something-Something (§4.2).
``appearance``: 8 classes = 4 shapes × {warm, cool} colour, with random motion: one frame is
enough, like Kinetics where space-only attention is strong. (A shape × stripe-texture
version was measured first: tiny ViTs from scratch needed >1,000 steps to pass 60% on it,
too slow for the demo's CPU budget.)
``long``: 64-frame clips whose class is the number of brief flashes (1–4), spread over the
clip, so that 8 sampled frames cannot see them all (RQ5; see ``synthetic_long``).
Motion is large relative to a patch (default 2–3 px/frame at 32 px, scaled with
``image_size``; our choice): slower motion made the tiny models learn more slowly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from ..errors import UserError
from .synthetic_long import (
    EVENT_FRAMES,
    LONG_CLASSES,
    LONG_FRAMES,
    check_long,
    long_params,
    render_long,
)

MOTION_CLASSES = (
    "move_right",
    "move_left",
    "move_down",
    "move_up",
    "rotate_cw",
    "rotate_ccw",
    "grow",
    "shrink",
)
SHAPES = ("disk", "square", "triangle", "cross")
COLOUR_FAMILIES = ("warm", "cool")  # appearance: red-orange vs blue-cyan objects
APPEARANCE_CLASSES = tuple(f"{family}_{shape}" for shape in SHAPES for family in COLOUR_FAMILIES)
KINDS = ("motion", "appearance", "long")


def reversed_pairs(classes) -> list[tuple[int, int]] | None:
    """The (forward, backward) class pairs of the motion set — class 2k+1 is class 2k
    played backwards — when ``classes`` are its classes, else None."""
    if list(classes or []) != list(MOTION_CLASSES):
        return None
    return [(k, k + 1) for k in range(0, len(MOTION_CLASSES), 2)]


@dataclass(frozen=True)
class ClipParams:
    """Everything that decides one synthetic clip (``render(params)`` draws it).

    ``states`` is float (T, 4): per frame the object's centre x, y (pixels), angle
    (radians, clockwise on screen) and radius (pixels).
    """

    label: int
    shape: int
    colour: tuple[float, float, float]
    background: torch.Tensor  # float (3, 4, 4) coarse texture, upsampled when drawn
    states: torch.Tensor  # float (T, 4)
    noise_seed: int
    noise_reversed: bool = False

    def reversed(self, label: int | None = None) -> ClipParams:
        """The same clip played backwards (frame states and noise in reverse order)."""
        return replace(
            self,
            label=self.label if label is None else label,
            states=self.states.flip(0),
            noise_reversed=not self.noise_reversed,
        )


def _uniform(generator, low: float, high: float, n: int = 1) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def _signed_distance(shape: int, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Inside-positive distance (in radii) to the shape's edge at object coords (u, v)."""
    if SHAPES[shape] == "disk":
        return 1.0 - torch.sqrt(u * u + v * v)
    if SHAPES[shape] == "square":
        return 0.8 - torch.maximum(u.abs(), v.abs())
    if SHAPES[shape] == "triangle":  # apex at v = -1, base at v = 0.6
        return torch.minimum(0.6 - v, (1.0 + v - 2.0 * u.abs()) / 5**0.5)
    bar_h = torch.minimum(0.95 - u.abs(), 0.32 - v.abs())
    bar_v = torch.minimum(0.32 - u.abs(), 0.95 - v.abs())
    return torch.maximum(bar_h, bar_v)  # cross


def render(params: ClipParams, image_size: int) -> torch.Tensor:
    """Draw a clip: uint8 (T, 3, H, W), all frames at once (no per-pixel Python loops)."""
    num_frames = params.states.shape[0]
    cx, cy, angle, radius = (s.view(-1, 1, 1) for s in params.states.unbind(1))  # (T, 1, 1)
    grid = torch.arange(image_size, dtype=torch.float32)
    y, x = grid.view(1, -1, 1), grid.view(1, 1, -1)  # (1, H, 1), (1, 1, W)
    cos, sin = torch.cos(angle), torch.sin(angle)
    u = ((x - cx) * cos + (y - cy) * sin) / radius  # object coordinates, (T, H, W)
    v = (-(x - cx) * sin + (y - cy) * cos) / radius
    alpha = (_signed_distance(params.shape, u, v) * radius + 0.5).clamp(0, 1)  # anti-aliased
    colour = torch.tensor(params.colour).view(1, 3, 1, 1)
    dark = (u < 0).unsqueeze(1)  # two-tone halves so that rotation is visible, (T, 1, H, W)
    fill = torch.where(dark, 0.3 * colour + 0.7, colour)  # second tone: paler  # (T, 3, H, W)
    background = F.interpolate(
        params.background.unsqueeze(0),
        size=(image_size, image_size),
        mode="bicubic",
        align_corners=False,
    )  # (1, 3, H, W)
    noise_gen = torch.Generator().manual_seed(params.noise_seed)
    noise = 0.02 * torch.randn(num_frames, 3, image_size, image_size, generator=noise_gen)
    if params.noise_reversed:
        noise = noise.flip(0)
    clip = background + (fill - background) * alpha.unsqueeze(1) + noise
    return (clip.clamp(0, 1) * 255).round().to(torch.uint8)


class SyntheticVideos(torch.utils.data.Dataset):
    """Items ``(uint8 clip (T, 3, H, W), label)``, deterministic per index, balanced.

    ``speed``: (min, max) pixels per frame at 32 px for moves (default (2, 3)); turning
    and size changes are scaled to move the object's edge by a comparable amount.
    ``transform``: optional callable on the uint8 clip (e.g. ``train_transform``).
    ``num_frames``: default 8, or 64 for ``long``; ``event_frames``: (min, max) frames a
    flash of ``long`` lasts (default ``EVENT_FRAMES``).
    """

    def __init__(
        self,
        kind: str = "motion",
        num_frames: int | None = None,
        image_size: int = 32,
        size: int = 1024,
        seed: int = 0,
        speed: tuple[float, float] | None = None,
        transform=None,
        event_frames: tuple[int, int] = EVENT_FRAMES,
    ):
        if kind not in KINDS:
            raise UserError(f"SyntheticVideos: unknown kind {kind!r}; expected one of {KINDS}")
        if num_frames is None:
            num_frames = LONG_FRAMES if kind == "long" else 8
        if kind == "long":
            check_long(num_frames, tuple(event_frames))
        if num_frames < 2 or image_size < 16 or size < 1:
            raise UserError(
                f"SyntheticVideos: expected num_frames >= 2, image_size >= 16, "
                f"size >= 1; got {num_frames}, {image_size}, {size}"
            )
        speed = (2.0, 3.0) if speed is None else tuple(speed)
        if not 0 < speed[0] <= speed[1]:
            raise UserError(f"SyntheticVideos: expected 0 < speed[0] <= speed[1], got {speed}")
        self.kind, self.num_frames, self.image_size = kind, num_frames, image_size
        self.size, self.seed, self.speed, self.transform = size, seed, speed, transform
        self.event_frames = tuple(event_frames)
        self.classes = list(
            {"motion": MOTION_CLASSES, "appearance": APPEARANCE_CLASSES, "long": LONG_CLASSES}[kind]
        )

    def __len__(self) -> int:
        return self.size

    def label(self, index: int) -> int:
        return index % len(self.classes)  # balanced: labels cycle through the classes

    def params(self, index: int) -> ClipParams:
        """The parameters of item ``index`` (a pure function of seed and index)."""
        if not 0 <= index < self.size:
            raise IndexError(f"SyntheticVideos index {index} out of range [0, {self.size})")
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        return self.sample_params(self.label(index), generator)

    def sample_params(self, label: int, generator: torch.Generator) -> ClipParams:
        """Draw the parameters of a clip of class ``label``."""
        if self.kind == "long":
            return long_params(
                label, generator, self.num_frames, self.image_size, self.event_frames
            )
        if self.kind == "appearance":
            return self._appearance_params(label, generator)
        params = self._motion_params(label - label % 2, generator)  # the pair's forward class
        return params.reversed(label) if label % 2 else params

    # ------------------------------------------------------------------ sampling
    def _common(self, generator):
        """Shape, colour, background texture and noise seed (identical for a pair)."""
        shape = int(torch.randint(len(SHAPES), (), generator=generator))
        colour = _uniform(generator, 0.65, 1.0, 3)
        colour[int(torch.randint(3, (), generator=generator))] *= 0.3  # saturated
        base = _uniform(generator, 0.1, 0.35, 3).view(3, 1, 1)
        background = (base + 0.05 * torch.randn(3, 4, 4, generator=generator)).clamp(0, 1)
        noise_seed = int(torch.randint(2**62, (), generator=generator))
        return shape, tuple(colour.tolist()), background, noise_seed

    def _motion_params(self, label: int, generator) -> ClipParams:
        scale = self.image_size / 32
        T, size = self.num_frames, self.image_size
        shape, colour, background, noise_seed = self._common(generator)
        v = _uniform(generator, *self.speed).item() * scale  # px / frame
        v = min(v, (size - 1 - 4 * scale) / (T - 1))  # long clips: slower, so the path fits
        t = torch.arange(T, dtype=torch.float32)
        radius = torch.full((T,), _uniform(generator, 5.5, 7.5).item() * scale)
        angle = torch.full((T,), _uniform(generator, 0, 2 * torch.pi).item())
        cx, cy = (
            torch.full((T,), _uniform(generator, 0.3 * size, 0.7 * size).item()) for _ in range(2)
        )
        name = MOTION_CLASSES[label]
        if name in ("move_right", "move_down"):
            travel = v * (T - 1)
            low, high = 2.0 * scale, size - 1 - 2.0 * scale - travel  # centre stays inside
            start = _uniform(generator, low, max(high, low)).item()
            if name == "move_right":
                cx = start + v * t
            else:
                cy = start + v * t
        elif name == "rotate_cw":  # the object turns rigidly about a pivot, v px per frame
            orbit = _uniform(generator, 6.0, 8.0).item() * scale  # pivot-to-centre distance
            pivot = _uniform(generator, orbit + 2 * scale, size - 1 - orbit - 2 * scale, 2)
            turn = (v / orbit) * t  # radians turned by frame t (clockwise on screen)
            phase = angle[0].item()
            cx = pivot[0] + orbit * torch.cos(phase + turn)
            cy = pivot[1] + orbit * torch.sin(phase + turn)
            angle = angle + turn
        else:  # grow: the radius increases ~0.5 v px per frame
            start = _uniform(generator, 3.0, 4.0).item() * scale
            rate = min(0.5 * v, (0.45 * size - start) / (T - 1))  # at most 0.45 of the frame
            radius = start + rate * t
        states = torch.stack([cx, cy, angle, radius], dim=1)  # (T, 4)
        return ClipParams(label, shape, colour, background, states, noise_seed)

    def _appearance_params(self, label: int, generator) -> ClipParams:
        scale = self.image_size / 32
        T, size = self.num_frames, self.image_size
        _, colour, background, noise_seed = self._common(generator)
        t = torch.arange(T, dtype=torch.float32)
        speed = _uniform(generator, 0.0, self.speed[1]).item() * scale
        heading = _uniform(generator, 0, 2 * torch.pi).item()
        centre = _uniform(generator, 0.3 * size, 0.7 * size, 2)
        cx = centre[0] + speed * torch.cos(torch.tensor(heading)) * (t - (T - 1) / 2)
        cy = centre[1] + speed * torch.sin(torch.tensor(heading)) * (t - (T - 1) / 2)
        cx, cy = cx.clamp(0, size - 1), cy.clamp(0, size - 1)  # stops at the border
        spin = _uniform(generator, -0.3, 0.3).item()
        angle = _uniform(generator, 0, 2 * torch.pi).item() + spin * t
        radius = torch.full((T,), _uniform(generator, 5.0, 7.5).item() * scale)
        states = torch.stack([cx, cy, angle, radius], dim=1)  # (T, 4)
        return ClipParams(
            label,
            label // 2,
            self._family_colour(label % 2, generator),
            background,
            states,
            noise_seed,
        )

    @staticmethod
    def _family_colour(family: int, generator) -> tuple[float, float, float]:
        """A jittered warm (red-orange) or cool (blue-cyan) colour."""
        jitter = _uniform(generator, 0.0, 0.15, 3)
        if COLOUR_FAMILIES[family] == "warm":
            return (0.95 - jitter[0].item(), 0.45 + jitter[1].item(), 0.15 + jitter[2].item())
        return (0.15 + jitter[0].item(), 0.45 + jitter[1].item(), 0.95 - jitter[2].item())

    # ------------------------------------------------------------------ items
    def __getitem__(self, index: int):
        params = self.params(index)
        draw = render_long if self.kind == "long" else render
        clip = draw(params, self.image_size)  # uint8 (T, 3, H, W)
        if self.transform is not None:
            clip = self.transform(clip)
        return clip, params.label
