"""Auto-checks for the course exercises (``exercises/``).

Each ``check_*`` function takes the student's function, runs it next to the package's
reference with copied weights on random inputs (shapes first, then values, then
properties), prints what passed, and raises ``CheckFailed`` naming the likely mistake.
"""

from .attention import (
    check_masked_attention,
    check_multi_head_masked,
    check_split_qkv,
)
from .ceiling import check_catch_probability, check_ceiling, check_fewest_frames
from .classifier import (
    check_classify_space,
    check_param_count,
    check_table1,
    check_untabulated,
)
from .conv import check_conv2plus1d_cost, check_inflate, check_midplanes
from .core import CheckFailed
from .divided import check_axial_step, check_divided_block, check_space_step, check_time_step
from .embedding import (
    check_embed_official,
    check_num_tokens,
    check_patchify,
    check_token_layout,
    check_weights_layout,
)
from .flops import check_macs
from .groupings import check_block_reach, check_grouping, check_keys_per_query
from .resolution import check_clip_tokens, check_resize_position, check_resize_time
from .rollout import check_axial_rollout, check_step_matrix
from .sampling import (
    check_dense_indices,
    check_predict_views,
    check_segment_indices,
    check_three_crops,
)

__all__ = [
    "CheckFailed",
    "check_patchify",
    "check_embed_official",
    "check_token_layout",
    "check_weights_layout",
    "check_num_tokens",
    "check_masked_attention",
    "check_split_qkv",
    "check_multi_head_masked",
    "check_time_step",
    "check_space_step",
    "check_divided_block",
    "check_axial_step",
    "check_grouping",
    "check_keys_per_query",
    "check_block_reach",
    "check_classify_space",
    "check_param_count",
    "check_table1",
    "check_untabulated",
    "check_dense_indices",
    "check_segment_indices",
    "check_three_crops",
    "check_predict_views",
    "check_step_matrix",
    "check_axial_rollout",
    "check_macs",
    "check_catch_probability",
    "check_ceiling",
    "check_fewest_frames",
    "check_midplanes",
    "check_conv2plus1d_cost",
    "check_inflate",
    "check_resize_position",
    "check_resize_time",
    "check_clip_tokens",
]
