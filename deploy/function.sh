#!/usr/bin/env bash
# Deploy the upload function (Cloud Functions 2nd gen) with its secret and a least-privilege identity.
# Safe to run again: what exists is left as it is, and the function is updated in place.
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
  --service-account NAME   the function's runtime identity [SERVICE_ACCOUNT] (default: callmarker-upload)
  --audiences LIST         OAuth client id(s) of the add-in, comma-separated [ID_TOKEN_AUDIENCES] (required)
  --allowed-emails LIST    emails allowed to call, comma-separated [ALLOWED_EMAILS]
  --allowed-domains LIST   Workspace domains allowed to call, comma-separated [ALLOWED_DOMAINS]
                           (at least one of the two is required: the function is never open to all)
  --sheets-credentials M   caller (default) or service_account [SHEETS_CREDENTIALS]
  --env KEY=VALUE          another setting for the function (TIME_BUDGET_S=40, LOG_LEVEL=DEBUG...); repeatable
  --timeout DURATION       request timeout [TIMEOUT] (default: 120s; at least 60s)
  --memory SIZE            memory [MEMORY] (default: 512Mi)
  --iam                    keep Cloud Run IAM in front as well: callers also need roles/run.invoker
  --invoker MEMBER         with --iam: grant roles/run.invoker to MEMBER (user:a@b.c, group:g@b.c); repeatable
  --rotate-token           add a new version of an existing secret from CALLMARKER_TOKEN or the prompt
  --dry-run                print every command instead of running it (the token is never printed)
  -h, --help               this help
EOF
}

PROJECT="${PROJECT:-}"
REGION="${REGION:-me-west1}"
FUNCTION_NAME="${FUNCTION_NAME:-callmarker-upload}"
SECRET_NAME="${SECRET_NAME:-callmarker-token}"
SERVICE_ACCOUNT="${SERVICE_ACCOUNT:-callmarker-upload}"
ID_TOKEN_AUDIENCES="${ID_TOKEN_AUDIENCES:-}"
ALLOWED_EMAILS="${ALLOWED_EMAILS:-}"
ALLOWED_DOMAINS="${ALLOWED_DOMAINS:-}"
SHEETS_CREDENTIALS="${SHEETS_CREDENTIALS:-caller}"
TIMEOUT="${TIMEOUT:-120s}"
MEMORY="${MEMORY:-512Mi}"
IAM=false
DRY_RUN=false
ROTATE_TOKEN=false
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
    --service-account) need_value "$@"; SERVICE_ACCOUNT="$2"; shift 2 ;;
    --audiences) need_value "$@"; ID_TOKEN_AUDIENCES="$2"; shift 2 ;;
    --allowed-emails) need_value "$@"; ALLOWED_EMAILS="$2"; shift 2 ;;
    --allowed-domains) need_value "$@"; ALLOWED_DOMAINS="$2"; shift 2 ;;
    --sheets-credentials) need_value "$@"; SHEETS_CREDENTIALS="$2"; shift 2 ;;
    --env) need_value "$@"; EXTRA_ENV+=("$2"); shift 2 ;;
    --timeout) need_value "$@"; TIMEOUT="$2"; shift 2 ;;
    --memory) need_value "$@"; MEMORY="$2"; shift 2 ;;
    --invoker) need_value "$@"; INVOKERS+=("$2"); shift 2 ;;
    --iam) IAM=true; shift ;;
    --rotate-token) ROTATE_TOKEN=true; shift ;;
    --dry-run) DRY_RUN=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

# Check everything before touching anything, so a typo never leaves a half-made deployment.
[[ -n "$ID_TOKEN_AUDIENCES" ]] || die "ID_TOKEN_AUDIENCES (--audiences) is required: the add-in's OAuth client id"
[[ -n "$ALLOWED_EMAILS$ALLOWED_DOMAINS" ]] ||
  die "ALLOWED_EMAILS or ALLOWED_DOMAINS (--allowed-emails/--allowed-domains) is required"
[[ "$SHEETS_CREDENTIALS" == caller || "$SHEETS_CREDENTIALS" == service_account ]] ||
  die "SHEETS_CREDENTIALS must be caller or service_account, got '$SHEETS_CREDENTIALS'"
[[ "$TIMEOUT" =~ ^([0-9]+)s$ ]] && (( BASH_REMATCH[1] >= 60 && BASH_REMATCH[1] <= 3600 )) ||
  die "--timeout must be 60s to 3600s (Apps Script waits about 60 s), got '$TIMEOUT'"
[[ ${#INVOKERS[@]} -eq 0 || "$IAM" == true ]] || die "--invoker only makes sense with --iam"
for pair in "${EXTRA_ENV[@]}"; do
  [[ "$pair" =~ ^[A-Z][A-Z0-9_]*=.*$ ]] || die "--env takes KEY=VALUE, got '$pair'"
  [[ "$pair" != CALLMARKER_TOKEN=* ]] || die "CALLMARKER_TOKEN comes from Secret Manager, never from --env"
  [[ "$pair" != *";"* ]] || die "--env values cannot contain ';'"
done
for value in "$ID_TOKEN_AUDIENCES" "$ALLOWED_EMAILS" "$ALLOWED_DOMAINS"; do
  [[ "$value" != *";"* ]] || die "lists are comma-separated; ';' is not allowed"
done

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

echo "== Deploying $FUNCTION_NAME to $PROJECT ($REGION)" >&2

echo "== APIs" >&2
run gcloud services enable \
  cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com \
  secretmanager.googleapis.com artifactregistry.googleapis.com sheets.googleapis.com \
  --project="$PROJECT"

echo "== Secret $SECRET_NAME" >&2
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

echo "== Runtime service account $SA_EMAIL" >&2
if exists gcloud iam service-accounts describe "$SA_EMAIL" --project="$PROJECT"; then
  echo "   exists; kept" >&2
else
  run gcloud iam service-accounts create "$SERVICE_ACCOUNT" \
    --display-name="CallMarker upload function" --project="$PROJECT"
fi

# Its only role: reading this one secret. In caller mode the sheet is reached with the user's own
# token, so the function's identity needs nothing else.
bound_member() {
  gcloud secrets get-iam-policy "$SECRET_NAME" --project="$PROJECT" \
    --flatten="bindings[].members" \
    --filter="bindings.role=roles/secretmanager.secretAccessor AND bindings.members=serviceAccount:$SA_EMAIL" \
    --format="value(bindings.members)"
}
if [[ "$DRY_RUN" == true ]]; then
  show gcloud secrets get-iam-policy "$SECRET_NAME" --project="$PROJECT" "(...)"
  bound=""
else
  bound="$(bound_member)"
fi
if [[ -n "$bound" ]]; then
  echo "   already reads $SECRET_NAME" >&2
else
  run gcloud secrets add-iam-policy-binding "$SECRET_NAME" \
    --member="serviceAccount:$SA_EMAIL" --role=roles/secretmanager.secretAccessor \
    --project="$PROJECT" --condition=None
fi

echo "== Function" >&2
# gcloud splits --set-env-vars on commas, and our lists hold commas: '^;^' makes ';' the separator.
env_vars="^;^ID_TOKEN_AUDIENCES=$ID_TOKEN_AUDIENCES;SHEETS_CREDENTIALS=$SHEETS_CREDENTIALS"
[[ -z "$ALLOWED_EMAILS" ]] || env_vars+=";ALLOWED_EMAILS=$ALLOWED_EMAILS"
[[ -z "$ALLOWED_DOMAINS" ]] || env_vars+=";ALLOWED_DOMAINS=$ALLOWED_DOMAINS"
for pair in "${EXTRA_ENV[@]}"; do env_vars+=";$pair"; done

if [[ "$IAM" == true ]]; then
  access=(--no-allow-unauthenticated)
else
  # Public at the network level on purpose: the caller is Apps Script, whose identity token is issued
  # for the add-in's OAuth client, not for this URL, so Cloud Run's IAM check cannot admit it unless
  # custom audiences are set (--iam does that). The function verifies every ID token itself
  # (signature, issuer, audience, expiry, verified email on the allowlist) before doing anything.
  access=(--allow-unauthenticated)
fi

run gcloud functions deploy "$FUNCTION_NAME" \
  --gen2 --runtime=python312 --region="$REGION" --project="$PROJECT" \
  --source=function --entry-point=upload_rows --trigger-http \
  --service-account="$SA_EMAIL" \
  --set-secrets="CALLMARKER_TOKEN=$SECRET_NAME:latest" \
  --set-env-vars="$env_vars" \
  --timeout="$TIMEOUT" --memory="$MEMORY" \
  "${access[@]}"

if [[ "$IAM" == true ]]; then
  # Cloud Run accepts an ID token whose audience is the service URL or one of its custom audiences;
  # adding the add-in's client ids lets the same Apps Script token pass both checks.
  run gcloud run services update "$FUNCTION_NAME" --region="$REGION" --project="$PROJECT" \
    --add-custom-audiences="$ID_TOKEN_AUDIENCES"
  for member in "${INVOKERS[@]}"; do
    run gcloud functions add-invoker-policy-binding "$FUNCTION_NAME" \
      --region="$REGION" --project="$PROJECT" --member="$member"
  done
fi

if [[ "$SHEETS_CREDENTIALS" == service_account ]]; then
  echo "   service_account mode: share each sheet with $SA_EMAIL (Editor) so the function can reach it" >&2
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
