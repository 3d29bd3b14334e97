"""deploy/function.sh against a fake gcloud (tests/fake_gcloud.py) that refuses what the real one refuses,
records its arguments and remembers what it created."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests import fake_gcloud as gcloud_cli

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "deploy" / "function.sh"
FAKE = Path(gcloud_cli.__file__).resolve()
TOKEN = "cm-live-5ecr3t-Zq9"
PROJECT = "sales-il"
SA_EMAIL = f"callmarker-upload@{PROJECT}.iam.gserviceaccount.com"
URL = "https://callmarker-upload-abc123-zf.a.run.app"
AUDIENCES = "111-a.apps.googleusercontent.com,222-b.apps.googleusercontent.com"


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    calls: list[list[str]]
    refused: list[dict[str, object]]
    #: What each secret received on stdin, in order: (secret, value).
    stdin: list[tuple[str, str]] = field(default_factory=list)

    def commands(self, *prefix: str) -> list[list[str]]:
        """The recorded calls whose words (options left out) start with ``prefix``."""
        return [
            c for c in self.calls if [a for a in c if not a.startswith("--")][: len(prefix)] == list(prefix)
        ]

    def flag(self, call: list[str], name: str) -> str:
        (value,) = [a.partition("=")[2] for a in call if a.partition("=")[0] == name]
        return value


@pytest.fixture
def fake_gcloud(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "state").mkdir()
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n')
    gcloud.chmod(0o755)
    return tmp_path


def _lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text().splitlines()]
    path.unlink()
    return records


def deploy(home: Path, *args: str, input: str = "", **env: str) -> Run:
    state = home / "state"
    environment = {
        "PATH": f"{home / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "FAKE_GCLOUD_STATE": str(state),
        "FAKE_GCLOUD_SA": SA_EMAIL,
        "FAKE_GCLOUD_URL": URL,
        "FAKE_GCLOUD_PROJECT": PROJECT,
        "ID_TOKEN_AUDIENCES": AUDIENCES,
        "ALLOWED_DOMAINS": "example.co.il",
        "ALLOWED_EMAILS": "dana@gmail.com,avi@gmail.com",
        **env,
    }
    done = subprocess.run(
        ["bash", str(SCRIPT), *args],
        input=input,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    calls = [list(map(str, record["args"])) for record in _lines(state / "calls.jsonl")]  # type: ignore[call-overload]
    refused = _lines(state / "refused.jsonl")
    stdin = [(str(r["secret"]), str(r["value"])) for r in _lines(state / "stdin.jsonl")]
    return Run(done.returncode, done.stdout, done.stderr, calls, refused, stdin)


def assert_no_secret(run: Run) -> None:
    secrets = [TOKEN, *(value for _, value in run.stdin)]
    for secret in secrets:
        assert secret not in run.stdout
        assert secret not in run.stderr
        assert all(secret not in arg for call in run.calls for arg in call)


# ----------------------------------------------------------------------------------- the fake itself


@pytest.mark.parametrize(
    "args",
    [
        # the real CLI has no such flag on functions deploy: the invoker check is Cloud Run's
        ["functions", "deploy", "f", "--gen2", "--no-invoker-iam-check"],
        ["functions", "deploy", "f", "--gen2", "--cpu=1"],  # --cpu needs --memory
        ["functions", "deploy", "f", "--gen2", "--set-env-vars=A=1", "--env-vars-file=x.yaml"],
        ["functions", "deploy", "f", "--allow-unauthenticated", "--no-allow-unauthenticated"],
        ["functions", "deploy", "f", "--gen2", "--timeout=3601s"],
        # Cloud Run's vCPU and memory table: fractions under 1 are small, above 1 only 2, 4, 6 or 8
        ["functions", "deploy", "f", "--gen2", "--memory=1Gi", "--cpu=0.333"],
        ["functions", "deploy", "f", "--gen2", "--memory=8Gi", "--cpu=1"],
        ["functions", "deploy", "f", "--gen2", "--memory=2Gi", "--cpu=3"],
        ["functions", "deploy", "f", "--gen2", "--memory=1Gi", "--cpu=4"],
        ["functions", "deploy", "f", "--gen2", "--memory=128Mi", "--cpu=0.05"],
        ["run", "services", "update", "f", "--memory=2Gi", "--cpu=0.5"],
        ["run", "services", "update", "f", "--invoker-iam-check", "--no-invoker-iam-check"],
        ["run", "services", "update", "f", "--clear-custom-audiences", "--add-custom-audiences=a"],
        ["run", "services", "add-iam-policy-binding", "f", "--member=domain:example.co.il"],
        ["secrets", "versions", "add", "s"],
        ["secrets", "add-iam-policy-binding", "s", "--role=roles/secretmanager.secretAccessor"],
        ["iam", "service-accounts", "create", "sa", "--display=x"],
        ["frobnicate", "it"],
    ],
)
def test_the_fake_gcloud_refuses_what_gcloud_refuses(args: list[str]) -> None:
    with pytest.raises(gcloud_cli.Refused):
        gcloud_cli.parse(args)


def test_the_fake_gcloud_accepts_the_documented_forms() -> None:
    command, positionals, flags = gcloud_cli.parse(
        ["functions", "deploy", "f", "--gen2", "--memory=512Mi", "--cpu", "1", "--project=p"]
    )
    assert command == ("functions", "deploy")
    assert positionals == ["f"]
    assert flags == {"--gen2": "", "--memory": "512Mi", "--cpu": "1", "--project": "p"}


@pytest.mark.parametrize(
    ("memory", "cpu"), [("512Mi", "1"), ("512Mi", "0.333"), ("1Gi", "0.583"), ("2Gi", "1"), ("4Gi", "2")]
)
def test_the_fake_gcloud_accepts_cloud_runs_vcpu_and_memory_pairs(memory: str, cpu: str) -> None:
    gcloud_cli.parse(["functions", "deploy", "f", "--gen2", f"--memory={memory}", f"--cpu={cpu}"])


def test_a_pair_outside_the_table_is_refused_by_the_api_not_the_parser() -> None:
    with pytest.raises(gcloud_cli.Refused) as refused:
        gcloud_cli.parse(["functions", "deploy", "f", "--gen2", "--memory=8Gi", "--cpu=1"])
    assert refused.value.code == 1
    assert "INVALID_ARGUMENT" in str(refused.value)


def test_domain_restricted_sharing_refuses_a_public_grant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_GCLOUD_RESTRICTED_DOMAIN", "example.co.il")
    base = ["run", "services", "add-iam-policy-binding", "f", "--role=roles/run.invoker"]
    gcloud_cli.parse([*base, "--member=group:reps@example.co.il"])
    gcloud_cli.parse([*base, "--member=domain:example.co.il"])
    for member in ("allUsers", "user:dana@gmail.com"):
        with pytest.raises(gcloud_cli.Refused, match="permitted customer"):
            gcloud_cli.parse([*base, f"--member={member}"])


# ---------------------------------------------------------------------------------------- the script


def test_first_deploy_creates_the_secrets_the_identity_and_an_iam_protected_function(
    fake_gcloud: Path,
) -> None:
    run = deploy(fake_gcloud, CALLMARKER_TOKEN=TOKEN, FAKE_GCLOUD_RESTRICTED_DOMAIN="example.co.il")
    assert run.returncode == 0, run.stderr
    assert run.refused == []
    assert_no_secret(run)

    (enable,) = run.commands("services", "enable")
    assert set(enable[2:-1]) == {
        "cloudfunctions.googleapis.com",
        "run.googleapis.com",
        "cloudbuild.googleapis.com",
        "secretmanager.googleapis.com",
        "artifactregistry.googleapis.com",
        "sheets.googleapis.com",
    }

    (create_token,) = run.commands("secrets", "create", "callmarker-token")
    (create_key,) = run.commands("secrets", "create", "callmarker-cursor-key")
    assert "--data-file=-" in create_token
    assert "--data-file=-" in create_key
    secrets = dict(run.stdin)
    assert secrets["callmarker-token"] == TOKEN  # the value reached gcloud through stdin, exactly
    key = secrets["callmarker-cursor-key"]
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert set(key) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=")

    (create_sa,) = run.commands("iam", "service-accounts", "create", "callmarker-upload")
    assert f"--project={PROJECT}" in create_sa
    bindings = run.commands("secrets", "add-iam-policy-binding")
    assert sorted(c[2] for c in bindings) == ["callmarker-cursor-key", "callmarker-token"]
    for binding in bindings:
        assert f"--member=serviceAccount:{SA_EMAIL}" in binding
        assert "--role=roles/secretmanager.secretAccessor" in binding
    # Least privilege: no project-wide role is granted to anyone.
    assert run.commands("projects", "add-iam-policy-binding") == []

    (deploy_call,) = run.commands("functions", "deploy", "callmarker-upload")
    for expected in (
        "--gen2",
        "--runtime=python312",
        "--trigger-http",
        "--source=function",
        "--entry-point=upload_rows",
        "--region=me-west1",
        f"--project={PROJECT}",
        f"--service-account={SA_EMAIL}",
        "--set-secrets=CALLMARKER_TOKEN=callmarker-token:latest,CURSOR_SIGNING_KEY=callmarker-cursor-key:latest",
        "--timeout=120s",
        "--memory=512Mi",
        "--no-allow-unauthenticated",
    ):
        assert expected in deploy_call
    assert "--allow-unauthenticated" not in deploy_call
    # one whole vCPU: the 0.333 that 512 MiB would get makes a step's work take up to three times as long
    assert "--cpu=1" in deploy_call
    assert run.flag(deploy_call, "--set-env-vars").removeprefix("^;^").split(";") == [
        f"ID_TOKEN_AUDIENCES={AUDIENCES}",
        "ALLOWED_EMAILS=dana@gmail.com,avi@gmail.com",
        "ALLOWED_DOMAINS=example.co.il",
    ]

    # IAM-protected: the add-in's client ids become custom audiences, the invoker check stays on.
    (update,) = run.commands("run", "services", "update", "callmarker-upload")
    assert "--invoker-iam-check" in update
    assert run.flag(update, "--add-custom-audiences") == AUDIENCES
    grants = run.commands("run", "services", "add-iam-policy-binding", "callmarker-upload")
    assert {run.flag(g, "--member") for g in grants} == {"domain:example.co.il"}
    assert all(run.flag(g, "--role") == "roles/run.invoker" for g in grants)
    assert run.stdout.strip().splitlines()[-1] == URL


def test_with_only_emails_allowed_each_email_is_an_invoker(fake_gcloud: Path) -> None:
    run = deploy(fake_gcloud, ALLOWED_DOMAINS="", CALLMARKER_TOKEN=TOKEN)
    assert run.returncode == 0, run.stderr
    grants = run.commands("run", "services", "add-iam-policy-binding")
    assert {run.flag(g, "--member") for g in grants} == {"user:dana@gmail.com", "user:avi@gmail.com"}


def test_emails_outside_the_domain_are_not_granted_but_named(fake_gcloud: Path) -> None:
    run = deploy(fake_gcloud, CALLMARKER_TOKEN=TOKEN)
    assert run.returncode == 0, run.stderr
    grants = run.commands("run", "services", "add-iam-policy-binding")
    assert {run.flag(g, "--member") for g in grants} == {"domain:example.co.il"}
    assert "pass --invoker user:EMAIL" in run.stderr


def test_a_group_decides_who_may_upload(fake_gcloud: Path) -> None:
    run = deploy(
        fake_gcloud,
        "--invoker",
        "group:callmarker-reps@example.co.il",
        CALLMARKER_TOKEN=TOKEN,
        FAKE_GCLOUD_RESTRICTED_DOMAIN="example.co.il",
    )
    assert run.returncode == 0, run.stderr
    (grant,) = run.commands("run", "services", "add-iam-policy-binding")
    assert run.flag(grant, "--member") == "group:callmarker-reps@example.co.il"


def test_public_mode_switches_the_invoker_check_off_and_grants_nobody(fake_gcloud: Path) -> None:
    run = deploy(
        fake_gcloud,
        "--invoker-mode",
        "public",
        CALLMARKER_TOKEN=TOKEN,
        FAKE_GCLOUD_RESTRICTED_DOMAIN="example.co.il",
    )
    assert run.returncode == 0, run.stderr
    assert run.refused == []
    (deploy_call,) = run.commands("functions", "deploy")
    assert "--no-allow-unauthenticated" in deploy_call  # never an allUsers grant
    (update,) = run.commands("run", "services", "update")
    assert "--no-invoker-iam-check" in update
    assert not any(a.startswith("--add-custom-audiences") for a in update)
    assert run.commands("run", "services", "add-iam-policy-binding") == []
    assert not any("allUsers" in arg for call in run.calls for arg in call)


def test_a_second_run_creates_nothing(fake_gcloud: Path) -> None:
    assert deploy(fake_gcloud, CALLMARKER_TOKEN=TOKEN).returncode == 0
    again = deploy(fake_gcloud)  # no token needed once the secret exists
    assert again.returncode == 0, again.stderr
    created = [c for c in again.calls if "create" in c or ("secrets" in c and "add-iam-policy-binding" in c)]
    assert created == []
    assert again.stdin == []
    assert len(again.commands("functions", "deploy")) == 1  # the function itself is updated in place
    assert again.stdout.strip() == URL


def test_the_token_can_be_typed_at_the_prompt(fake_gcloud: Path) -> None:
    run = deploy(fake_gcloud, input=TOKEN + "\n")
    assert run.returncode == 0, run.stderr
    assert dict(run.stdin)["callmarker-token"] == TOKEN
    assert_no_secret(run)


def test_no_token_for_a_new_secret_stops_before_creating_it(fake_gcloud: Path) -> None:
    run = deploy(fake_gcloud, input="")
    assert run.returncode != 0
    assert "no CallMarker token given" in run.stderr
    assert run.commands("secrets", "create", "callmarker-token") == []
    assert run.commands("functions", "deploy") == []


def test_rotate_token_adds_a_version(fake_gcloud: Path) -> None:
    deploy(fake_gcloud, CALLMARKER_TOKEN="old-token-value")
    run = deploy(fake_gcloud, "--rotate-token", CALLMARKER_TOKEN=TOKEN)
    assert run.returncode == 0, run.stderr
    (add,) = run.commands("secrets", "versions", "add", "callmarker-token")
    assert "--data-file=-" in add
    assert run.stdin == [("callmarker-token", TOKEN)]
    assert_no_secret(run)


def test_rotate_cursor_key_adds_a_new_random_key(fake_gcloud: Path) -> None:
    first = deploy(fake_gcloud, CALLMARKER_TOKEN=TOKEN)
    run = deploy(fake_gcloud, "--rotate-cursor-key")
    assert run.returncode == 0, run.stderr
    (add,) = run.commands("secrets", "versions", "add", "callmarker-cursor-key")
    assert "--data-file=-" in add
    ((secret, key),) = run.stdin
    assert secret == "callmarker-cursor-key"
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert key != dict(first.stdin)["callmarker-cursor-key"]
    assert_no_secret(run)


def test_dry_run_prints_every_command_and_runs_none(fake_gcloud: Path) -> None:
    run = deploy(fake_gcloud, "--dry-run", "--project", "other-proj", CALLMARKER_TOKEN=TOKEN)
    assert run.returncode == 0, run.stderr
    assert run.calls == []
    assert_no_secret(run)
    printed = [line for line in run.stdout.splitlines() if line.startswith("+ gcloud ")]
    words = [line.split()[2:4] for line in printed]
    assert ["services", "enable"] in words
    assert words.count(["secrets", "create"]) == 2
    assert ["iam", "service-accounts"] in words
    assert ["secrets", "add-iam-policy-binding"] in words
    assert ["functions", "deploy"] in words
    assert ["run", "services"] in words
    assert "--project=other-proj" in run.stdout
    assert "CallMarker token from CALLMARKER_TOKEN or the prompt, not shown" in run.stdout
    assert "32 random bytes" in run.stdout


def test_settings_by_flags(fake_gcloud: Path) -> None:
    run = deploy(
        fake_gcloud,
        "--project",
        "p2",
        "--region",
        "europe-west1",
        "--function",
        "cm-up",
        "--secret",
        "cm-token",
        "--cursor-secret",
        "cm-cursor",
        "--service-account",
        "cm-runtime",
        "--env",
        "TIME_BUDGET_S=40",
        "--timeout",
        "300s",
        "--memory",
        "1Gi",
        "--cpu",
        "1",
        CALLMARKER_TOKEN=TOKEN,
    )
    assert run.returncode == 0, run.stderr
    assert run.refused == []
    (deploy_call,) = run.commands("functions", "deploy", "cm-up")
    for expected in (
        "--region=europe-west1",
        "--project=p2",
        "--service-account=cm-runtime@p2.iam.gserviceaccount.com",
        "--set-secrets=CALLMARKER_TOKEN=cm-token:latest,CURSOR_SIGNING_KEY=cm-cursor:latest",
        "--timeout=300s",
        "--memory=1Gi",
        "--cpu=1",
    ):
        assert expected in deploy_call
    assert "TIME_BUDGET_S=40" in run.flag(deploy_call, "--set-env-vars").split(";")
    assert sorted(dict(run.stdin)) == ["cm-cursor", "cm-token"]


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ({"ID_TOKEN_AUDIENCES": ""}, (), "ID_TOKEN_AUDIENCES (--audiences) is required"),
        ({"ALLOWED_EMAILS": "", "ALLOWED_DOMAINS": ""}, (), "ALLOWED_EMAILS or ALLOWED_DOMAINS"),
        ({}, ("--invoker-mode", "open"), "--invoker-mode must be iam or public"),
        ({}, ("--timeout", "30s"), "--timeout must be 60s to 3600s"),
        ({}, ("--cpu", "lots"), "--cpu takes a number of vCPUs"),
        ({}, ("--env", f"CALLMARKER_TOKEN={TOKEN}"), "CALLMARKER_TOKEN comes from Secret Manager"),
        ({}, ("--env", "CURSOR_SIGNING_KEY=abc"), "CURSOR_SIGNING_KEY comes from Secret Manager"),
        ({}, ("--invoker-mode", "public", "--invoker", "user:a@b.c"), "--invoker only makes sense"),
        ({}, ("--invoker", "allUsers"), "would let anyone call the function"),
        ({}, ("--invoker", "reps@example.co.il"), "--invoker takes domain:DOMAIN, group:EMAIL"),
        ({}, ("--sheets-credentials", "service_account"), "unknown option: --sheets-credentials"),
        ({}, ("--region",), "--region needs a value"),
        ({}, ("--bogus",), "unknown option: --bogus"),
        ({"FAKE_GCLOUD_PROJECT": ""}, (), "no project: pass --project"),
    ],
)
def test_bad_settings_stop_before_any_change(
    fake_gcloud: Path, env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    run = deploy(fake_gcloud, *args, CALLMARKER_TOKEN=TOKEN, **env)
    assert run.returncode != 0
    assert message in run.stderr
    assert TOKEN not in run.stderr
    changes = [c for c in run.calls if c[:3] != ["config", "get-value", "project"]]
    assert changes == []


def test_the_script_is_executable() -> None:
    assert os.access(SCRIPT, os.X_OK)
