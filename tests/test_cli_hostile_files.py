"""Problem and picture files that fight back: every way a user's Python file can end, raise,
loop or mislabel is one line on stderr and a non-zero exit status from ``render --file``,
``solve`` and ``check``, never a traceback; ``--timeout`` holds however the file resists."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from microgradnet import Value
from microgradnet.cli import main

ROOT = Path(__file__).resolve().parents[1]
GRAPH = "from microgradnet import Value\nw = Value(1.5, label='w')\nroot = w * 2\n"


def _file(tmp_path, source: str, name: str = "f.py"):
    f = tmp_path / name
    f.write_text(source)
    return str(f)


def _argv(command: str, path: str, tmp_path) -> list:
    return {"render": ["render", "--file", path, "-o", str(tmp_path / "out.svg")],
            "solve": ["solve", path],
            "check": ["check", path, "--answer", "w=1.5"]}[command]


def _one_line(capsys, argv) -> tuple:
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and err.count("\n") == 1, err
    return code, err


COMMANDS = ("render", "solve", "check")

RAISING = {
    "a BaseException subclass": ("class Stop(BaseException):\n    pass\n\nraise Stop('custom')\n",
                                 r"line 4: Stop: custom"),
    "GeneratorExit": ("raise GeneratorExit\n", r"line 1: GeneratorExit$"),
    "a BaseException in build()": ("def build():\n    raise BaseException('in build')\n",
                                   r"line 2: BaseException: in build"),
    "an exception that cannot be shown": (
        "class Odd(Exception):\n    def __str__(self):\n        raise BaseException\n\n"
        "raise Odd\n", r"line 5: Odd: \(its message cannot be shown\)"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", list(RAISING))
def test_anything_a_file_raises_is_one_line_naming_its_line(capsys, tmp_path, command, case):
    source, message = RAISING[case]
    code, err = _one_line(capsys, _argv(command, _file(tmp_path, source), tmp_path))
    assert code == 2 and re.search(message, err.strip()), err
    assert not (tmp_path / "out.svg").exists()


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("source, said", [
    ("import sys\nsys.exit(3)\n", "called sys.exit(3)"),
    ("import os\nos._exit(0)\n", "called os._exit(0)"),
    ("import os\ndef build():\n    os._exit(0)\n", "called os._exit(0)"),
])
def test_a_file_that_ends_the_process_is_an_error_in_every_command(capsys, tmp_path, command,
                                                                   source, said):
    code, err = _one_line(capsys, _argv(command, _file(tmp_path, source), tmp_path))
    assert code == 2 and said in err


@pytest.mark.parametrize("command", COMMANDS)
def test_a_keyboard_interrupt_in_a_file_stops_as_ctrl_c_does(capsys, tmp_path, command):
    code = main(_argv(command, _file(tmp_path, "raise KeyboardInterrupt\n"), tmp_path))
    assert code == 130 and capsys.readouterr().err.strip() == "microgradnet: interrupted"


# ---- labels no encoding holds ---------------------------------------------------------------

SURROGATE = "from microgradnet import Value\nw = Value(1.5, label='w\\ud800')\nroot = w * 2\n"


@pytest.mark.parametrize("mode", ["text", "--markdown", "--latex"])
def test_a_lone_surrogate_in_a_label_is_printed_escaped(capsys, tmp_path, mode):
    w = Value(1.5, label="w")
    root = w * 2
    root.backward()
    argv = ["solve", _file(tmp_path, SURROGATE)] + ([mode] if mode != "text" else [])
    assert main(argv) == 0
    out = capsys.readouterr().out
    # LaTeX writes the backslash of the escape as \textbackslash{}, as any backslash in a label
    shown = "w\\textbackslash{}ud800" if mode == "--latex" else "w\\ud800"
    assert shown in out and "\ud800" not in out
    line = next(ln for ln in out.splitlines()
                if shown in ln and ("∂" in ln or "\\partial" in ln))
    assert float(re.findall(r"-?\d+\.\d+", line)[-1]) == w.grad


def test_a_lone_surrogate_in_json_and_in_check(capsys, tmp_path):
    path = _file(tmp_path, SURROGATE)
    assert main(["solve", path, "--json"]) == 0
    nodes = json.loads(capsys.readouterr().out)["nodes"]
    assert nodes["w\ud800"]["value"] == 1.5
    assert main(["check", path, "--answer", "w\ud800=1.5"]) == 0
    out = capsys.readouterr().out
    assert "w\\ud800" in out and "\ud800" not in out


# ---- numbers too large for a float -----------------------------------------------------------

@pytest.mark.parametrize("setting, key", [
    ("lr = 10**400", "optimiser.lr"),
    ("lr = -10**400", "optimiser.lr"),
    ("lr = float('nan')", "optimiser.lr"),
    ("optimiser = {'kind': 'sgd', 'lr': 0.1, 'momentum': 10**400}", "optimiser.momentum"),
    ("optimiser = {'kind': 'adam', 'lr': 0.1, 'betas': (10**400, 0.9)}", "optimiser.betas"),
    ("optimiser = {'kind': 'adam', 'lr': 0.1, 'eps': float('inf')}", "optimiser.eps"),
    ("decimals = 10**400", "decimals"),
])
def test_an_optimiser_setting_no_float_holds_is_refused(capsys, tmp_path, setting, key):
    code, err = _one_line(capsys, ["solve", _file(tmp_path, GRAPH + setting + "\n")])
    assert code == 2 and f"f.py: {key}: " in err
    assert len(err) < 200                       # a huge int is described, not printed


# ---- --timeout ---------------------------------------------------------------------------------

STUBBORN = {
    "loops in build()": "def build():\n    while True:\n        pass\n",
    "catches the TimeoutError": (
        "import time\ntry:\n    time.sleep(100)\nexcept BaseException:\n    time.sleep(100)\n"),
    "catches every exception, forever": (
        "import time\nwhile True:\n    try:\n        time.sleep(100)\n"
        "    except BaseException:\n        pass\n"),
    "ignores SIGALRM": (
        "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass\n"),
    "spins in a non-daemon thread": (
        "import threading\ndef spin():\n    while True:\n        pass\n"
        "t = threading.Thread(target=spin)\nt.start()\nt.join()\n"),
    # No signal handler runs inside one C call, so only a kill from outside stops it.
    "is stuck in one long C call": "total = sum(range(10**15))\n",
}


@pytest.mark.parametrize("case", list(STUBBORN))
def test_timeout_bounds_the_whole_file_however_it_resists(capsys, tmp_path, case):
    start = time.monotonic()
    code, err = _one_line(capsys, ["render", "--file", _file(tmp_path, STUBBORN[case]),
                                   "-o", str(tmp_path / "out.svg"), "--timeout", "0.3"])
    assert code == 2 and "ran longer than 0.3 s (--timeout)" in err
    assert time.monotonic() - start < 10
    assert not (tmp_path / "out.svg").exists()


def test_under_timeout_a_file_draws_its_picture_and_threads_it_leaves_do_not_hang(capfd,
                                                                                  tmp_path):
    source = GRAPH + ("import threading\n"
                      "threading.Thread(target=lambda: [0 for _ in iter(int, 1)]).start()\n")
    out_svg = tmp_path / "out.svg"
    code = main(["render", "--file", _file(tmp_path, source), "-o", str(out_svg),
                 "--timeout", "20"])
    out, err = capfd.readouterr()
    assert code == 0 and out.strip() == f"wrote {out_svg}" and err == ""
    assert "<svg" in out_svg.read_text()


def test_under_timeout_errors_are_still_one_line_with_their_status(capfd, tmp_path):
    code = main(["render", "--file", _file(tmp_path, "raise GeneratorExit\n"), "-o",
                 str(tmp_path / "out.svg"), "--timeout", "20"])
    out, err = capfd.readouterr()
    assert code == 2 and err.count("\n") == 1 and "GeneratorExit" in err and out == ""


def test_under_timeout_a_file_ending_its_process_by_itself_is_reported(capfd, tmp_path):
    code = main(["render", "--file", _file(tmp_path, "import posix\nposix._exit(0)\n"),
                 "-o", str(tmp_path / "out.svg"), "--timeout", "20"])
    err = capfd.readouterr().err
    assert code == 2 and "ended the process (exit status 0) before the picture" in err


# ---- options checked as options ----------------------------------------------------------------

@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "soon"])
def test_timeout_is_a_finite_positive_number(capsys, tmp_path, value):
    with pytest.raises(SystemExit) as e:
        main(["render", "--file", _file(tmp_path, GRAPH), "-o", str(tmp_path / "o.svg"),
              f"--timeout={value}"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "argument --timeout" in err and "f.py" not in err


@pytest.mark.parametrize("command", ["render", "solve"])
def test_an_empty_output_path_is_named_as_such(capsys, tmp_path, command):
    argv = _argv(command, _file(tmp_path, GRAPH), tmp_path)
    argv = [a for a in argv if not a.endswith("out.svg") and a != "-o"] + ["-o", ""]
    code, err = _one_line(capsys, argv)
    assert code == 2 and "-o/--out: the path is empty" in err


@pytest.mark.parametrize("answer, said", [
    ("w=1e400", "too large for a float"), ("w=-1e400", "too large for a float"),
    ("w=inf", "not a finite number"), ("w=1e-400", "would be read as 0.0"),
])
def test_check_refuses_answers_no_float_holds(capsys, tmp_path, answer, said):
    code, err = _one_line(capsys, ["check", _file(tmp_path, GRAPH), "--answer", answer])
    assert code == 2 and said in err


def test_check_decimals_has_the_limit_of_round(capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        main(["check", _file(tmp_path, GRAPH), "--answer", "w=1.5", "--decimals", "16"])
    assert e.value.code == 2 and "0 <= K <= 15" in capsys.readouterr().err
    assert main(["check", _file(tmp_path, GRAPH), "--answer", "w=1.5", "--decimals", "15"]) == 0


@pytest.mark.parametrize("sig, status, said", [
    (signal.SIGINT, 130, "microgradnet: interrupted"),     # Ctrl-C: as without --timeout
    (signal.SIGTERM, 143, ""),                             # `kill`: quiet, as Python is
])
def test_stopping_a_bounded_render_stops_the_file_too(tmp_path, sig, status, said):
    pid_file = tmp_path / "pid"
    source = (f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
              "while True:\n    pass\n")
    run = subprocess.Popen([sys.executable, "-m", "microgradnet", "render", "--file",
                            _file(tmp_path, source), "-o", str(tmp_path / "o.svg"),
                            "--timeout", "60"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())
    run.send_signal(sig)
    _, err = run.communicate(timeout=30)
    assert run.returncode == status and err.strip() == said
    with pytest.raises(ProcessLookupError):                # the file's process is gone
        os.kill(child, 0)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_folder_or_a_pipe_is_not_called_missing(capsys, tmp_path, command):
    folder = tmp_path / "graph.py"
    folder.mkdir()
    code, err = _one_line(capsys, _argv(command, str(folder), tmp_path))
    assert code == 2 and "not a regular file" in err and "no such file" not in err
