"""A fake ``gcloud`` for the deploy script's tests: it refuses what the real CLI refuses, records every call,
and remembers what it created (as files in ``$FAKE_GCLOUD_STATE``).

Run as a program (``python tests/fake_gcloud.py ARGS``). Every command the deploy script uses is
described below with the flags its reference page lists; anything else is refused the way gcloud
refuses it (``ERROR: (gcloud.GROUP.COMMAND) unrecognized arguments: ...``, exit 2). The sources:

- gcloud's global flags: https://cloud.google.com/sdk/gcloud/reference (GLOBAL FLAGS)
- https://cloud.google.com/sdk/gcloud/reference/functions/deploy: the synopsis lists
  ``--[no-]allow-unauthenticated`` and no invoker-check flag; ``--clear-env-vars | --env-vars-file |
  --set-env-vars | --remove-env-vars --update-env-vars`` is one exclusive group, and so are the
  secrets flags ``--clear-secrets | --set-secrets | --remove-secrets --update-secrets``.
- https://cloud.google.com/functions/docs/configuring/memory ("Set vCPU count"): ``--cpu`` goes with
  ``--memory`` and ``--gen2``; a function of 2nd gen is a Cloud Run service, held to Cloud Run's limits:
  https://cloud.google.com/run/docs/configuring/services/cpu ("vCPU and memory table"): less than 1 vCPU
  is 0.08 to 1 in steps of 0.001, more is 2, 4, 6 or 8; under 0.5 vCPU at most 512 MiB, under 1 vCPU at
  most 1 GiB, 1 vCPU up to 4 GiB, 2 up to 8 GiB, 4 from 2 to 16 GiB, 6 from 4 to 24 GiB, 8 from 4 to
  32 GiB. A pair outside the table is refused by the API (``INVALID_ARGUMENT``, exit 1), not by the
  argument parser.
- https://cloud.google.com/functions/docs/configuring/timeout: an HTTP function of 2nd gen waits at
  most 3600s.
- https://cloud.google.com/sdk/gcloud/reference/run/services/update and
  https://cloud.google.com/run/docs/authenticating/public: ``--[no-]invoker-iam-check``;
  https://cloud.google.com/run/docs/configuring/custom-audiences: ``--add-custom-audiences``,
  ``--remove-custom-audiences``, ``--clear-custom-audiences`` (clear excludes the other two).
- https://cloud.google.com/sdk/gcloud/reference/run/services/add-iam-policy-binding: ``--member``
  and ``--role`` are required.
- https://cloud.google.com/sdk/gcloud/reference/secrets/create, .../secrets/versions/add (``--data-file``
  required), .../secrets/add-iam-policy-binding (``--member``, ``--role`` required; ``--condition``),
  .../secrets/get-iam-policy, .../secrets/describe.
- https://cloud.google.com/sdk/gcloud/reference/iam/service-accounts/create and .../describe.
- https://cloud.google.com/sdk/gcloud/reference/services/enable (one or more service names).
- https://cloud.google.com/sdk/gcloud/reference/functions/describe.
- https://cloud.google.com/resource-manager/docs/organization-policy/restricting-domains: with
  domain-restricted sharing (``FAKE_GCLOUD_RESTRICTED_DOMAIN`` set here), a grant to ``allUsers``,
  ``allAuthenticatedUsers`` or an account outside the domain fails.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

#: Flags every command takes (GLOBAL FLAGS of the reference), and the few list/format flags.
GLOBAL_VALUE_FLAGS = frozenset(
    {
        "--project",
        "--format",
        "--filter",
        "--flatten",
        "--account",
        "--billing-project",
        "--configuration",
        "--impersonate-service-account",
        "--verbosity",
        "--trace-token",
        "--limit",
        "--page-size",
        "--sort-by",
    }
)
GLOBAL_BOOL_FLAGS = frozenset({"--quiet", "-q", "--log-http", "--user-output-enabled", "--help", "-h"})


class Refused(Exception):
    """What gcloud prints before exiting 2 (argument errors) or 1 (the API refused)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Spec:
    """One command: how many positional words it takes, its flags, and its own rules."""

    positionals: tuple[int, int]  # (at least, at most); at most -1 is unbounded
    values: frozenset[str] = frozenset()
    bools: frozenset[str] = frozenset()  # flags that take no value; "--[no-]x" is listed as both forms
    required: frozenset[str] = frozenset()
    exclusive: tuple[frozenset[str], ...] = ()  # groups of which at most one flag may be given
    rules: tuple[Callable[[Mapping[str, str]], str | None], ...] = field(default=())


def _negatable(*names: str) -> frozenset[str]:
    return frozenset(n for name in names for n in (f"--{name}", f"--no-{name}"))


def _cpu_needs_memory_and_gen2(flags: Mapping[str, str]) -> str | None:
    if "--cpu" in flags and ("--memory" not in flags or "--gen2" not in flags):
        return "argument --cpu: --cpu requires --memory and --gen2 to be specified"
    return None


#: Cloud Run's memory range for each whole number of vCPUs, in MiB (the "vCPU and memory table").
_MEMORY_FOR_CPUS = {1: (0, 4096), 2: (0, 8192), 4: (2048, 16384), 6: (4096, 24576), 8: (4096, 32768)}
_MEMORY_UNITS = {"": 2**-20, "k": 10**3 / 2**20, "M": 10**6 / 2**20, "G": 10**9 / 2**20, "Ki": 1 / 1024}
_MEMORY_UNITS |= {"Mi": 1, "Gi": 1024, "KB": 1 / 1024, "MB": 1, "GB": 1024}


def _mib(text: str) -> float | None:
    number = text.rstrip("KMGBikmg")
    unit = text[len(number) :]
    try:
        return float(number) * _MEMORY_UNITS[unit]
    except (ValueError, KeyError):
        return None


def _cpu_fits_memory(flags: Mapping[str, str]) -> str | None:
    if "--cpu" not in flags or "--memory" not in flags:
        return None
    cpu_text, memory = flags["--cpu"], _mib(flags["--memory"])
    try:
        cpu = float(cpu_text)
    except ValueError:
        return f"INVALID_ARGUMENT: cpu '{cpu_text}' is not a number of vCPUs"
    if memory is None:
        return f"INVALID_ARGUMENT: memory '{flags['--memory']}' is not a size"
    if cpu < 1:
        steps = round(cpu * 1000)
        if cpu < 0.08 or abs(steps - cpu * 1000) > 1e-6:
            return f"INVALID_ARGUMENT: cpu {cpu_text} must be 0.08 to 1 in steps of 0.001"
        most = 512 if cpu < 0.5 else 1024
        if memory > most:
            return f"INVALID_ARGUMENT: {cpu_text} vCPU takes at most {most} MiB of memory"
        return None
    if cpu not in _MEMORY_FOR_CPUS:
        return f"INVALID_ARGUMENT: cpu {cpu_text} must be less than 1, or 1, 2, 4, 6 or 8"
    least, most = _MEMORY_FOR_CPUS[int(cpu)]
    if not least <= memory <= most:
        return f"INVALID_ARGUMENT: {cpu_text} vCPU takes {least} to {most} MiB of memory"
    return None


def _timeout_within_an_hour(flags: Mapping[str, str]) -> str | None:
    value = flags.get("--timeout")
    if value is None:
        return None
    seconds = value.removesuffix("s")
    if not seconds.isdigit() or not 1 <= int(seconds) <= 3600:
        return f"argument --timeout: HTTP functions of 2nd gen wait 1s to 3600s, got '{value}'"
    return None


def _one_of_iam_check(flags: Mapping[str, str]) -> str | None:
    if "--invoker-iam-check" in flags and "--no-invoker-iam-check" in flags:
        return "argument --invoker-iam-check: At most one of --[no-]invoker-iam-check may be specified"
    return None


_OUTSIDE = "One or more users named in the policy do not belong to a permitted customer."


def _no_public_grant(flags: Mapping[str, str]) -> str | None:
    member = flags.get("--member", "")
    restricted = os.environ.get("FAKE_GCLOUD_RESTRICTED_DOMAIN")
    if not restricted:
        return None
    _kind, _, who = member.partition(":")
    domain = who.rpartition("@")[2] if "@" in who else who
    public = member in {"allUsers", "allAuthenticatedUsers"}
    if public or (not member.startswith("serviceAccount:") and domain != restricted):
        return f"FAILED_PRECONDITION: {_OUTSIDE}"
    return None


COMMANDS: dict[tuple[str, ...], Spec] = {
    ("config", "get-value"): Spec((1, 1)),
    ("services", "enable"): Spec((1, -1), bools=frozenset({"--async"})),
    ("secrets", "describe"): Spec((1, 1), values=frozenset({"--location"})),
    ("secrets", "create"): Spec(
        (1, 1),
        values=frozenset(
            {"--data-file", "--replication-policy", "--locations", "--labels", "--kms-key-name", "--ttl"}
        ),
    ),
    ("secrets", "versions", "add"): Spec(
        (1, 1), values=frozenset({"--data-file", "--location"}), required=frozenset({"--data-file"})
    ),
    ("secrets", "get-iam-policy"): Spec((1, 1), values=frozenset({"--location"})),
    ("secrets", "add-iam-policy-binding"): Spec(
        (1, 1),
        values=frozenset({"--member", "--role", "--condition", "--condition-from-file", "--location"}),
        required=frozenset({"--member", "--role"}),
        exclusive=(frozenset({"--condition", "--condition-from-file"}),),
    ),
    ("iam", "service-accounts", "describe"): Spec((1, 1)),
    ("iam", "service-accounts", "create"): Spec(
        (1, 1), values=frozenset({"--display-name", "--description"})
    ),
    ("functions", "deploy"): Spec(
        (1, 1),
        values=frozenset(
            {
                "--region",
                "--runtime",
                "--source",
                "--entry-point",
                "--service-account",
                "--run-service-account",
                "--timeout",
                "--memory",
                "--cpu",
                "--concurrency",
                "--max-instances",
                "--min-instances",
                "--ingress-settings",
                "--egress-settings",
                "--set-env-vars",
                "--update-env-vars",
                "--remove-env-vars",
                "--env-vars-file",
                "--set-secrets",
                "--update-secrets",
                "--remove-secrets",
                "--set-build-env-vars",
                "--build-service-account",
                "--docker-repository",
                "--trigger-topic",
                "--trigger-bucket",
                "--trigger-event",
                "--trigger-event-filters",
                "--trigger-location",
                "--update-labels",
                "--security-level",
            }
        ),
        bools=frozenset(
            {"--gen2", "--no-gen2", "--trigger-http", "--retry", "--clear-env-vars", "--clear-secrets"}
        )
        | _negatable("allow-unauthenticated"),
        exclusive=(
            frozenset({"--clear-env-vars", "--env-vars-file", "--set-env-vars", "--update-env-vars"}),
            frozenset({"--clear-env-vars", "--env-vars-file", "--set-env-vars", "--remove-env-vars"}),
            frozenset({"--clear-secrets", "--set-secrets", "--update-secrets"}),
            frozenset({"--clear-secrets", "--set-secrets", "--remove-secrets"}),
            frozenset({"--trigger-http", "--trigger-topic", "--trigger-bucket", "--trigger-event"}),
            frozenset({"--allow-unauthenticated", "--no-allow-unauthenticated"}),
            frozenset({"--gen2", "--no-gen2"}),
        ),
        rules=(_cpu_needs_memory_and_gen2, _timeout_within_an_hour, _cpu_fits_memory),
    ),
    ("functions", "describe"): Spec((1, 1), values=frozenset({"--region"}), bools=frozenset({"--gen2"})),
    ("run", "services", "update"): Spec(
        (1, 1),
        values=frozenset(
            {
                "--region",
                "--add-custom-audiences",
                "--remove-custom-audiences",
                "--cpu",
                "--memory",
                "--timeout",
                "--update-env-vars",
                "--update-secrets",
            }
        ),
        bools=_negatable("invoker-iam-check") | frozenset({"--clear-custom-audiences"}),
        exclusive=(
            frozenset({"--clear-custom-audiences", "--add-custom-audiences"}),
            frozenset({"--clear-custom-audiences", "--remove-custom-audiences"}),
        ),
        rules=(_one_of_iam_check, _cpu_fits_memory),
    ),
    ("run", "services", "add-iam-policy-binding"): Spec(
        (1, 1),
        values=frozenset({"--region", "--member", "--role", "--condition"}),
        required=frozenset({"--member", "--role"}),
        rules=(_no_public_grant,),
    ),
}


def parse(args: Sequence[str]) -> tuple[tuple[str, ...], list[str], dict[str, str]]:
    """The command path, its positional arguments and its flags (``--x=v`` or ``--x v``), checked."""
    words = [a for a in args if not a.startswith("-")]
    command = next(
        (path for path in sorted(COMMANDS, key=len, reverse=True) if tuple(words[: len(path)]) == path), None
    )
    if command is None:
        raise Refused(f"ERROR: (gcloud) Invalid choice: '{' '.join(words[:3])}'.")
    spec = COMMANDS[command]
    name = "gcloud." + ".".join(command)
    positionals: list[str] = []
    flags: dict[str, str] = {}
    unknown: list[str] = []
    rest = list(args)
    path_left = list(command)
    while rest:
        arg = rest.pop(0)
        if not arg.startswith("-"):
            if path_left and arg == path_left[0]:
                path_left.pop(0)
            else:
                positionals.append(arg)
            continue
        flag, has_value, value = arg.partition("=")
        if flag in GLOBAL_BOOL_FLAGS or flag in spec.bools:
            if has_value:
                raise Refused(f"ERROR: ({name}) argument {flag}: ignored explicit argument '{value}'")
            flags[flag] = ""
        elif flag in GLOBAL_VALUE_FLAGS or flag in spec.values:
            if not has_value:
                if not rest:
                    raise Refused(f"ERROR: ({name}) argument {flag}: expected one argument")
                value = rest.pop(0)
            flags[flag] = value
        else:
            unknown.append(arg)
    if unknown:
        raise Refused(f"ERROR: ({name}) unrecognized arguments: {' '.join(unknown)}")
    low, high = spec.positionals
    if len(positionals) < low or (high >= 0 and len(positionals) > high):
        raise Refused(f"ERROR: ({name}) wrong number of arguments: {positionals}")
    for flag in sorted(spec.required - set(flags)):
        raise Refused(f"ERROR: ({name}) argument {flag}: Must be specified.")
    for group in spec.exclusive:
        given = sorted(group & set(flags))
        if len(given) > 1:
            raise Refused(
                f"ERROR: ({name}) argument {given[0]}: At most one of {' | '.join(sorted(group))} "
                "can be specified."
            )
    for rule in spec.rules:
        problem = rule(flags)
        if problem:
            api = problem.startswith(("FAILED_PRECONDITION", "INVALID_ARGUMENT"))
            raise Refused(f"ERROR: ({name}) {problem}", code=1 if api else 2)
    return command, positionals, flags


def main(argv: Sequence[str]) -> int:
    state = os.environ["FAKE_GCLOUD_STATE"]
    args = list(argv)
    with open(os.path.join(state, "calls.jsonl"), "a", encoding="utf-8") as log:
        log.write(json.dumps({"args": args}) + "\n")
    try:
        command, positionals, flags = parse(args)
    except Refused as refused:
        sys.stderr.write(f"{refused}\n")
        with open(os.path.join(state, "refused.jsonl"), "a", encoding="utf-8") as log:
            log.write(json.dumps({"args": args, "error": str(refused)}) + "\n")
        return refused.code

    def path(name: str) -> str:
        return os.path.join(state, name.replace("/", "_"))

    def mark(name: str) -> None:
        open(path(name), "w").close()

    def marked(name: str) -> bool:
        return os.path.exists(path(name))

    if flags.get("--data-file") == "-":
        received = sys.stdin.read()
        with open(os.path.join(state, "stdin.jsonl"), "a", encoding="utf-8") as log:
            log.write(json.dumps({"secret": positionals[0], "value": received}) + "\n")

    if command == ("config", "get-value"):
        print(os.environ.get("FAKE_GCLOUD_PROJECT", ""))
    elif command in {("secrets", "describe"), ("iam", "service-accounts", "describe")}:
        if not marked(f"{command[0]}-{positionals[0]}"):
            sys.stderr.write(
                f"ERROR: (gcloud.{'.'.join(command)}) NOT_FOUND: {positionals[0]} was not found\n"
            )
            return 1
    elif command == ("secrets", "create"):
        if marked(f"secrets-{positionals[0]}"):
            sys.stderr.write(f"ERROR: (gcloud.secrets.create) ALREADY_EXISTS: {positionals[0]}\n")
            return 1
        mark(f"secrets-{positionals[0]}")
    elif command == ("iam", "service-accounts", "create"):
        sa = f"{positionals[0]}@{flags.get('--project', '')}.iam.gserviceaccount.com"
        mark(f"iam-{sa}")
    elif command == ("secrets", "get-iam-policy"):
        if marked(f"binding-{positionals[0]}"):
            print("serviceAccount:" + os.environ["FAKE_GCLOUD_SA"])
    elif command == ("secrets", "add-iam-policy-binding"):
        mark(f"binding-{positionals[0]}")
    elif command == ("functions", "describe"):
        print(os.environ["FAKE_GCLOUD_URL"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
