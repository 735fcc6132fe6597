"""Where the experiments write: the training API is as careful as ``microgradnet train``.
Existing results are never replaced without ``overwrite=True``, and every file to be written
is checked before any training (a broken symbolic link fails in a second, not after minutes).
"""
from __future__ import annotations

import json
import os

import pytest

from microgradnet.cli import main
from microgradnet.training import experiments
from microgradnet.training.experiments import OUTPUT_FILES, check_out_dir


@pytest.fixture
def no_training(monkeypatch):
    """Any attempt to load the data (the first step of training) fails the test."""
    monkeypatch.setattr(experiments, "load_digits",
                        lambda *a, **k: pytest.fail("trained before checking out_dir"))


@pytest.mark.parametrize("run, name", [
    (lambda **kw: experiments.run_classifiers(kinds=["logistic"], show_progress=False, **kw),
     "s3_q2_5.json"),
    (lambda **kw: experiments.run_lr_curves(show_progress=False, plot=False, **kw),
     "s1_1_4_lr_curves.json"),
])
def test_the_api_refuses_to_replace_results_by_default(tmp_path, monkeypatch, no_training,
                                                       run, name):
    monkeypatch.chdir(tmp_path)                     # as from the root of the repository
    (tmp_path / "results").mkdir()
    committed = tmp_path / "results" / name
    committed.write_text('{"committed": true}')
    with pytest.raises(FileExistsError, match=f"results: would replace {name}.*overwrite=True"):
        run()
    with pytest.raises(FileExistsError):
        run(out_dir=str(tmp_path / "results"))
    assert json.loads(committed.read_text()) == {"committed": True}


def test_overwrite_true_replaces_them(tmp_path):
    pytest.importorskip("sklearn")
    out = tmp_path / "results"
    out.mkdir()
    (out / "s3_q2_5.json").write_text('{"committed": true}')
    rows = experiments.run_classifiers(out_dir=str(out), kinds=["logistic"], epochs=1,
                                       train_subset=32, show_progress=False,
                                       grid={"logistic": [{"lr": 0.1}]}, overwrite=True)
    written = json.loads((out / "s3_q2_5.json").read_text())
    assert [r["model"] for r in written["rows"]] == ["logistic"]
    assert written["rows"][0]["test_accuracy"] == rows[0]["test_accuracy"]


def _broken_link(folder, name):
    folder.mkdir(exist_ok=True)
    os.symlink(folder / "no" / "such" / name, folder / name)


def test_a_broken_link_or_a_folder_in_place_of_a_result_is_refused_before_training(
        tmp_path, no_training):
    _broken_link(tmp_path / "a", "s3_q2_5.json")
    for overwrite in (False, True):
        with pytest.raises(OSError, match="s3_q2_5.json is a broken symbolic link"):
            experiments.run_classifiers(out_dir=str(tmp_path / "a"), show_progress=False,
                                        overwrite=overwrite)
    (tmp_path / "b" / "s1_1_4_lr_curves.md").mkdir(parents=True)
    with pytest.raises(OSError, match="s1_1_4_lr_curves.md is a folder"):
        experiments.run_lr_curves(out_dir=str(tmp_path / "b"), show_progress=False,
                                  overwrite=True)
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        check_out_dir(tmp_path / "file", OUTPUT_FILES["classifiers"])
    check_out_dir(None, OUTPUT_FILES["classifiers"])        # nothing to write, nothing to check
    check_out_dir(tmp_path / "new" / "deeper", OUTPUT_FILES["classifiers"])


def test_the_figure_is_checked_only_when_it_is_drawn(tmp_path, no_training):
    _broken_link(tmp_path, "s1_1_4_lr_curves.png")
    with pytest.raises(OSError, match="png is a broken symbolic link"):
        experiments.run_lr_curves(out_dir=str(tmp_path), show_progress=False, plot=True)
    with pytest.raises(pytest.fail.Exception, match="trained before"):   # past the check
        experiments.run_lr_curves(out_dir=str(tmp_path), show_progress=False, plot=False)


def test_train_refuses_a_broken_link_in_out_before_training(tmp_path, capsys, monkeypatch):
    pytest.importorskip("sklearn")
    monkeypatch.setattr(experiments, "run_classifiers",
                        lambda **kw: pytest.fail("trained before checking --out"))
    _broken_link(tmp_path / "out", "s3_q2_5.json")
    for force in ([], ["--force"]):
        code = main(["train", "classifiers", "--out", str(tmp_path / "out"), "--quiet",
                     "--models", "logistic", *force])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1
        assert "s3_q2_5.json is a broken symbolic link" in err and "--out" in err
