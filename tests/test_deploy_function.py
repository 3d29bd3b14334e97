"""deploy/function.sh against a fake gcloud that records its arguments and remembers what it created."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "deploy" / "function.sh"
TOKEN = "cm-live-5ecr3t-Zq9"
PROJECT = "sales-il"
SA_EMAIL = f"callmarker-upload@{PROJECT}.iam.gserviceaccount.com"
URL = "https://callmarker-upload-abc123-zf.a.run.app"

# Answers like gcloud for the few reads the script makes; keeps created things as files in STATE.
FAKE_GCLOUD = textwrap.dedent(
    """\
    import json, os, sys
    state = os.environ["FAKE_GCLOUD_STATE"]
    args = sys.argv[1:]
    stdin = sys.stdin.read() if "--data-file=-" in args else None
    with open(os.path.join(state, "calls.jsonl"), "a") as log:
        log.write(json.dumps({"args": args}) + "\\n")
    if stdin is not None:
        with open(os.path.join(state, "stdin.txt"), "a") as received:
            received.write(stdin + "\\n")
    def mark(name):
        open(os.path.join(state, name), "w").close()
    def marked(name):
        return os.path.exists(os.path.join(state, name))
    def missing(what):
        sys.stderr.write(f"ERROR: (gcloud) NOT_FOUND: {what} was not found\\n")
        sys.exit(1)
    cmd = [a for a in args if not a.startswith("--")]
    if cmd[:3] == ["config", "get-value", "project"]:
        print(os.environ.get("FAKE_GCLOUD_PROJECT", ""))
    elif cmd[:2] == ["secrets", "describe"]:
        marked("secret") or missing("Secret " + cmd[2])
    elif cmd[:2] == ["secrets", "create"]:
        mark("secret")
    elif cmd[:3] == ["iam", "service-accounts", "describe"]:
        marked("sa") or missing("Service account " + cmd[3])
    elif cmd[:3] == ["iam", "service-accounts", "create"]:
        mark("sa")
    elif cmd[:2] == ["secrets", "get-iam-policy"]:
        if marked("binding"):
            print("serviceAccount:" + os.environ["FAKE_GCLOUD_SA"])
    elif cmd[:2] == ["secrets", "add-iam-policy-binding"]:
        mark("binding")
    elif cmd[:2] == ["functions", "describe"]:
        print(os.environ["FAKE_GCLOUD_URL"])
    """
)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    calls: list[list[str]]
    stdin_seen: str

    def commands(self, *prefix: str) -> list[list[str]]:
        """The recorded calls whose words (options left out) start with ``prefix``."""
        return [
            c for c in self.calls if [a for a in c if not a.startswith("--")][: len(prefix)] == list(prefix)
        ]


@pytest.fixture
def fake_gcloud(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    state = tmp_path / "state"
    state.mkdir()
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(f"#!{sys.executable}\n{FAKE_GCLOUD}")
    gcloud.chmod(0o755)
    return tmp_path


def deploy(home: Path, *args: str, input: str = "", **env: str) -> Run:
    state = home / "state"
    calls_file = state / "calls.jsonl"
    stdin_file = state / "stdin.txt"
    for f in (calls_file, stdin_file):
        f.unlink(missing_ok=True)
    environment = {
        "PATH": f"{home / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "FAKE_GCLOUD_STATE": str(state),
        "FAKE_GCLOUD_SA": SA_EMAIL,
        "FAKE_GCLOUD_URL": URL,
        "FAKE_GCLOUD_PROJECT": PROJECT,
        "ID_TOKEN_AUDIENCES": "111-a.apps.googleusercontent.com,222-b.apps.googleusercontent.com",
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
    calls = (
        [json.loads(line)["args"] for line in calls_file.read_text().splitlines()]
        if calls_file.exists()
        else []
    )
    stdin_seen = stdin_file.read_text() if stdin_file.exists() else ""
    return Run(done.returncode, done.stdout, done.stderr, calls, stdin_seen)


def assert_no_token(run: Run) -> None:
    assert TOKEN not in run.stdout
    assert TOKEN not in run.stderr
    assert all(TOKEN not in arg for call in run.calls for arg in call)


def test_first_deploy_creates_the_secret_the_identity_and_the_function(fake_gcloud: Path) -> None:
    run = deploy(fake_gcloud, CALLMARKER_TOKEN=TOKEN)
    assert run.returncode == 0, run.stderr
    assert_no_token(run)

    (enable,) = run.commands("services", "enable")
    assert set(enable[2:-1]) == {
        "cloudfunctions.googleapis.com",
        "run.googleapis.com",
        "cloudbuild.googleapis.com",
        "secretmanager.googleapis.com",
        "artifactregistry.googleapis.com",
        "sheets.googleapis.com",
    }
    assert f"--project={PROJECT}" in enable

    (create_secret,) = run.commands("secrets", "create", "callmarker-token")
    assert "--data-file=-" in create_secret
    assert run.stdin_seen == TOKEN + "\n"  # the value reached gcloud through stdin, exactly

    (create_sa,) = run.commands("iam", "service-accounts", "create", "callmarker-upload")
    assert f"--project={PROJECT}" in create_sa
    (binding,) = run.commands("secrets", "add-iam-policy-binding", "callmarker-token")
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
        "--set-secrets=CALLMARKER_TOKEN=callmarker-token:latest",
        "--timeout=120s",
        "--memory=512Mi",
        "--allow-unauthenticated",
    ):
        assert expected in deploy_call
    (env_vars,) = [a for a in deploy_call if a.startswith("--set-env-vars=")]
    assert env_vars.removeprefix("--set-env-vars=^;^").split(";") == [
        "ID_TOKEN_AUDIENCES=111-a.apps.googleusercontent.com,222-b.apps.googleusercontent.com",
        "SHEETS_CREDENTIALS=caller",
        "ALLOWED_EMAILS=dana@gmail.com,avi@gmail.com",
        "ALLOWED_DOMAINS=example.co.il",
    ]
    assert run.stdout.strip().splitlines()[-1] == URL


def test_a_second_run_creates_nothing(fake_gcloud: Path) -> None:
    assert deploy(fake_gcloud, CALLMARKER_TOKEN=TOKEN).returncode == 0
    again = deploy(fake_gcloud)  # no token needed once the secret exists
    assert again.returncode == 0, again.stderr
    created = [c for c in again.calls if "create" in c or "add-iam-policy-binding" in c or "versions" in c]
    assert created == []
    assert again.stdin_seen == ""
    assert len(again.commands("functions", "deploy")) == 1  # the function itself is updated in place
    assert again.stdout.strip() == URL


def test_the_token_can_be_typed_at_the_prompt(fake_gcloud: Path) -> None:
    run = deploy(fake_gcloud, input=TOKEN + "\n")
    assert run.returncode == 0, run.stderr
    assert run.stdin_seen == TOKEN + "\n"
    assert_no_token(run)


def test_no_token_for_a_new_secret_stops_before_creating_it(fake_gcloud: Path) -> None:
    run = deploy(fake_gcloud, input="")
    assert run.returncode != 0
    assert "no CallMarker token given" in run.stderr
    assert run.commands("secrets", "create") == []
    assert run.commands("functions", "deploy") == []


def test_rotate_token_adds_a_version(fake_gcloud: Path) -> None:
    deploy(fake_gcloud, CALLMARKER_TOKEN="old-token-value")
    run = deploy(fake_gcloud, "--rotate-token", CALLMARKER_TOKEN=TOKEN)
    assert run.returncode == 0, run.stderr
    (add,) = run.commands("secrets", "versions", "add", "callmarker-token")
    assert "--data-file=-" in add
    assert run.stdin_seen == TOKEN + "\n"
    assert_no_token(run)


def test_dry_run_prints_every_command_and_runs_none(fake_gcloud: Path) -> None:
    run = deploy(fake_gcloud, "--dry-run", "--project", "other-proj", CALLMARKER_TOKEN=TOKEN)
    assert run.returncode == 0, run.stderr
    assert run.calls == []
    assert_no_token(run)
    printed = [line for line in run.stdout.splitlines() if line.startswith("+ gcloud ")]
    words = [line.split()[2:4] for line in printed]
    assert ["services", "enable"] in words
    assert ["secrets", "create"] in words
    assert ["iam", "service-accounts"] in words
    assert ["secrets", "add-iam-policy-binding"] in words
    assert ["functions", "deploy"] in words
    assert "--project=other-proj" in run.stdout
    assert "not shown" in run.stdout


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
        "--service-account",
        "cm-runtime",
        "--sheets-credentials",
        "service_account",
        "--env",
        "TIME_BUDGET_S=40",
        "--timeout",
        "300s",
        "--memory",
        "1Gi",
        CALLMARKER_TOKEN=TOKEN,
    )
    assert run.returncode == 0, run.stderr
    (deploy_call,) = run.commands("functions", "deploy", "cm-up")
    for expected in (
        "--region=europe-west1",
        "--project=p2",
        "--service-account=cm-runtime@p2.iam.gserviceaccount.com",
        "--set-secrets=CALLMARKER_TOKEN=cm-token:latest",
        "--timeout=300s",
        "--memory=1Gi",
    ):
        assert expected in deploy_call
    (env_vars,) = [a for a in deploy_call if a.startswith("--set-env-vars=")]
    assert "SHEETS_CREDENTIALS=service_account" in env_vars.split(";")
    assert "TIME_BUDGET_S=40" in env_vars.split(";")
    assert "share each sheet with cm-runtime@p2.iam.gserviceaccount.com" in run.stderr


def test_iam_keeps_cloud_run_in_front(fake_gcloud: Path) -> None:
    run = deploy(fake_gcloud, "--iam", "--invoker", "group:sales@example.co.il", CALLMARKER_TOKEN=TOKEN)
    assert run.returncode == 0, run.stderr
    (deploy_call,) = run.commands("functions", "deploy")
    assert "--no-allow-unauthenticated" in deploy_call
    assert "--allow-unauthenticated" not in deploy_call
    (audiences,) = run.commands("run", "services", "update", "callmarker-upload")
    assert (
        "--add-custom-audiences=111-a.apps.googleusercontent.com,222-b.apps.googleusercontent.com"
        in audiences
    )
    (invoker,) = run.commands("functions", "add-invoker-policy-binding", "callmarker-upload")
    assert "--member=group:sales@example.co.il" in invoker


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ({"ID_TOKEN_AUDIENCES": ""}, (), "ID_TOKEN_AUDIENCES (--audiences) is required"),
        ({"ALLOWED_EMAILS": "", "ALLOWED_DOMAINS": ""}, (), "ALLOWED_EMAILS or ALLOWED_DOMAINS"),
        ({}, ("--sheets-credentials", "mine"), "SHEETS_CREDENTIALS must be caller or service_account"),
        ({}, ("--timeout", "30s"), "--timeout must be 60s to 3600s"),
        ({}, ("--env", f"CALLMARKER_TOKEN={TOKEN}"), "CALLMARKER_TOKEN comes from Secret Manager"),
        ({}, ("--invoker", "user:a@b.c"), "--invoker only makes sense with --iam"),
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
