"""``make demo``: the paper's central comparison (§4.1, Table 1) in one command, on a laptop.

All five attention schemes are trained with the same budget on synthetic clips whose
class is decided by *motion* (direction of a move, a turn, a size change — class 2k+1 is
class 2k played backwards) and on clips whose class is decided by *appearance* (shape and
texture). Space-only attention averages its frames, so on motion it can tell a pair apart
only by chance — at most 50%, like its collapse on Something-Something-V2 (Table 1) —
while on appearance it does as well as the others, like on Kinetics. The 3-D CNN
baselines of §4.2 (``cnn.VideoResNet``: R(2+1)D and a full-3-D ResNet, about the nano
TimeSformer's size) train on the same clips with the same budget, in the same table:
top-1, parameters, GMACs per view, training time and inference milliseconds per clip.

Writes ``runs/demo/report.md``, ``results.json``, training curves, a cost-vs-accuracy plot
and an attention-rollout figure; prints progress and the table at the end.

* ``budgets.py``: the same budget for every scheme and CNN (``cpu``, ``gpu``, ``smoke``);
* ``run.py``: render the clips once, train every scheme and CNN (in parallel on CPU);
* ``report.py``: results.json, report.md, findings and figures; ``cli.py``: the command.
* ``long_range.py``, ``long_report.py``: ``demo --long``, accuracy and cost against the number
  of frames on the ``long`` synthetic clips (RQ5; §4.6, Table 8 and §4.1, Fig. 3 in miniature).
"""

from ..train.init import small_model_init
from .budgets import BUDGETS, TIME_SCHEMES, DemoBudget, budget_for, model_config, resolve_budget
from .run import CachedClips, inference_ms, make_data, run_demo, train_scheme

__all__ = [
    "BUDGETS",
    "TIME_SCHEMES",
    "DemoBudget",
    "budget_for",
    "model_config",
    "resolve_budget",
    "CachedClips",
    "inference_ms",
    "make_data",
    "run_demo",
    "train_scheme",
    "small_model_init",
]
