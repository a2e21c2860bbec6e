"""The public API survives the layout (CHANGELOG, issue 12): names users and lessons rely
on, reachable from a fresh ``import mini_timesformer as mt``; the CLI turns only the
package's ``UserError`` into a one-line message; every config refuses unknown keys with
the same message."""

import subprocess
import sys

import pytest

import mini_timesformer as mt
from mini_timesformer import cli
from mini_timesformer.demo import BUDGETS, DemoBudget
from mini_timesformer.errors import MissingPathError, UserError
from mini_timesformer.train import TrainConfig


def test_public_names_exist_in_a_fresh_interpreter():
    """``mt.optim`` / ``mt.checkpoint`` must not depend on something imported them first."""
    code = (
        "import sys\n"
        "import mini_timesformer as mt\n"
        "heavy = [m for m in ('matplotlib', 'av', 'torchvision') if m in sys.modules]\n"
        "assert not heavy, heavy  # import mini_timesformer stays light (the maths only)\n"
        "assert callable(mt.optim.build_optimizer) and callable(mt.checkpoint.save_checkpoint)\n"
        "assert mt.rollout.attention_rollout is mt.viz.attention_rollout\n"
        "assert callable(mt.train.train) and callable(mt.data.SyntheticVideos)\n"
        "assert callable(mt.checks.check_patchify) and callable(mt.cost.macs)\n"
        "assert mt.SCHEMES == tuple(mt.schemes.STEPS) and callable(mt.schemes.visibility)\n"
        "for name in ('from_pretrained', 'from_vit', 'save_pretrained'):\n"
        "    assert callable(getattr(mt.TimeSformer, name)), name\n"
        "assert mt.TimeSformerConfig.preset('nano').num_frames == 8\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        mt.nothing  # noqa: B018


def test_user_errors_are_value_and_path_errors():
    assert issubclass(UserError, ValueError)
    assert issubclass(MissingPathError, FileNotFoundError) and issubclass(
        MissingPathError, UserError
    )


def test_cli_prints_user_errors_on_one_line_and_lets_bugs_through(monkeypatch, capsys):
    def user_error(args):
        raise UserError("bad\ninput")

    def bug(args):
        raise KeyError("a bug")

    monkeypatch.setattr(cli, "_summary", user_error)  # what `summary` runs
    assert cli.main(["summary"]) == 2
    assert capsys.readouterr().err == "mini-timesformer summary: error: bad input\n"
    monkeypatch.setattr(cli, "_summary", bug)
    with pytest.raises(KeyError, match="a bug"):  # a real bug keeps its traceback
        cli.main(["summary"])


@pytest.mark.parametrize(
    "build",
    [
        lambda: mt.TimeSformerConfig.from_dict({"frames": 8}),
        lambda: TrainConfig().replace(frames=8),
        lambda: BUDGETS["smoke"].replace(frames=8),
    ],
)
def test_unknown_keys_share_one_message(build):
    with pytest.raises(
        UserError, match=r"unknown config field 'frames'; known fields: .*num_frames"
    ):
        build()


def test_train_config_and_budget_use_the_model_config_names():
    assert TrainConfig(num_frames=4, drop_path_rate=0.1).num_frames == 4
    assert DemoBudget().num_frames == mt.TimeSformerConfig().num_frames


def test_atomic_write_gives_the_usual_permissions_and_keeps_the_old_file_on_error(tmp_path):
    import os
    import stat

    from mini_timesformer.runtime import atomic_write, atomic_write_text

    target = atomic_write_text(tmp_path / "a.txt", "first")
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask  # not mkstemp's 0600

    def broken(tmp):
        open(tmp, "w").write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary file left
