#!/usr/bin/env bash
# Deploy the upload function (Cloud Functions 2nd gen, a Cloud Run service) with its secrets, a
# least-privilege identity, and Cloud Run's invoker check in front. Safe to run again: what exists is
# left as it is, and the function is updated in place.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/function.sh [options]

Every option can also be given as the environment variable in brackets.

  --project ID             Google Cloud project [PROJECT] (default: gcloud's configured project)
  --region REGION          region [REGION] (default: me-west1, Tel Aviv)
  --function NAME          function name [FUNCTION_NAME] (default: callmarker-upload)
  --secret NAME            Secret Manager secret holding the CallMarker token [SECRET_NAME]
                           (default: callmarker-token). Created when missing; its value is read from
                           CALLMARKER_TOKEN or asked for, and reaches gcloud on stdin only.
  --cursor-secret NAME     secret holding the key that signs job cursors [CURSOR_SECRET_NAME]
                           (default: callmarker-cursor-key). Created when missing with 32 random bytes
                           made on this machine, never shown, handed to gcloud on stdin.
  --service-account NAME   the function's runtime identity [SERVICE_ACCOUNT] (default: callmarker-upload)
  --audiences LIST         OAuth client id(s) of the add-in's Apps Script project, comma-separated
                           [ID_TOKEN_AUDIENCES] (required)
  --allowed-emails LIST    emails allowed to call, comma-separated [ALLOWED_EMAILS]
  --allowed-domains LIST   Workspace domains allowed to call, comma-separated [ALLOWED_DOMAINS]
                           (at least one of the two is required: the function is never open to all)
  --invoker-mode MODE      iam (default) or public [INVOKER_MODE]
                             iam: Cloud Run admits only callers holding roles/run.invoker, with the
                                  add-in's client ids as custom audiences; the function checks again.
                             public: Cloud Run's invoker check is switched off (--no-invoker-iam-check);
                                  the function alone checks every caller. For consumer Google accounts.
  --invoker MEMBER         iam mode: who may call, granted roles/run.invoker; repeatable. A Google Group
                           (group:sales-reps@example.co.il) or a whole domain (domain:example.co.il);
                           user:... works too. Default: domain:D for each allowed domain, or user:E
                           for each allowed email when no domain is. allUsers and
                           allAuthenticatedUsers are refused.
  --env KEY=VALUE          another setting for the function (TIME_BUDGET_S=40, LOG_LEVEL=DEBUG...); repeatable
  --timeout DURATION       request timeout [TIMEOUT] (default: 120s; at least 60s)
  --memory SIZE            memory [MEMORY] (default: 512Mi)
  --cpu N                  vCPUs [CPU] (default: 1; at 512Mi Google would give 0.333, and a step's
                           work then takes up to three times as long: docs/deploy.md). Cloud Run takes
                           0.08 to 1 in steps of 0.001, or 2, 4, 6 or 8, each with its range of memory
  --rotate-token           add a new version of the token secret from CALLMARKER_TOKEN or the prompt
  --rotate-cursor-key      add a new random cursor key (cursors of jobs under way stop working)
  --dry-run                print every command instead of running it (no secret is ever printed)
  -h, --help               this help
EOF
}

PROJECT="${PROJECT:-}"
REGION="${REGION:-me-west1}"
FUNCTION_NAME="${FUNCTION_NAME:-callmarker-upload}"
SECRET_NAME="${SECRET_NAME:-callmarker-token}"
CURSOR_SECRET_NAME="${CURSOR_SECRET_NAME:-callmarker-cursor-key}"
SERVICE_ACCOUNT="${SERVICE_ACCOUNT:-callmarker-upload}"
ID_TOKEN_AUDIENCES="${ID_TOKEN_AUDIENCES:-}"
ALLOWED_EMAILS="${ALLOWED_EMAILS:-}"
ALLOWED_DOMAINS="${ALLOWED_DOMAINS:-}"
INVOKER_MODE="${INVOKER_MODE:-iam}"
TIMEOUT="${TIMEOUT:-120s}"
MEMORY="${MEMORY:-512Mi}"
CPU="${CPU:-1}"
DRY_RUN=false
ROTATE_TOKEN=false
ROTATE_CURSOR_KEY=false
EXTRA_ENV=()
INVOKERS=()

die() { echo "deploy/function.sh: $*" >&2; exit 2; }
need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --project) need_value "$@"; PROJECT="$2"; shift 2 ;;
    --region) need_value "$@"; REGION="$2"; shift 2 ;;
    --function) need_value "$@"; FUNCTION_NAME="$2"; shift 2 ;;
    --secret) need_value "$@"; SECRET_NAME="$2"; shift 2 ;;
    --cursor-secret) need_value "$@"; CURSOR_SECRET_NAME="$2"; shift 2 ;;
    --service-account) need_value "$@"; SERVICE_ACCOUNT="$2"; shift 2 ;;
    --audiences) need_value "$@"; ID_TOKEN_AUDIENCES="$2"; shift 2 ;;
    --allowed-emails) need_value "$@"; ALLOWED_EMAILS="$2"; shift 2 ;;
    --allowed-domains) need_value "$@"; ALLOWED_DOMAINS="$2"; shift 2 ;;
    --invoker-mode) need_value "$@"; INVOKER_MODE="$2"; shift 2 ;;
    --invoker) need_value "$@"; INVOKERS+=("$2"); shift 2 ;;
    --env) need_value "$@"; EXTRA_ENV+=("$2"); shift 2 ;;
    --timeout) need_value "$@"; TIMEOUT="$2"; shift 2 ;;
    --memory) need_value "$@"; MEMORY="$2"; shift 2 ;;
    --cpu) need_value "$@"; CPU="$2"; shift 2 ;;
    --rotate-token) ROTATE_TOKEN=true; shift ;;
    --rotate-cursor-key) ROTATE_CURSOR_KEY=true; shift ;;
    --dry-run) DRY_RUN=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

# Check everything before touching anything, so a typo never leaves a half-made deployment.
[[ -n "$ID_TOKEN_AUDIENCES" ]] ||
  die "ID_TOKEN_AUDIENCES (--audiences) is required: the OAuth client id of the add-in's Apps Script project"
[[ -n "$ALLOWED_EMAILS$ALLOWED_DOMAINS" ]] ||
  die "ALLOWED_EMAILS or ALLOWED_DOMAINS (--allowed-emails/--allowed-domains) is required"
[[ "$INVOKER_MODE" == iam || "$INVOKER_MODE" == public ]] ||
  die "--invoker-mode must be iam or public, got '$INVOKER_MODE'"
[[ "$TIMEOUT" =~ ^([0-9]+)s$ ]] && (( BASH_REMATCH[1] >= 60 && BASH_REMATCH[1] <= 3600 )) ||
  die "--timeout must be 60s to 3600s (Apps Script waits about 60 s), got '$TIMEOUT'"
[[ "$CPU" =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--cpu takes a number of vCPUs such as 1 or 0.583, got '$CPU'"
[[ ${#INVOKERS[@]} -eq 0 || "$INVOKER_MODE" == iam ]] ||
  die "--invoker only makes sense with --invoker-mode iam: a public function has no invoker check"
for member in "${INVOKERS[@]}"; do
  case "$member" in
    allUsers|allAuthenticatedUsers|*:allUsers|*:allAuthenticatedUsers)
      die "--invoker $member would let anyone call the function; use --invoker-mode public instead (the function still checks every caller)" ;;
    domain:?*|group:?*@?*|user:?*@?*|serviceAccount:?*@?*) ;;
    *) die "--invoker takes domain:DOMAIN, group:EMAIL or user:EMAIL, got '$member'" ;;
  esac
done
for pair in "${EXTRA_ENV[@]}"; do
  [[ "$pair" =~ ^[A-Z][A-Z0-9_]*=.*$ ]] || die "--env takes KEY=VALUE, got '$pair'"
  [[ "$pair" != CALLMARKER_TOKEN=* && "$pair" != CURSOR_SIGNING_KEY=* ]] ||
    die "${pair%%=*} comes from Secret Manager, never from --env"
  [[ "$pair" != *";"* ]] || die "--env values cannot contain ';'"
done
for value in "$ID_TOKEN_AUDIENCES" "$ALLOWED_EMAILS" "$ALLOWED_DOMAINS"; do
  [[ "$value" != *";"* ]] || die "lists are comma-separated; ';' is not allowed"
done

# Who may call when no --invoker is given: the allowed domains; or, when only emails are allowed, those
# accounts. Accounts outside the domain are left out next to a domain: the domain-restricted-sharing
# policy refuses them, and consumer accounts belong in public mode.
DEFAULT_INVOKERS=false
if [[ "$INVOKER_MODE" == iam && ${#INVOKERS[@]} -eq 0 ]]; then
  DEFAULT_INVOKERS=true
  IFS=, read -ra _domains <<<"$ALLOWED_DOMAINS"
  IFS=, read -ra _emails <<<"$ALLOWED_EMAILS"
  for d in "${_domains[@]}"; do [[ -z "${d// /}" ]] || INVOKERS+=("domain:${d// /}"); done
  if [[ ${#INVOKERS[@]} -eq 0 ]]; then
    for e in "${_emails[@]}"; do [[ -z "${e// /}" ]] || INVOKERS+=("user:${e// /}"); done
  fi
fi

command -v gcloud >/dev/null || die "gcloud is not installed (https://cloud.google.com/sdk/docs/install)"
cd "$(dirname "$0")/.."

if [[ -z "$PROJECT" ]]; then
  # Reads gcloud's local configuration only; runs in --dry-run too.
  PROJECT="$(gcloud config get-value project 2>/dev/null || true)"
  [[ -n "$PROJECT" ]] || die "no project: pass --project or set PROJECT (or run 'gcloud config set project ID')"
fi
SA_EMAIL="${SERVICE_ACCOUNT}@${PROJECT}.iam.gserviceaccount.com"

show() { printf '+'; printf ' %q' "$@"; printf '\n'; }

# Runs a command, or prints it under --dry-run.
run() {
  if [[ "$DRY_RUN" == true ]]; then show "$@"; else "$@"; fi
}

# True when a read-only check succeeds. Under --dry-run nothing is checked: it prints the check and
# answers "no", so the printout shows every command a first deployment would run.
exists() {
  if [[ "$DRY_RUN" == true ]]; then show "$@"; return 1; fi
  "$@" >/dev/null 2>&1
}

# The token is read here and handed to gcloud on stdin: never an argument (visible in ps), never echoed.
CALLMARKER_TOKEN_VALUE=""
read_token() {
  if [[ -n "${CALLMARKER_TOKEN:-}" ]]; then
    CALLMARKER_TOKEN_VALUE="$CALLMARKER_TOKEN"
  else
    read -rs -p "CallMarker API token (not shown): " CALLMARKER_TOKEN_VALUE || true
    echo >&2
  fi
  [[ -n "$CALLMARKER_TOKEN_VALUE" ]] || die "no CallMarker token given (set CALLMARKER_TOKEN or type it at the prompt)"
}

run_with_token() {
  if [[ "$DRY_RUN" == true ]]; then
    show "$@"
    echo "  (stdin: the CallMarker token from CALLMARKER_TOKEN or the prompt, not shown)"
    return 0
  fi
  [[ -n "$CALLMARKER_TOKEN_VALUE" ]] || read_token
  printf '%s' "$CALLMARKER_TOKEN_VALUE" | "$@"
}

# 32 random bytes as base64url (with its padding), made here and piped straight into gcloud.
run_with_new_cursor_key() {
  if [[ "$DRY_RUN" == true ]]; then
    show "$@"
    echo "  (stdin: 32 random bytes from /dev/urandom, base64url, made on this machine, not shown)"
    return 0
  fi
  head -c 32 /dev/urandom | base64 | tr -d '\n' | tr '+/' '-_' | "$@"
}

# Adds roles/secretmanager.secretAccessor on one secret for the runtime identity, once.
grant_secret() {
  local secret="$1" bound=""
  if [[ "$DRY_RUN" == true ]]; then
    show gcloud secrets get-iam-policy "$secret" --project="$PROJECT" "(...)"
  else
    bound="$(gcloud secrets get-iam-policy "$secret" --project="$PROJECT" \
      --flatten="bindings[].members" \
      --filter="bindings.role=roles/secretmanager.secretAccessor AND bindings.members=serviceAccount:$SA_EMAIL" \
      --format="value(bindings.members)")"
  fi
  if [[ -n "$bound" ]]; then
    echo "   already reads $secret" >&2
  else
    run gcloud secrets add-iam-policy-binding "$secret" \
      --member="serviceAccount:$SA_EMAIL" --role=roles/secretmanager.secretAccessor \
      --project="$PROJECT" --condition=None
  fi
}

echo "== Deploying $FUNCTION_NAME to $PROJECT ($REGION), invoker mode: $INVOKER_MODE" >&2

echo "== APIs" >&2
run gcloud services enable \
  cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com \
  secretmanager.googleapis.com artifactregistry.googleapis.com sheets.googleapis.com \
  --project="$PROJECT"

echo "== Secret $SECRET_NAME (the CallMarker token)" >&2
if exists gcloud secrets describe "$SECRET_NAME" --project="$PROJECT"; then
  if [[ "$ROTATE_TOKEN" == true ]]; then
    run_with_token gcloud secrets versions add "$SECRET_NAME" --data-file=- --project="$PROJECT"
  else
    echo "   exists; kept (--rotate-token adds a new version)" >&2
  fi
else
  run_with_token gcloud secrets create "$SECRET_NAME" \
    --replication-policy=automatic --data-file=- --project="$PROJECT"
fi

echo "== Secret $CURSOR_SECRET_NAME (the key that signs cursors)" >&2
if exists gcloud secrets describe "$CURSOR_SECRET_NAME" --project="$PROJECT"; then
  if [[ "$ROTATE_CURSOR_KEY" == true ]]; then
    run_with_new_cursor_key gcloud secrets versions add "$CURSOR_SECRET_NAME" --data-file=- --project="$PROJECT"
  else
    echo "   exists; kept (--rotate-cursor-key adds a new key)" >&2
  fi
else
  run_with_new_cursor_key gcloud secrets create "$CURSOR_SECRET_NAME" \
    --replication-policy=automatic --data-file=- --project="$PROJECT"
fi

echo "== Runtime service account $SA_EMAIL" >&2
if exists gcloud iam service-accounts describe "$SA_EMAIL" --project="$PROJECT"; then
  echo "   exists; kept" >&2
else
  run gcloud iam service-accounts create "$SERVICE_ACCOUNT" \
    --display-name="CallMarker upload function" --project="$PROJECT"
fi
# Its only roles: reading these two secrets. The sheet is reached with the user's own token.
grant_secret "$SECRET_NAME"
grant_secret "$CURSOR_SECRET_NAME"

echo "== Function" >&2
# gcloud splits --set-env-vars on commas, and our lists hold commas: '^;^' makes ';' the separator.
env_vars="^;^ID_TOKEN_AUDIENCES=$ID_TOKEN_AUDIENCES"
[[ -z "$ALLOWED_EMAILS" ]] || env_vars+=";ALLOWED_EMAILS=$ALLOWED_EMAILS"
[[ -z "$ALLOWED_DOMAINS" ]] || env_vars+=";ALLOWED_DOMAINS=$ALLOWED_DOMAINS"
for pair in "${EXTRA_ENV[@]}"; do env_vars+=";$pair"; done
# The CPU is set, not left to follow memory: 512 MiB alone gets a third of a vCPU, and a step's CPU work
# (reading, validating, encoding tens of thousands of rows) would stretch the step three times.
sizing=(--memory="$MEMORY" --cpu="$CPU")

# Never --allow-unauthenticated: that grants allUsers the invoker role, which organisations with the
# domain-restricted-sharing policy refuse. Public mode switches the invoker check off instead, below.
run gcloud functions deploy "$FUNCTION_NAME" \
  --gen2 --runtime=python312 --region="$REGION" --project="$PROJECT" \
  --source=function --entry-point=upload_rows --trigger-http \
  --service-account="$SA_EMAIL" \
  --set-secrets="CALLMARKER_TOKEN=$SECRET_NAME:latest,CURSOR_SIGNING_KEY=$CURSOR_SECRET_NAME:latest" \
  --set-env-vars="$env_vars" \
  --timeout="$TIMEOUT" "${sizing[@]}" \
  --no-allow-unauthenticated

echo "== Who may call" >&2
if [[ "$INVOKER_MODE" == iam ]]; then
  # Apps Script's ID token is issued for the add-in's OAuth client, not for this URL: Cloud Run admits
  # it only when that client id is one of the service's custom audiences.
  run gcloud run services update "$FUNCTION_NAME" --region="$REGION" --project="$PROJECT" \
    --invoker-iam-check --add-custom-audiences="$ID_TOKEN_AUDIENCES"
  if [[ "$DEFAULT_INVOKERS" == true && -n "$ALLOWED_DOMAINS" && -n "$ALLOWED_EMAILS" ]]; then
    echo "   ALLOWED_EMAILS are not granted the invoker role next to a domain: pass --invoker user:EMAIL for" \
      "those outside it, or deploy with --invoker-mode public" >&2
  fi
  for member in "${INVOKERS[@]}"; do
    run gcloud run services add-iam-policy-binding "$FUNCTION_NAME" --region="$REGION" --project="$PROJECT" \
      --member="$member" --role=roles/run.invoker
  done
else
  run gcloud run services update "$FUNCTION_NAME" --region="$REGION" --project="$PROJECT" \
    --no-invoker-iam-check
  echo "   public: anyone can reach the URL; the function admits only the allowed emails and domains" >&2
fi

if [[ "$DRY_RUN" == true ]]; then
  show gcloud functions describe "$FUNCTION_NAME" --gen2 --region="$REGION" --project="$PROJECT" \
    --format="value(serviceConfig.uri)"
else
  url="$(gcloud functions describe "$FUNCTION_NAME" --gen2 --region="$REGION" --project="$PROJECT" \
    --format="value(serviceConfig.uri)")"
  echo "== Deployed. The add-in calls this URL:" >&2
  echo "$url"
fi
