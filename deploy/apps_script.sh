#!/usr/bin/env bash
# Push the add-in (apps_script/) to the Apps Script project bound to your spreadsheet, with the
# function's URL and ID-token audience written into the pushed copy. Safe to run again.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/apps_script.sh [options]

Every option can also be given as the environment variable in brackets.

  --function-url URL     the function's HTTPS URL, as deploy/function.sh prints it [FUNCTION_URL] (required)
  --audience ID          the OAuth client id the function accepts in ID tokens [ID_TOKEN_AUDIENCE]
                         (optional; when set, a refused sign-in names both audiences)
  --spreadsheet-id ID    the spreadsheet to bind a new script to, used only when
                         apps_script/.clasp.json does not exist yet [SPREADSHEET_ID]
  --dry-run              print every command instead of running it
  -h, --help             this help

The script id is read from apps_script/.clasp.json (copy apps_script/.clasp.json.example and paste the
id from Extensions > Apps Script > Project settings), or created with
`clasp create --type sheets --parentId SPREADSHEET_ID` when that file is missing.
Run `npx clasp login` once before the first push.
EOF
}

FUNCTION_URL="${FUNCTION_URL:-}"
ID_TOKEN_AUDIENCE="${ID_TOKEN_AUDIENCE:-}"
SPREADSHEET_ID="${SPREADSHEET_ID:-}"
DRY_RUN=false
SCRIPT_TITLE="CallMarker"

die() {
  echo "deploy/apps_script.sh: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
    --function-url) FUNCTION_URL="${2:?--function-url needs a URL}"; shift 2 ;;
    --function-url=*) FUNCTION_URL="${1#*=}"; shift ;;
    --audience) ID_TOKEN_AUDIENCE="${2:?--audience needs a client id}"; shift 2 ;;
    --audience=*) ID_TOKEN_AUDIENCE="${1#*=}"; shift ;;
    --spreadsheet-id) SPREADSHEET_ID="${2:?--spreadsheet-id needs an id}"; shift 2 ;;
    --spreadsheet-id=*) SPREADSHEET_ID="${1#*=}"; shift ;;
    --dry-run) DRY_RUN=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SOURCE="$ROOT/apps_script"
CLASP_JSON="$SOURCE/.clasp.json"

[ -n "$FUNCTION_URL" ] || die "the function's URL is missing: pass --function-url URL or set FUNCTION_URL (deploy/function.sh prints it)"
case "$FUNCTION_URL" in
  https://?*) ;;
  *) die "the function's URL must start with https:// (Apps Script calls only HTTPS): $FUNCTION_URL" ;;
esac
command -v node >/dev/null || die "node is needed (Node 20 or later)"

# The project's own clasp (npm ci installs it), else one on PATH.
if [ -n "${CLASP:-}" ]; then
  clasp=("$CLASP")
elif [ -x "$ROOT/node_modules/.bin/clasp" ]; then
  clasp=("$ROOT/node_modules/.bin/clasp")
elif command -v clasp >/dev/null; then
  clasp=(clasp)
elif $DRY_RUN; then
  clasp=(clasp)
else
  die "clasp is not installed: run npm ci in the repository first"
fi

# Prints a command, or runs it. The working directory is a first argument so dry runs show it.
run_in() {
  local dir="$1"
  shift
  if $DRY_RUN; then
    printf '+ (cd %q &&' "$dir"
    printf ' %q' "$@"
    printf ')\n'
  else
    (cd "$dir" && "$@")
  fi
}

# Reads one string field of a JSON file.
json_field() {
  node -e 'const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]];
    if (typeof v !== "string" || !v) process.exit(1); process.stdout.write(v);' "$1" "$2"
}

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT

# ---- the script to push to
if [ -f "$CLASP_JSON" ]; then
  SCRIPT_ID="$(json_field "$CLASP_JSON" scriptId)" || die "apps_script/.clasp.json has no scriptId"
  case "$SCRIPT_ID" in
    PASTE_*) die "apps_script/.clasp.json still holds the example's placeholder: paste your script id (Extensions > Apps Script > Project settings)" ;;
  esac
  echo "== Script $SCRIPT_ID (from apps_script/.clasp.json)" >&2
else
  [ -n "$SPREADSHEET_ID" ] || die "apps_script/.clasp.json is missing: copy apps_script/.clasp.json.example to apps_script/.clasp.json and paste your script id, or pass --spreadsheet-id ID to create a script bound to that spreadsheet"
  echo "== Creating a script bound to spreadsheet $SPREADSHEET_ID" >&2
  # In a scratch folder: clasp create writes a default manifest and code there, not over ours.
  mkdir -p "$STAGE/create"
  run_in "$STAGE/create" "${clasp[@]}" create --type sheets --title "$SCRIPT_TITLE" --parentId "$SPREADSHEET_ID"
  if $DRY_RUN; then
    SCRIPT_ID="NEW_SCRIPT_ID"
    echo "+ write apps_script/.clasp.json with the new script id" >&2
  else
    SCRIPT_ID="$(json_field "$STAGE/create/.clasp.json" scriptId)" || die "clasp create did not report a script id"
    node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify({ scriptId: process.argv[2], rootDir: "." }, null, 2) + "\n")' \
      "$CLASP_JSON" "$SCRIPT_ID"
    echo "   wrote apps_script/.clasp.json (script $SCRIPT_ID); later runs push to the same script" >&2
  fi
fi

# ---- the copy to push: the add-in, its Config.js and manifest written for this function
mkdir -p "$STAGE/push"
cp "$SOURCE"/*.js "$SOURCE"/*.html "$SOURCE/appsscript.json" "$STAGE/push/"
node - "$STAGE/push" "$FUNCTION_URL" "$ID_TOKEN_AUDIENCE" "$SCRIPT_ID" <<'EOF'
const fs = require('fs');
const path = require('path');
const [dir, functionUrl, audience, scriptId] = process.argv.slice(2);
const config = { functionUrl, idTokenAudience: audience };
fs.writeFileSync(path.join(dir, 'Config.js'),
  '/** Where the add-in finds the Cloud Function. Written by deploy/apps_script.sh. */\n\n' +
  `const CONFIG = Object.freeze(${JSON.stringify(config, null, 2)});\n`);
const manifestFile = path.join(dir, 'appsscript.json');
const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
// UrlFetchApp may call this function's origin and nothing else.
manifest.urlFetchWhitelist = [new URL(functionUrl).origin + '/'];
fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
fs.writeFileSync(path.join(dir, '.clasp.json'), JSON.stringify({ scriptId, rootDir: '.' }, null, 2) + '\n');
EOF

echo "== Pushing the add-in ($(ls "$STAGE/push" | wc -l | tr -d ' ') files) to script $SCRIPT_ID" >&2
echo "   function: $FUNCTION_URL" >&2
# --force: our manifest (scopes, allowed URLs) replaces the one in the project.
run_in "$STAGE/push" "${clasp[@]}" push --force
if $DRY_RUN; then
  echo "== Dry run: nothing was created or pushed" >&2
else
  echo "== Pushed. Reload the spreadsheet: the CallMarker menu appears next to Help." >&2
fi
