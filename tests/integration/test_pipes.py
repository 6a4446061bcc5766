"""A reader that stops early (``ducha … --json | head``) ends the command quietly, never as a bug."""

import subprocess
import sys
from pathlib import Path


def test_a_closed_pipe_stops_the_command_quietly(demo: str, tmp_path: Path) -> None:
    ducha = Path(sys.executable).parent / "ducha"
    command = f"'{ducha}' alerts --json --at 2027-01-04 --limit 0 | head -c 10; exit ${{PIPESTATUS[0]}}"
    subprocess.run(
        [str(ducha), "sweep", "--at", "2027-01-04"],
        env={"DUCHA_DATABASE_URL": demo, "PATH": ""},
        check=True,
        capture_output=True,
    )
    done = subprocess.run(
        ["bash", "-c", command],
        env={"DUCHA_DATABASE_URL": demo, "DUCHA_ERROR_LOG": str(tmp_path / "e.log")},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 141, done.stderr
    assert done.stderr == "" and not (tmp_path / "e.log").exists()
