"""Cost and speed, computed and measured.

* ``curves.py``: the paper's Fig. 3 extended — analytic GMACs, parameters and memory over
  frame sizes and frame counts (from ``cost.py``);
* ``table1.py``: the paper's Table 1 reproduced from ``cost.py``;
* ``measure.py``: measured time and peak memory of one step, on any device;
* ``timing.py``: interleaved timing, FLOP/s, machine info; ``hf.py``: the Hugging Face
  bridge (same weights); ``probe.py``: memory of one model in a fresh subprocess;
* ``bench.py``: ours vs Hugging Face, the five schemes side by side;
* ``cli.py``: ``mini-timesformer cost`` and ``bench``.
"""
