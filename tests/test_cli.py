import subprocess
import sys

from recsys_course import cli


def test_data_path_prints_the_cache_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RECSYS_COURSE_DATA", str(tmp_path / "cache"))
    assert cli.main(["data", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "cache")


def test_unknown_data_set_is_refused_with_the_known_names(capsys):
    assert cli.main(["data", "fetch", "netflix"]) == 2
    err = capsys.readouterr().err
    assert "unknown data set 'netflix'" in err and "instacart" in err


def test_console_script_is_installed():
    bindir = __import__("pathlib").Path(sys.executable).parent
    out = subprocess.run([str(bindir / "recsys-course"), "data", "path"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip()


def test_subcommand_help_reaches_the_subcommand(capsys):
    try:
        code = cli.main(["quiz", "--help"])
    except SystemExit as exit_:  # argparse exits after printing help
        code = exit_.code
    assert code == 0
    assert "recsys-course quiz" in capsys.readouterr().out
