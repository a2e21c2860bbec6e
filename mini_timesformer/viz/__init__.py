"""Looking inside and plotting: attention maps, rollout, training and cost figures.

* ``rollout.py``: the token maths — attention rollout (Abnar & Zuidema 2020; the paper's
  Fig. 7), one query's attention, the object-attention ratio (no plotting);
* ``maps.py``: attention over the frames, layer × head grids, receptive fields (Fig. 2),
  the widget explorer;
* ``animation.py``: the same maps animated over a clip (GIF / MP4);
* ``training.py``: loss/accuracy curves and the confusion matrix of a run;
* ``attention_epochs.py``: attention maps while training (``train --attention-every``);
* ``cost_figures.py``: the paper's Fig. 3 for all schemes, measured vs estimated cost,
  accuracy vs cost;
* ``colours.py``: the one colour table.

Every plot returns a matplotlib ``Figure`` (nothing shown or saved behind your back).
"""

from .animation import animate_attention, save_attention_animation, write_animation
from .colours import QUERY_COLOUR, SCHEME_COLOURS, STEP_COLOURS, scheme_colour, step_colours
from .maps import (
    attention_explorer,
    display_frames,
    overlay,
    plot_attention_frames,
    plot_layer_head_grid,
    plot_query_attention,
    plot_receptive_fields,
    plot_temporal_attention,
    upsample,
)
from .rollout import attention_rollout, model_attention, object_attention, query_attention

__all__ = [
    "QUERY_COLOUR",
    "SCHEME_COLOURS",
    "STEP_COLOURS",
    "scheme_colour",
    "step_colours",
    "animate_attention",
    "attention_explorer",
    "display_frames",
    "overlay",
    "plot_attention_frames",
    "plot_layer_head_grid",
    "plot_query_attention",
    "plot_receptive_fields",
    "plot_temporal_attention",
    "save_attention_animation",
    "upsample",
    "write_animation",
    "attention_rollout",
    "model_attention",
    "object_attention",
    "query_attention",
]
