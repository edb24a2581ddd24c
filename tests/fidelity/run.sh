#!/usr/bin/env bash
# The fidelity suite: the vendors' own client libraries and public Singer
# taps against cutover's emulators. Installs them from PyPI into
# virtualenvs under target/fidelity (once per requirements file's content),
# then runs pytest. Needs `cargo build --workspace` first (for
# target/debug/cutover-emulator).
#
# Client libraries share target/fidelity/venv (tests/fidelity/requirements.txt).
# Each Singer tap pins its own dependencies, so each gets its own virtualenv:
# tests/fidelity/taps/requirements-NAME.txt is installed into
# target/fidelity/NAME, and its programs are found by the tests in
# target/fidelity/NAME/bin (FIDELITY_VENVS names the folder).
set -euo pipefail
cd "$(dirname "$0")/../.."

# install VENV REQUIREMENTS: (re)creates VENV when REQUIREMENTS changed.
install() {
    local venv=$1 requirements=$2
    local stamp="$venv/.installed-$(sha256sum "$requirements" | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
        touch "$stamp"
    fi
}

install target/fidelity/venv tests/fidelity/requirements.txt
for requirements in tests/fidelity/taps/requirements-*.txt; do
    [ -e "$requirements" ] || continue
    name=$(basename "$requirements" .txt)
    install "target/fidelity/${name#requirements-}" "$requirements"
done
export FIDELITY_VENVS="$PWD/target/fidelity"
exec target/fidelity/venv/bin/python -m pytest -q -p no:cacheprovider tests/fidelity "$@"
