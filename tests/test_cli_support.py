"""The command lines' shared argument type and error wrapper."""
import argparse

import pytest

from lipeval.cli_support import positive_int, run_command
from lipeval.errors import ConfigError


def test_positive_int():
    assert positive_int("3") == 3
    for bad in ("0", "-2", "1.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match=f"expected a positive integer, got '{bad}'"):
            positive_int(bad)


def test_run_command_passes_the_status_through():
    assert run_command(lambda: 0, "prog", "interrupted") == 0
    assert run_command(lambda: 1, "prog", "interrupted") == 1


def test_a_lipeval_error_is_a_message_and_status_2(capsys):
    def fail() -> int:
        raise ConfigError("--x: bad value")

    assert run_command(fail, "lipeval train", "interrupted") == 2
    assert capsys.readouterr().err == "lipeval train: error: --x: bad value\n"


def test_ctrl_c_is_a_message_and_status_130(capsys):
    def interrupt() -> int:
        raise KeyboardInterrupt

    assert run_command(interrupt, "lipeval", "interrupted; a re-run resumes") == 130
    assert capsys.readouterr().err == "lipeval: interrupted; a re-run resumes\n"


def test_other_errors_are_not_swallowed():
    def bug() -> int:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        run_command(bug, "lipeval", "interrupted")
