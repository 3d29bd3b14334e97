#!/usr/bin/env bash
# Push the add-in (apps_script/) with the function's URL and ID-token audience written into the pushed
# copy. Two ways, both safe to run again:
#   bound (default): into the script bound to one spreadsheet, for that sheet alone;
#   --addon: into a standalone script project, then a new version and a versioned deployment, which the
#            Google Workspace Marketplace SDK publishes to a whole domain (docs/deploy.md).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/apps_script.sh [options]

Every option can also be given as the environment variable in brackets.

  --function-url URL     the function's HTTPS URL, as deploy/function.sh prints it [FUNCTION_URL] (required)
  --audience ID          the OAuth client id the function accepts in ID tokens [ID_TOKEN_AUDIENCE]
                         (optional; when set, a refused sign-in names both audiences)
  --spreadsheet-id ID    bound: the existing spreadsheet to bind a new script to, used only when
                         apps_script/.clasp.json does not exist yet [SPREADSHEET_ID]
  --addon                the add-on for a whole domain: a standalone script project (its id is kept in
                         apps_script/addon/.clasp.json), pushed, versioned and deployed
  --description TEXT     --addon: the new version's description [DESCRIPTION]
                         (default: "CallMarker add-on" and the time, UTC)
  --dry-run              print every command instead of running it
  -h, --help             this help

Bound: the script id is read from apps_script/.clasp.json (copy apps_script/.clasp.json.example and
paste the id from Extensions > Apps Script > Project settings), or a script bound to the spreadsheet
is created with `clasp create --title CallMarker --parentId SPREADSHEET_ID` when that file is missing.
--addon: the first run creates the standalone project with `clasp create --type standalone`; every run
pushes, creates a version, and points the add-on's deployment at it (printed last: the script id and
the version number the Marketplace SDK asks for).
Run `npx clasp login` once before the first push.
EOF
}

FUNCTION_URL="${FUNCTION_URL:-}"
ID_TOKEN_AUDIENCE="${ID_TOKEN_AUDIENCE:-}"
SPREADSHEET_ID="${SPREADSHEET_ID:-}"
DESCRIPTION="${DESCRIPTION:-}"
ADDON=false
DRY_RUN=false
SCRIPT_TITLE="CallMarker"
ADDON_TITLE="CallMarker for Google Sheets"

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
    --description) DESCRIPTION="${2:?--description needs a text}"; shift 2 ;;
    --description=*) DESCRIPTION="${1#*=}"; shift ;;
    --addon) ADDON=true; shift ;;
    --dry-run) DRY_RUN=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SOURCE="$ROOT/apps_script"
if $ADDON; then
  CLASP_JSON="$SOURCE/addon/.clasp.json"
else
  CLASP_JSON="$SOURCE/.clasp.json"
fi

[ -n "$FUNCTION_URL" ] || die "the function's URL is missing: pass --function-url URL or set FUNCTION_URL (deploy/function.sh prints it)"
case "$FUNCTION_URL" in
  https://?*) ;;
  *) die "the function's URL must start with https:// (Apps Script calls only HTTPS): $FUNCTION_URL" ;;
esac
if $ADDON && [ -n "$SPREADSHEET_ID" ]; then
  die "--spreadsheet-id is for a script bound to one spreadsheet; the add-on (--addon) is a standalone project"
fi
command -v node >/dev/null || die "node is needed (Node 20 or later)"
[ -n "$DESCRIPTION" ] || DESCRIPTION="CallMarker add-on $(date -u '+%Y-%m-%d %H:%M') UTC"

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

# Reads one field of a JSON file (a string, or a number printed as it is).
json_field() {
  node -e 'const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]];
    if (!(typeof v === "string" && v) && !Number.isInteger(v)) process.exit(1); process.stdout.write(String(v));' "$1" "$2"
}

# Reads one field of the JSON object clasp printed with --json (the last line that starts one).
json_output_field() {
  node -e 'const text = require("fs").readFileSync(0, "utf8"); const start = text.lastIndexOf("\n{");
    let v; try { v = JSON.parse(text.slice(start + 1))[process.argv[1]]; } catch (e) { process.exit(1); }
    if (!(typeof v === "string" && v) && !Number.isInteger(v)) process.exit(1); process.stdout.write(String(v));' "$1"
}

# Writes the project file clasp reads (and any other fields worth keeping) as JSON.
write_project() {
  node -e 'const [file, scriptId, deploymentId] = process.argv.slice(1);
    const project = { scriptId, rootDir: "." }; if (deploymentId) project.deploymentId = deploymentId;
    require("fs").mkdirSync(require("path").dirname(file), { recursive: true });
    require("fs").writeFileSync(file, JSON.stringify(project, null, 2) + "\n");' "$1" "$2" "${3:-}"
}

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
DEPLOYMENT_ID=""

# ---- the script to push to
if [ -f "$CLASP_JSON" ]; then
  SCRIPT_ID="$(json_field "$CLASP_JSON" scriptId)" || die "${CLASP_JSON#"$ROOT"/} has no scriptId"
  case "$SCRIPT_ID" in
    PASTE_*) die "apps_script/.clasp.json still holds the example's placeholder: paste your script id (Extensions > Apps Script > Project settings)" ;;
  esac
  DEPLOYMENT_ID="$(json_field "$CLASP_JSON" deploymentId 2>/dev/null)" || DEPLOYMENT_ID=""
  echo "== Script $SCRIPT_ID (from ${CLASP_JSON#"$ROOT"/})" >&2
else
  # In a scratch folder: clasp create refuses a folder with a .clasp.json, and writes a default manifest
  # and code there, not over ours.
  mkdir -p "$STAGE/create"
  if $ADDON; then
    echo "== Creating the add-on's standalone script project" >&2
    run_in "$STAGE/create" "${clasp[@]}" create --type standalone --title "$ADDON_TITLE"
  else
    [ -n "$SPREADSHEET_ID" ] || die "apps_script/.clasp.json is missing: copy apps_script/.clasp.json.example to apps_script/.clasp.json and paste your script id, or pass --spreadsheet-id ID to create a script bound to that spreadsheet"
    echo "== Creating a script bound to spreadsheet $SPREADSHEET_ID" >&2
    # --parentId alone: clasp 3.4.1 binds the new script to that file. With --type sheets it would
    # create a new, empty spreadsheet instead and ignore --parentId.
    run_in "$STAGE/create" "${clasp[@]}" create --title "$SCRIPT_TITLE" --parentId "$SPREADSHEET_ID"
  fi
  if $DRY_RUN; then
    SCRIPT_ID="NEW_SCRIPT_ID"
    echo "+ write ${CLASP_JSON#"$ROOT"/} with the new script id" >&2
  else
    SCRIPT_ID="$(json_field "$STAGE/create/.clasp.json" scriptId)" || die "clasp create did not report a script id"
    write_project "$CLASP_JSON" "$SCRIPT_ID"
    echo "   wrote ${CLASP_JSON#"$ROOT"/} (script $SCRIPT_ID); later runs push to the same script" >&2
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
# --force: our manifest (scopes, allowed URLs) replaces the one in the project. Without it, a run with
# no terminal skips the whole push when the manifest changed.
run_in "$STAGE/push" "${clasp[@]}" push --force

if ! $ADDON; then
  if $DRY_RUN; then
    echo "== Dry run: nothing was created or pushed" >&2
  else
    echo "== Pushed. Reload the spreadsheet: the CallMarker menu appears next to Help." >&2
  fi
  exit 0
fi

# ---- the add-on: an immutable version of what was pushed, and the deployment pointed at it
echo "== Version \"$DESCRIPTION\"" >&2
if $DRY_RUN; then
  run_in "$STAGE/push" "${clasp[@]}" --json create-version "$DESCRIPTION"
  VERSION="NEW_VERSION"
else
  VERSION="$(run_in "$STAGE/push" "${clasp[@]}" --json create-version "$DESCRIPTION" | json_output_field versionNumber)" ||
    die "clasp create-version did not report a version number"
fi
deployment=(--json create-deployment --versionNumber "$VERSION" --description "$DESCRIPTION")
[ -z "$DEPLOYMENT_ID" ] || deployment+=(--deploymentId "$DEPLOYMENT_ID")
if $DRY_RUN; then
  run_in "$STAGE/push" "${clasp[@]}" "${deployment[@]}"
  echo "== Dry run: nothing was created, pushed or deployed" >&2
  exit 0
fi
DEPLOYMENT_ID="$(run_in "$STAGE/push" "${clasp[@]}" "${deployment[@]}" | json_output_field deploymentId)" ||
  die "clasp create-deployment did not report a deployment id"
write_project "$CLASP_JSON" "$SCRIPT_ID" "$DEPLOYMENT_ID"
echo "== Deployed version $VERSION (deployment $DEPLOYMENT_ID)." >&2
echo "   In the Google Cloud console, APIs & Services > Google Workspace Marketplace SDK > App Configuration," >&2
echo "   set the Sheets add-on's script id and version to these two, and save: every user gets it." >&2
echo "script_id=$SCRIPT_ID"
echo "version=$VERSION"
