#!/usr/bin/env bash
# Static checks of the Terraform in deploy/terraform (no terraform binary, no AWS access needed):
#   1. parse: python-hcl2 loads every .tf file (a syntax error fails), then the references are checked:
#      every var./local./data./resource reference is declared, every variable has a description and a
#      type, every output a description, and README.md's Inputs/Outputs tables are generated from them
#      (`--update` rewrites them). Prints the counts.
#   (with a terraform binary on PATH, `terraform fmt -check` too; nothing else needs one)
#   2. checkov: every check must pass or be skipped in the code with `#checkov:skip=CKV_...:reason`
#      (a skip without a reason fails here too).
#   3. summary: deploy/terraform/CHECKOV.md (counts, skipped checks with their reasons, passed checks) and
#      the checkov section of deploy/terraform/README.md must be what this run produces. `--update`
#      rewrites them instead of comparing.
# Prints one line per step; exits non-zero on any failure.
#
# python-hcl2 and checkov are installed with pip, each in its own virtualenv under /tmp (checkov depends on
# bc-python-hcl2, a fork that installs a module with the same name `hcl2`, so they cannot share one), at
# pinned versions so a new checkov release cannot fail CI by itself: bump the pins, run with --update,
# review and commit CHECKOV.md. A venv that exists with the right version is reused (first run: ~2 min).
set -euo pipefail
cd "$(dirname "$0")/../.."

update=false
case "${1:-}" in
  --update) update=true ;;
  "") ;;
  *)
    echo "usage: $0 [--update]" >&2
    exit 2
    ;;
esac

tf_dir=${EHR_TF_DIR:-deploy/terraform}   # another folder only for testing this script
checkov_version=${EHR_CHECKOV_VERSION:-3.3.30}
hcl2_version=${EHR_PYTHON_HCL2_VERSION:-8.1.4}
venv_root=${EHR_TF_CHECK_VENVS:-/tmp/ehr-terraform-check}
hcl2_venv=$venv_root/python-hcl2-$hcl2_version
checkov_venv=$venv_root/checkov-$checkov_version
started=$SECONDS

# apt-get update and install, quietly (its log is shown only if it fails); waits for another apt-get.
apt_install() {
  local log
  log=$(mktemp)
  if ! { apt-get -o DPkg::Lock::Timeout=600 update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "apt-get install $* failed" >&2
    return 1
  fi
  rm -f "$log"
}

# make_venv DIR PACKAGE==VERSION: creates DIR with the package unless it is already there at that version.
make_venv() {
  local dir=$1 requirement=$2 name=${2%%==*} version=${2##*==} log
  if [[ -x $dir/bin/python ]] && [[ "$("$dir/bin/python" -m pip show "$name" 2>/dev/null | sed -n 's/^Version: //p')" == "$version" ]]; then
    return 0
  fi
  echo "installing: $requirement (virtualenv $dir)"
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  if ! python3 -m venv "$dir" >/dev/null 2>&1; then
    # Debian's python3 ships venv/ensurepip separately.
    rm -rf "$dir"
    apt_install python3-venv
    python3 -m venv "$dir"
  fi
  log=$(mktemp)
  if ! "$dir/bin/python" -m pip install -q --disable-pip-version-check "$requirement" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    rm -rf "$dir"
    echo "pip install $requirement failed" >&2
    return 1
  fi
  rm -f "$log"
}

command -v python3 >/dev/null || apt_install python3
make_venv "$hcl2_venv" "python-hcl2==$hcl2_version"
make_venv "$checkov_venv" "checkov==$checkov_version"

# ---------------------------------------------------------------------------------------------------------
# 1. Parse and cross-reference with python-hcl2
# ---------------------------------------------------------------------------------------------------------
"$hcl2_venv/bin/python" - "$tf_dir" "$hcl2_version" "$update" <<'PY'
import pathlib
import re
import sys

import hcl2

tf_dir = pathlib.Path(sys.argv[1])
version = sys.argv[2]
update = sys.argv[3] == "true"
files = sorted(tf_dir.glob("*.tf"))
if not files:
    sys.exit(f"python-hcl2: no .tf files in {tf_dir}")


def bare(key):
    """python-hcl2 8 keeps the quotes of block labels ('"aws_vpc"'); older versions do not."""
    return key.strip('"') if isinstance(key, str) else key


def strings(node):
    """Every expression string in a parsed document (comments are not expressions)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "__comments__":
                yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


errors = []
documents = {}
for path in files:
    try:
        with path.open() as handle:
            documents[path.name] = hcl2.load(handle)
    except Exception as error:  # any parser error is a failure, with the file's name
        errors.append(f"{path}: parse error: {error}")
if errors:
    print("\n".join(errors))
    print(f"python-hcl2 ({version}): {tf_dir}: FAILED ({len(errors)} of {len(files)} files do not parse)")
    sys.exit(1)

resources, data_sources, variables, outputs, local_names = set(), set(), {}, {}, set()
for name, document in documents.items():
    for block in document.get("resource", []):
        for rtype, named in block.items():
            for rname in named:
                if (bare(rtype), bare(rname)) in resources:
                    errors.append(f"{name}: resource {bare(rtype)}.{bare(rname)} declared twice")
                resources.add((bare(rtype), bare(rname)))
    for block in document.get("data", []):
        for dtype, named in block.items():
            for dname in named:
                data_sources.add((bare(dtype), bare(dname)))
    for block in document.get("variable", []):
        for vname, body in block.items():
            variables[bare(vname)] = (name, body)
    for block in document.get("output", []):
        for oname, body in block.items():
            outputs[bare(oname)] = (name, body)
    for block in document.get("locals", []):
        local_names.update(bare(key) for key in block if not str(key).startswith("__"))

for vname, (name, body) in sorted(variables.items()):
    if not str(body.get("description", "")).strip('" '):
        errors.append(f"{name}: variable {vname} has no description")
    if "type" not in body:
        errors.append(f"{name}: variable {vname} has no type")
for oname, (name, body) in sorted(outputs.items()):
    if not str(body.get("description", "")).strip('" '):
        errors.append(f"{name}: output {oname} has no description")
    if "value" not in body:
        errors.append(f"{name}: output {oname} has no value")

reference = re.compile(r"(?<![\w.])(var|local|data\.[a-z0-9_]+|aws_[a-z0-9_]+)\.([a-z0-9_]+)")
checked = 0
for name, document in documents.items():
    for text in strings(document):
        for kind, ident in reference.findall(text):
            checked += 1
            if kind == "var":
                known = ident in variables
            elif kind == "local":
                known = ident in local_names
            elif kind.startswith("data."):
                known = (kind[len("data."):], ident) in data_sources
            else:
                known = (kind, ident) in resources
            if not known:
                errors.append(f"{name}: {kind}.{ident} is not declared")

# The example files parse too, and the example variables file sets only declared variables.
examples = sorted(tf_dir.glob("*.example"))
for path in examples:
    try:
        with path.open() as handle:
            example = hcl2.load(handle)
    except Exception as error:
        errors.append(f"{path}: parse error: {error}")
        continue
    if path.name.endswith(".tfvars.example"):
        for key in example:
            if not str(key).startswith("__") and bare(key) not in variables:
                errors.append(f"{path}: {bare(key)} is not a declared variable")

# README.md's Inputs and Outputs tables are generated from variables.tf and outputs.tf (between markers);
# --update rewrites them, otherwise they must match.
def expression(value):
    """A value as written in HCL: python-hcl2 8 keeps string quotes and wraps expressions in ${...}."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(expression(item) for item in value) + "]"
    if isinstance(value, dict):
        items = {k: v for k, v in value.items() if not str(k).startswith("__")}
        return "{" + ", ".join(f"{bare(k)} = {expression(v)}" for k, v in items.items()) + "}"
    text = str(value)
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return text


def prose(value):
    text = expression(value)
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1].replace('\\"', '"')
    return text.replace("|", "/")


variable_rows = ["| name | type | default | description |", "| --- | --- | --- | --- |"]
for name in documents:
    for block in documents[name].get("variable", []):
        for vname, body in block.items():
            default = f"`{expression(body['default'])}`" if "default" in body else "**required**"
            variable_rows.append(f"| `{bare(vname)}` | `{expression(body.get('type'))}` | {default} | "
                                 f"{prose(body.get('description', ''))} |")
output_rows = ["| name | description |", "| --- | --- |"]
for name in documents:
    for block in documents[name].get("output", []):
        for oname, body in block.items():
            output_rows.append(f"| `{bare(oname)}` | {prose(body.get('description', ''))} |")

readme = tf_dir / "README.md"
readme_text = readme.read_text() if readme.exists() else ""
expected_readme = readme_text
for marker, rows in (("inputs", variable_rows), ("outputs", output_rows)):
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(expected_readme):
        errors.append(f"{readme}: no {begin} ... {end} section")
        continue
    expected_readme = pattern.sub(lambda _: "\n".join([begin, *rows, end]), expected_readme)
if update and expected_readme != readme_text:
    readme.write_text(expected_readme)
    print(f"python-hcl2: {readme}: Inputs and Outputs tables rewritten")
elif expected_readme != readme_text:
    errors.append(f"{readme}: the Inputs/Outputs tables do not match variables.tf/outputs.tf "
                  "(run scripts/ops-checks/terraform.sh --update)")

errors = sorted(set(errors))
counts = (f"{len(files)} files (+{len(examples)} examples), {len(resources)} resources, {len(data_sources)} data sources, "
          f"{len(variables)} variables, {len(outputs)} outputs, {len(local_names)} locals, "
          f"{checked} references")
if errors:
    print("\n".join(errors))
    print(f"python-hcl2 ({version}): {tf_dir}: FAILED ({len(errors)} problems; {counts})")
    sys.exit(1)
print(f"python-hcl2 ({version}): {tf_dir}: {counts}: all parse, all references resolve, "
      "every variable and output described, README.md tables current")
PY

# Formatting, where a terraform binary happens to be installed (it needs no provider nor network for this;
# validate and plan would, and are left to a machine with AWS access).
if command -v terraform >/dev/null; then
  tf_version=$(CHECKPOINT_DISABLE=1 terraform version 2>/dev/null | head -n 1)
  if fmt_diff=$(CHECKPOINT_DISABLE=1 terraform fmt -check -diff -no-color "$tf_dir" 2>/dev/null); then
    echo "terraform fmt ($tf_version): $tf_dir: formatted"
  else
    printf '%s\n' "$fmt_diff"
    echo "terraform fmt ($tf_version): $tf_dir: FAILED (run terraform fmt $tf_dir)"
    exit 1
  fi
else
  echo "terraform fmt: skipped (no terraform binary here; nothing else needs one)"
fi

# ---------------------------------------------------------------------------------------------------------
# 2. checkov, and 3. the committed summary
# ---------------------------------------------------------------------------------------------------------
report=$(mktemp)
trap 'rm -f "$report" "$report.err"' EXIT

# --skip-download: no call to the vendor's platform (this machine reaches only package registries).
# Exit status 1 only means "a check failed"; the JSON report says which, and is judged below.
set +e
"$checkov_venv/bin/checkov" --directory "$tf_dir" --framework terraform --output json --skip-download \
  >"$report" 2>"$report.err"
checkov_status=$?
set -e
if ((checkov_status > 1)) || [[ ! -s $report ]]; then
  cat "$report.err" >&2
  rm -f "$report.err"
  echo "checkov ($checkov_version): $tf_dir: FAILED (checkov exited $checkov_status)"
  exit 1
fi
rm -f "$report.err"

"$checkov_venv/bin/python" - "$report" "$tf_dir" "$checkov_version" "$update" <<'PY'
import collections
import json
import pathlib
import re
import sys

report_path, tf_dir, version, update = sys.argv[1:5]
update = update == "true"
summary_path = pathlib.Path(tf_dir, "CHECKOV.md")
readme_path = pathlib.Path(tf_dir, "README.md")
report = json.load(open(report_path))
if isinstance(report, list):  # one entry per framework
    report = next(entry for entry in report if entry.get("check_type") == "terraform")
summary = report["summary"]
results = report["results"]

problems = []
for check in results.get("failed_checks", []):
    problems.append(f"FAILED {check['check_id']} {check['resource']} ({check['file_path'].lstrip('/')}:"
                    f"{check['file_line_range'][0]}): {check['check_name']}")
for error in results.get("parsing_errors", []):
    problems.append(f"PARSE ERROR {error}")
skipped = []
for check in results.get("skipped_checks", []):
    reason = (check.get("check_result", {}).get("suppress_comment") or "").strip()
    if len(reason) < 20 or reason.lower().startswith("no comment"):
        problems.append(f"SKIP WITHOUT A REASON {check['check_id']} {check['resource']}: '{reason}'")
    skipped.append((check["check_id"], check["resource"], check["file_path"].lstrip("/"), check["check_name"], reason))

passed = collections.Counter()
names = {}
for check in results.get("passed_checks", []):
    passed[check["check_id"]] += 1
    names[check["check_id"]] = check["check_name"]


def check_key(check_id):
    prefix, _, number = check_id.rpartition("_")
    return (prefix, int(number) if number.isdigit() else 0)


skipped.sort(key=lambda s: (check_key(s[0]), s[1]))
line = (f"checkov ({version}): {tf_dir}: {summary['passed']} passed, {summary['failed']} failed, "
        f"{summary['skipped']} skipped, {summary['parsing_errors']} parse errors, "
        f"{summary['resource_count']} resources")
command = f"`checkov --directory {tf_dir} --framework terraform --skip-download` (checkov {version})"
counts = [
    "| passed | failed | skipped | parse errors | resources scanned |",
    "| ---: | ---: | ---: | ---: | ---: |",
    f"| {summary['passed']} | {summary['failed']} | {summary['skipped']} | {summary['parsing_errors']} | {summary['resource_count']} |",
]

md = [
    "# checkov result",
    "",
    "Generated by `scripts/ops-checks/terraform.sh --update`; the script fails when this file no longer",
    "matches a fresh run, so it is always the result of the Terraform as committed. Do not edit by hand.",
    "",
    f"Command: {command}.",
    "",
    *counts,
    "",
    "## Skipped checks",
    "",
    "Each skip is a `#checkov:skip=ID:reason` comment on the resource itself; the reason is quoted from there.",
    "",
    "| check | resource | file | reason |",
    "| --- | --- | --- | --- |",
]
for check_id, resource, path, _name, reason in skipped:
    md.append(f"| {check_id} | `{resource}` | {path} | {reason.replace('|', '/')} |")
md += ["", "What the skipped checks ask for:", ""]
for check_id in sorted({s[0] for s in skipped}, key=check_key):
    md.append(f"- {check_id}: {next(s[3] for s in skipped if s[0] == check_id)}")
md += ["", "## Passed checks", "", "| check | resources | name |", "| --- | ---: | --- |"]
for check_id in sorted(passed, key=check_key):
    md.append(f"| {check_id} | {passed[check_id]} | {names[check_id].replace('|', '/')} |")
md.append("")
expected_summary = "\n".join(md)

# README.md carries the counts and the skipped checks between two markers.
begin, end = "<!-- checkov-summary:begin -->", "<!-- checkov-summary:end -->"
block = [begin, "", f"{command}; the full result, with every passed check, is in [CHECKOV.md](CHECKOV.md).", "", *counts, "",
         "Skipped, each with its reason in the code:", ""]
for check_id in sorted({s[0] for s in skipped}, key=check_key):
    entries = [s for s in skipped if s[0] == check_id]
    resources = ", ".join(f"`{s[1]}`" for s in entries)
    reasons = list(dict.fromkeys(s[4] for s in entries))
    block.append(f"- **{check_id}** ({entries[0][3]}) on {resources}: {' / '.join(reasons)}")
block += ["", end]
readme = readme_path.read_text() if readme_path.exists() else ""
pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
if pattern.search(readme):
    expected_readme = pattern.sub(lambda _: "\n".join(block), readme)
else:
    expected_readme = readme.rstrip("\n") + "\n\n" + "\n".join(block) + "\n"

if problems or summary["failed"] or summary["parsing_errors"]:
    print("\n".join(problems))
    print(line.replace(f"{tf_dir}: ", f"{tf_dir}: FAILED: ", 1))
    sys.exit(1)
print(line)

stale = [path for path, text in ((summary_path, expected_summary), (readme_path, expected_readme))
         if not path.exists() or path.read_text() != text]
if update:
    summary_path.write_text(expected_summary)
    readme_path.write_text(expected_readme)
    print(f"summary: {summary_path} and the checkov section of {readme_path} written")
elif stale:
    print(f"summary: FAILED: {', '.join(map(str, stale))} do not match this run "
          "(run scripts/ops-checks/terraform.sh --update and commit the result)")
    sys.exit(1)
else:
    print(f"summary: {summary_path} and the checkov section of {readme_path} match this run")
PY

echo "terraform checks: passed in $((SECONDS - started))s"
