#!/usr/bin/env bash
# mypy cannot follow setuptools' package-dir mapping (graph/ installs as
# switchboard.graph), so type-check a tree of symlinks laid out as installed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tree="$root/build/typecheck"
rm -rf "$tree" && mkdir -p "$tree/switchboard"
for entry in "$root"/switchboard/*; do ln -s "$entry" "$tree/switchboard/"; done
for pkg in graph agents policies checkpoints domains; do ln -s "$root/$pkg" "$tree/switchboard/$pkg"; done
cd "$tree"
exec "${MYPY:-mypy}" --config-file "$root/pyproject.toml" -p switchboard "$@"
