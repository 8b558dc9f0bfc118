#!/usr/bin/env bash
# Installs the system packages the tests need: PostgreSQL (server and client), Chromium, and
# libpcap0.8 and tcpdump (cicflowmeter reads packet captures through them; see `make pcap`).
#
#   bash scripts/install_system_packages.sh           # install what is missing
#   bash scripts/install_system_packages.sh --check   # exit 1 if something is missing
#
# Idempotent and non-interactive: when everything is present it returns at once without touching
# apt. Runs as root, or through sudo as another user (GitHub-hosted runners run as `runner`).
# It starts no database; the tests start their own throwaway PostgreSQL clusters.
set -euo pipefail

log() { printf 'install_system_packages: %s\n' "$*" >&2; }

has_postgres_server() {
    command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

has_chromium() {
    local name
    for name in chromium chromium-browser google-chrome-stable google-chrome; do
        command -v "${name}" >/dev/null 2>&1 && return 0
    done
    return 1
}

has_pcap_tools() {
    command -v tcpdump >/dev/null 2>&1 && { ldconfig -p 2>/dev/null | grep -q 'libpcap\.so\.0\.8' \
        || compgen -G '/usr/lib/*/libpcap.so.0.8' >/dev/null; }
}

missing_packages() {
    # Debian's `postgresql` pulls in the matching client; `postgresql-client` alone is the client.
    has_postgres_server || echo postgresql
    if has_postgres_server && ! command -v psql >/dev/null 2>&1; then echo postgresql-client; fi
    has_chromium || echo chromium
    if ! has_pcap_tools; then echo libpcap0.8; echo tcpdump; fi
}

as_root() {
    if [[ ${EUID} -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        log "need root (or sudo) to run: $*"
        return 1
    fi
}

apt_get() {
    # Wait for a concurrent apt/dpkg run instead of failing on its lock.
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0 --yes --quiet "$@"
}

chromium_package() {
    # Debian ships `chromium`; Ubuntu only `chromium-browser` (a wrapper that installs the snap).
    # Not `grep -q`: it exits at the first match, apt-cache dies of SIGPIPE, and with pipefail
    # the test fails although the package is there.
    if apt-cache policy chromium 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null; then
        echo chromium
    else
        log "no 'chromium' .deb here; falling back to 'chromium-browser' (needs snapd on Ubuntu)"
        echo chromium-browser
    fi
}

main() {
    local missing
    mapfile -t missing < <(missing_packages)
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "PostgreSQL, Chromium, libpcap and tcpdump already installed; nothing to do"
        return 0
    fi
    if [[ "${1:-}" == "--check" ]]; then
        log "missing: ${missing[*]}"
        return 1
    fi
    log "installing: ${missing[*]}"
    apt_get update
    local packages=() package
    for package in "${missing[@]}"; do
        if [[ "${package}" == chromium ]]; then
            packages+=("$(chromium_package)" fonts-liberation)
        else
            packages+=("${package}")
        fi
    done
    apt_get install --no-install-recommends "${packages[@]}"
    log "installed: ${packages[*]}"
}

main "$@"
