"""A policy or profile file that exists is understood completely or refused (exit 2 naming the
file, line and key, with a "did you mean"); never silently replaced by the defaults."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from ..conftest import AoaiRunner

READY = ("-g", "rg-aoai-demo", "--account", "aoai-ready", "--deployment", "chat=gpt-4.1@2025-04-14", "-o", "json")
# Spelled right, this policy makes the ready account not ready (the deployment does not exist).
NOT_READY_POLICY = '[preflight]\ndeployments = [{ name = "missing-deployment" }]\n'


def _refused(aoai: AoaiRunner, *expected: str, args: tuple[str, ...] = ()) -> str:
    result = aoai("preflight", "run", *(args or READY))
    assert result.code == 2, result.output
    line = result.stderr.strip()
    assert line.count("\n") == 0 and line.startswith("aoai: error: "), line
    for text in expected:
        assert text in line, line
    assert "Traceback" not in result.stderr
    return line


def test_the_policy_spelled_right_is_applied(aoai: AoaiRunner, tmp_path: Path) -> None:
    (tmp_path / "aoai.toml").write_text('[preflight]\ndeployments = [{ name = "missing-deployment" }]\n')
    result = aoai("preflight", "run", "-g", "rg-aoai-demo", "--account", "aoai-ready", "-o", "json")
    assert result.code == 1, result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[preflit]\ndeployments = [{ name = "missing-deployment" }]\n',
            ("aoai.toml:1", "preflit", "did you mean 'preflight'"),
        ),
        ('# gate\n\n[preflight]\nfail_onn = "warn"\n', ("aoai.toml:4", "preflight.fail_onn", "did you mean 'fail_on'")),
        (
            "[preflight]\n[preflight.thresholdz]\nretirement_days = 30\n",
            ("aoai.toml:2", "preflight.thresholdz", "did you mean 'thresholds'"),
        ),
        ("[preflight.thresholds]\nmin_quota_headroom = nan\n", ("aoai.toml:2", "min_quota_headroom", "nan")),
        ("[preflight.thresholds]\nretirement_days = inf\n", ("aoai.toml:2", "retirement_days")),
    ],
)
def test_a_policy_file_not_understood_completely_is_refused(
    aoai: AoaiRunner, tmp_path: Path, text: str, expected: tuple[str, ...]
) -> None:
    (tmp_path / "aoai.toml").write_text(text)
    _refused(aoai, *expected)


def test_a_non_utf8_policy_file_is_refused_with_its_position(aoai: AoaiRunner, tmp_path: Path) -> None:
    (tmp_path / "aoai.toml").write_bytes(b'[preflight]\nfail_on = "f\xe9il"\n')
    _refused(aoai, "aoai.toml:2:13", "not UTF-8", "0xe9")


def test_a_directory_or_dangling_link_named_aoai_toml_is_refused(aoai: AoaiRunner, tmp_path: Path) -> None:
    policy = tmp_path / "aoai.toml"
    policy.mkdir()
    _refused(aoai, "aoai.toml is a directory")
    policy.rmdir()
    policy.symlink_to(tmp_path / "gone.toml")
    _refused(aoai, "aoai.toml is a dangling link")
    policy.unlink()
    other = tmp_path / "policy-dir"
    other.mkdir()
    _refused(aoai, "policy-dir is a directory", args=(*READY, "--config", str(other)))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'endpint = "https://x.openai.azure.com"\n', ("config.toml:1", "endpint", "did you mean 'endpoint'")),
        (b'auth = "key"\n[preflight]\naccount = "x"\n', ("config.toml:2", "preflight", "unknown key")),
        (b"scope = 3\n", ("config.toml:1", "scope", "must be a string")),
        (b'endpoint = "https://caf\xe9.example"\n', ("config.toml:1:24", "not UTF-8")),
    ],
)
def test_a_profile_file_not_understood_completely_is_refused(
    aoai: AoaiRunner, tmp_path: Path, content: bytes, expected: tuple[str, ...]
) -> None:
    profile = tmp_path / "config.toml"
    profile.write_bytes(content)
    result = aoai("resp", "create", "hi", "-m", "chat", env={"AOAI_CONFIG": str(profile)})
    assert result.code == 2, result.output
    for text in expected:
        assert text in result.stderr, result.stderr


def test_a_profile_that_is_a_directory_is_refused(aoai: AoaiRunner, tmp_path: Path) -> None:
    directory = Path(aoai.env["XDG_CONFIG_HOME"]) / "aoai" / "config.toml"
    directory.mkdir(parents=True)
    result = aoai("resp", "create", "hi", "-m", "chat")
    assert result.code == 2 and "is a directory" in result.stderr, result.output


def test_the_evidence_records_which_policy_file_was_applied(aoai: AoaiRunner, tmp_path: Path) -> None:
    policy = tmp_path / "aoai.toml"
    policy.write_text('[preflight]\nfail_on = "fail"\n')
    evidence = tmp_path / "evidence.json"
    result = aoai("preflight", "run", *READY, "--evidence", str(evidence))
    assert result.code == 0, result.output
    document = json.loads(evidence.read_text())
    assert document["policy"]["file"] == {
        "path": os.path.realpath(policy),
        "sha256": hashlib.sha256(policy.read_bytes()).hexdigest(),
    }
    assert aoai("preflight", "verify", str(evidence)).code == 0
