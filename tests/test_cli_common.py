"""What the commands share: --version, exit statuses, one-line errors for a missing extra and
Ctrl-C, the usage of the mistyped subcommand, option helpers and output folders."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import microgradnet
from microgradnet.cli import build_parser, common, main
from microgradnet.training.experiments import OUTPUT_FILES

ROOT = Path(__file__).resolve().parents[1]


def cli(*argv: str, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "microgradnet", *argv], cwd=kw.get("cwd", ROOT),
                          env=env, capture_output=True, text=True, timeout=120)


def test_version_is_the_packages(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out == f"microgradnet {microgradnet.__version__}\n"


def test_a_mistyped_flag_shows_the_subcommands_usage_and_a_suggestion(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", "classifiers", "--quite"])
    assert e.value.code == common.USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: microgradnet train classifiers ")
    assert "unrecognized arguments: --quite (--quite: did you mean --quiet?)" in err
    with pytest.raises(SystemExit):
        main(["show", "S1-3", "--bogus"])
    assert capsys.readouterr().err.startswith("usage: microgradnet show ")


def test_ctrl_c_prints_one_line_and_exits_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt
    parser = build_parser()
    monkeypatch.setattr("microgradnet.cli.build_parser", lambda: parser)
    parser.set_defaults(func=interrupted)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub.choices["list"].set_defaults(func=interrupted)
    assert main(["list"]) == common.INTERRUPTED == 130
    err = capsys.readouterr().err
    assert err.strip() == "microgradnet: interrupted" and "Traceback" not in err


def test_ctrl_c_while_show_step_waits_for_enter(monkeypatch, capsys):
    class Keys:
        def readline(self):
            raise KeyboardInterrupt
    monkeypatch.setattr(sys, "stdin", Keys())
    assert main(["show", "S1-3", "--step"]) == 130
    assert capsys.readouterr().err.strip() == "microgradnet: interrupted"


def test_a_missing_extra_is_one_line_naming_the_extra():
    code = ("import sys\nsys.modules['sklearn'] = None\nfrom microgradnet.cli import main\n"
            "sys.exit(main(['train', 'classifiers', '--models', 'svm', '-o', '']))\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == common.MISSING
    assert run.stderr == ('microgradnet train classifiers: scikit-learn is not installed: '
                          'pip install "microgradnet[data]"\n')


def test_missing_extra_leaves_other_import_errors_alone():
    assert common.missing_extra(ModuleNotFoundError("x", name="microgradnet.viz.dot")) is None
    from microgradnet.training import MissingExtra
    exc = MissingExtra("the digits", "data", "scikit-learn")
    assert common.missing_extra(exc) == 'the digits needs scikit-learn: pip install ' \
                                        '"microgradnet[data]"'
    assert common.missing_extra(ModuleNotFoundError("m", name="matplotlib.pyplot")) == \
        'matplotlib is not installed: pip install "microgradnet[plot]"'


def test_did_you_mean_suggests_close_ids_in_their_own_spelling():
    from microgradnet.catalogue import EXAMPLES
    assert common.did_you_mean("s1-3.4", EXAMPLES) == " (did you mean S1-3.3, S1-3.2 or S1-3.1?)"
    assert common.did_you_mean("S4-Q3", EXAMPLES).startswith(" (did you mean S4-Q3")
    assert common.did_you_mean("nothing-like-it", EXAMPLES) == ""
    msg = common.unknown_name("show", "worked example", "S1-33", EXAMPLES)
    assert msg.startswith("microgradnet show: no worked example 'S1-33' (did you mean S1-3")
    names = common.id_candidates(EXAMPLES)
    assert {"S1", "S1-3", "S1-3.3"} <= set(names) and len(names) == len(set(names))
    assert common.did_you_mean("S1-33", names) == " (did you mean S1-3.3, S1-3 or S1-3.2?)"


def test_option_helpers_give_one_name_per_concept_with_the_old_names_as_aliases():
    p = argparse.ArgumentParser()
    common.add_output_option(p, help="where", aliases=("--render",))
    common.add_wrt_option(p, help="which")
    common.add_round_option(p, help="decimals", default=4)
    for argv in (["-o", "a.svg", "--wrt", "w21", "--round", "2"],
                 ["--output", "a.svg", "--highlight", "w21", "--precision", "2"],
                 ["--render", "a.svg", "--wrt", "w21", "--round", "2"]):
        args = p.parse_args(argv)
        assert (args.out, args.wrt, args.decimals) == ("a.svg", "w21", 2)
    assert p.parse_args([]).decimals == 4
    with pytest.raises(SystemExit):
        p.parse_args(["--round", "-1"])


def test_print_json_and_example_records(capsys):
    from microgradnet.catalogue import EXAMPLES
    common.print_json([common.example_record(EXAMPLES["S1-3.3"])])
    (row,) = json.loads(capsys.readouterr().out)
    assert row["id"] == "S1-3.3" and row["title"] == EXAMPLES["S1-3.3"].title
    assert set(row) == {"id", "seed", "section", "title"}


def test_output_folders_are_new_checked_and_never_overwritten(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = common.choose_output_dir(None, ["a.json"], stem="classifiers")
    second = common.choose_output_dir(None, ["a.json"], stem="classifiers")
    assert first != second and first.is_dir() and second.is_dir()
    assert first.parent.name == "runs" and first.name.startswith("classifiers-")
    assert list(first.iterdir()) == []                      # the write check left nothing
    (first / "a.json").write_text("{}")
    with pytest.raises(common.OutputError, match="would overwrite a.json; pass --force"):
        common.choose_output_dir(str(first), ["a.json", "b.json"])
    assert common.choose_output_dir(str(first), ["a.json"], force=True) == first
    assert common.choose_output_dir("", ["a.json"]) is None
    with pytest.raises(common.OutputError, match="is a file"):
        common.choose_output_dir(str(first / "a.json"), ["x"])
    if os.geteuid() != 0:                                   # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(common.OutputError, match="cannot write there"):
            common.choose_output_dir(str(ro / "sub"), ["x"])


def test_train_refuses_the_committed_results_before_training(capsys, monkeypatch):
    import microgradnet.training.experiments as experiments
    monkeypatch.setattr(experiments, "run_classifiers",
                        lambda **kw: pytest.fail("trained before checking --out"))
    assert main(["train", "classifiers", "-o", str(ROOT / "results"), "--models", "svm"]) == 2
    err = capsys.readouterr().err
    assert "would overwrite s3_q2_5.csv, s3_q2_5.json, s3_q2_5.md; pass --force" in err
    assert main(["train", "lr-curves", "-o", "/proc/no/such/place"]) == 2
    assert "cannot write there" in capsys.readouterr().err


def test_train_writes_a_new_folder_by_default_with_its_split(tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)
    assert main(["train", "classifiers", "--models", "svm", "--epochs", "1", "--subset", "32",
                 "--quiet"]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert sorted(p.name for p in run.iterdir()) == sorted(OUTPUT_FILES["classifiers"])
    meta = json.loads((run / "s3_q2_5.json").read_text())["meta"]
    assert meta["split"] == "stratified"
    assert f"written: runs/{run.name}/s3_q2_5.csv" in capsys.readouterr().out


def test_the_installed_command_answers_version():
    run = cli("--version")
    assert run.returncode == 0 and run.stdout.strip() == f"microgradnet {microgradnet.__version__}"
