"""``long``: synthetic clips that only a long clip can solve (the paper's RQ5, §4.6, Table 8).

A clip of N frames (default 64) shows a textured, noisy background on which 1–4 brief
*flashes* happen — a large bright disk lights up most of the frame for 2 frames
(``EVENT_FRAMES``). The class is the number of flashes. The clip is cut into 4 equal slots;
the n flashes go into n distinct slots drawn at random, each at an offset drawn uniformly
from ``N/8`` consecutive frames near the slot's start, so flashes are spread over the whole
clip with at least 7 flash-free frames between two of them at N = 64 (our choice of task;
the paper's long-term task is HowTo100M, §4.6).

A model that sees T frames uniformly spaced every ``s = N/T`` frames catches a flash of
L frames with probability ``min(L, s) / s`` (its start is uniform modulo s), independently
of the other flashes. It sees k ≤ n flashes and can do no better than guess the n that makes
k most likely: ``sampler_ceiling`` gives that accuracy exactly — 35.8% at T = 8, 42.2% at
T = 16 and 100% at T = 32 and 64 for the defaults (chance: 25%). ``oracle_accuracy`` checks
it empirically: an oracle sees the ground-truth flash timeline only at the sampled frames.

Calibration (our choice, measured with the nano divided model, 400 steps, 16 px, T = 32):
flashes of 2 *or* 3 frames made the count harder to read (75.5% top-1 with large flashes,
57% with small 4–7 px disks at 300 steps); flashes of exactly 2 frames reached 100%.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import torch
import torch.nn.functional as F

from ..errors import UserError

LONG_CLASSES = ("one_flash", "two_flashes", "three_flashes", "four_flashes")
MAX_EVENTS = len(LONG_CLASSES)  # = the number of slots a clip is cut into
EVENT_FRAMES = (2, 2)  # (min, max) frames a flash lasts (uniform): here always 2
LONG_FRAMES = 64  # default clip length of the long kind


@dataclass(frozen=True)
class LongClipParams:
    """Everything that decides one long clip (``render_long(params, size)`` draws it).

    Per flash i (float or int tensors of length n = label + 1): ``starts`` (first frame),
    ``lengths`` (frames), ``centres`` (n, 2) x, y in pixels, ``radii`` (pixels),
    ``colours`` (n, 3) in [0, 1].
    """

    label: int
    num_frames: int
    background: torch.Tensor  # float (3, 4, 4) coarse texture, upsampled when drawn
    starts: torch.Tensor  # int (n,)
    lengths: torch.Tensor  # int (n,)
    centres: torch.Tensor  # float (n, 2)
    radii: torch.Tensor  # float (n,)
    colours: torch.Tensor  # float (n, 3)
    noise_seed: int

    def timeline(self) -> torch.Tensor:
        """int (N,): per frame the flash shown, 1..n, or 0 for none (the ground truth)."""
        t = torch.arange(self.num_frames).view(-1, 1)  # (N, 1)
        on = (t >= self.starts) & (t < self.starts + self.lengths)  # (N, n)
        ids = torch.arange(1, len(self.starts) + 1)
        return (on * ids).sum(1)  # flashes never overlap, so a sum picks the one shown


def check_long(num_frames: int, event_frames: tuple[int, int] = EVENT_FRAMES) -> None:
    """A clear error unless N is a multiple of 16 and flashes fit in their slots."""
    low, high = event_frames
    if num_frames < 16 or num_frames % 16 or not 1 <= low <= high <= num_frames // 16:
        raise UserError(
            f"long clips: expected num_frames a multiple of 16 (e.g. 64) and "
            f"1 <= event frames <= num_frames/16; got {num_frames} frames, "
            f"event frames {event_frames}"
        )


def _slot_layout(num_frames: int) -> tuple[int, int, int]:
    """(slot length, first possible offset, number of possible offsets): 16, 2, 8 at N=64."""
    slot = num_frames // MAX_EVENTS
    return slot, slot // 8, slot // 2


def long_params(
    label: int,
    generator: torch.Generator,
    num_frames: int = LONG_FRAMES,
    image_size: int = 32,
    event_frames: tuple[int, int] = EVENT_FRAMES,
) -> LongClipParams:
    """Draw a clip of class ``label`` (label + 1 flashes) from ``generator``."""
    n = label + 1
    slot, first, offsets = _slot_layout(num_frames)
    base = 0.1 + 0.25 * torch.rand(3, 1, 1, generator=generator)
    background = (base + 0.05 * torch.randn(3, 4, 4, generator=generator)).clamp(0, 1)
    slots = torch.randperm(MAX_EVENTS, generator=generator)[:n].sort().values
    starts = slots * slot + first + torch.randint(offsets, (n,), generator=generator)
    lengths = torch.randint(event_frames[0], event_frames[1] + 1, (n,), generator=generator)
    radii = (0.4 + 0.2 * torch.rand(n, generator=generator)) * image_size  # lights most of it
    centres = (0.35 + 0.3 * torch.rand(n, 2, generator=generator)) * (image_size - 1)
    colours = 0.75 + 0.25 * torch.rand(n, 3, generator=generator)  # bright, slightly tinted
    noise_seed = int(torch.randint(2**62, (), generator=generator))
    return LongClipParams(
        label, num_frames, background, starts, lengths, centres, radii, colours, noise_seed
    )


def render_long(params: LongClipParams, image_size: int) -> torch.Tensor:
    """Draw a long clip: uint8 (N, 3, H, W), all frames at once."""
    N = params.num_frames
    timeline = params.timeline()  # (N,)
    flash = timeline > 0
    which = (timeline - 1).clamp(min=0)  # index of the flash shown (any on flash-free frames)
    cx, cy = (params.centres[which, d].view(N, 1, 1) for d in range(2))  # (N, 1, 1)
    radius = torch.where(flash, params.radii[which], torch.zeros(())).view(N, 1, 1)
    grid = torch.arange(image_size, dtype=torch.float32)
    y, x = grid.view(1, -1, 1), grid.view(1, 1, -1)  # (1, H, 1), (1, 1, W)
    distance = torch.sqrt((x - cx) ** 2 + (y - cy) ** 2)  # (N, H, W)
    alpha = (radius - distance + 0.5).clamp(0, 1) * flash.view(N, 1, 1)  # anti-aliased disk
    colour = params.colours[which].view(N, 3, 1, 1)  # (N, 3, 1, 1)
    background = F.interpolate(
        params.background.unsqueeze(0),
        size=(image_size, image_size),
        mode="bicubic",
        align_corners=False,
    )  # (1, 3, H, W)
    noise_gen = torch.Generator().manual_seed(params.noise_seed)
    noise = 0.02 * torch.randn(N, 3, image_size, image_size, generator=noise_gen)
    clip = background + (colour - background) * alpha.unsqueeze(1) + noise  # (N, 3, H, W)
    return (clip.clamp(0, 1) * 255).round().to(torch.uint8)


# ---------------------------------------------------------------------- the T-frame ceiling
def uniform_indices(num_frames: int, T: int) -> list[int]:
    """The T frames a uniform sampler takes from an N-frame clip: the middle of each of T
    equal segments (``segment_indices`` at test time), every ``N / T`` frames."""
    from .sampling import segment_indices

    return segment_indices(num_frames, T)


def catch_probabilities(
    num_frames: int, T: int, event_frames: tuple[int, int] = EVENT_FRAMES
) -> torch.Tensor:
    """float64 (4,): per slot, the probability that the T sampled frames show its flash.

    Exact: averages over every offset and length the generator can draw. When ``N / T``
    divides the number of offsets (T = 8, 16, 32, 64 at N = 64) every slot gets
    ``E[min(L, s)] / s`` with ``s = N / T``.
    """
    check_long(num_frames, event_frames)
    slot, first, offsets = _slot_layout(num_frames)
    sampled = torch.zeros(num_frames + slot, dtype=torch.bool)
    sampled[uniform_indices(num_frames, T)] = True
    lengths = torch.arange(event_frames[0], event_frames[1] + 1)  # (nL,)
    probs = []
    for j in range(MAX_EVENTS):
        starts = j * slot + first + torch.arange(offsets)  # (nO,)
        frames = starts.view(-1, 1, 1) + torch.arange(event_frames[1]).view(1, 1, -1)
        inside = torch.arange(event_frames[1]).view(1, 1, -1) < lengths.view(1, -1, 1)
        caught = (sampled[frames] & inside).any(-1)  # (nO, nL): any flash frame sampled
        probs.append(caught.double().mean())
    return torch.stack(probs)


def count_likelihood(
    num_frames: int, T: int, event_frames: tuple[int, int] = EVENT_FRAMES
) -> torch.Tensor:
    """float64 (4, 5): P(k flashes seen | n flashes), rows n = 1..4, columns k = 0..4, for
    the T-frame uniform sampler (``count_table`` of its ``catch_probabilities``)."""
    return count_table(catch_probabilities(num_frames, T, event_frames))


def count_table(p) -> torch.Tensor:
    """float64 (4, 5): P(k seen | n flashes) when slot j's flash is caught with probability
    ``p[j]``. The n flashes sit in a uniformly random set of n slots; given the set, each
    slot's flash is caught independently (a Poisson-binomial count)."""
    from itertools import combinations

    p = torch.as_tensor(p, dtype=torch.float64)
    table = torch.zeros(MAX_EVENTS, MAX_EVENTS + 1, dtype=torch.float64)
    for n in range(1, MAX_EVENTS + 1):
        subsets = list(combinations(range(MAX_EVENTS), n))
        for subset in subsets:
            dist = torch.tensor([1.0], dtype=torch.float64)  # P(k) over the flashes so far
            for j in subset:
                dist = torch.cat(
                    [dist * (1 - p[j]), torch.zeros(1, dtype=torch.float64)]
                ) + torch.cat([torch.zeros(1, dtype=torch.float64), dist * p[j]])
            table[n - 1, : n + 1] += dist / len(subsets)
    return table


def best_guess(
    num_frames: int, T: int, event_frames: tuple[int, int] = EVENT_FRAMES
) -> torch.Tensor:
    """int (5,): the Bayes-optimal class for k = 0..4 flashes seen (classes equally likely)."""
    return count_likelihood(num_frames, T, event_frames).argmax(0)


def sampler_ceiling(
    T: int, num_frames: int = LONG_FRAMES, event_frames: tuple[int, int] = EVENT_FRAMES
) -> float:
    """The best top-1 any model can reach from the T uniformly sampled frames of a long clip:
    ``(1/4) Σ_k max_n P(k | n)`` (a uniform prior over the 4 classes)."""
    return count_likelihood(num_frames, T, event_frames).max(0).values.sum().item() / MAX_EVENTS


def binomial_ceiling(p: float) -> float:
    """The same ceiling when every flash is caught with the same probability p (the
    textbook form: ``P(k | n) = C(n, k) p^k (1 - p)^(n - k)``)."""
    return (
        sum(
            max(comb(n, k) * p**k * (1 - p) ** (n - k) for n in range(max(k, 1), 5))
            for k in range(5)
        )
        / MAX_EVENTS
    )


def flashes_seen(params: LongClipParams, indices) -> int:
    """How many distinct flashes the frames ``indices`` show (from the ground truth)."""
    shown = params.timeline()[torch.as_tensor(indices, dtype=torch.long)]
    return len(set(shown.tolist()) - {0})


def oracle_accuracy(dataset, T: int) -> float:
    """Empirical ceiling: a sampler-only oracle sees each clip's flash timeline only at the
    T sampled frames, counts the flashes it sees and makes the Bayes-optimal guess."""
    guess = best_guess(dataset.num_frames, T, dataset.event_frames)
    indices = uniform_indices(dataset.num_frames, T)
    right = 0
    for i in range(len(dataset)):
        params = dataset.params(i)
        right += int(guess[flashes_seen(params, indices)]) == params.label
    return right / len(dataset)
