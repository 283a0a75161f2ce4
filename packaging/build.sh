#!/usr/bin/env bash
# Build installable artefacts: a wheel (and sdist) in dist/, plus the Linux desktop entry and icon
# installed for the current user when run with --install-desktop-entry.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip wheel --no-deps -w dist .
if [[ "${1:-}" == "--install-desktop-entry" ]]; then
  install -Dm644 packaging/linux/desk.desktop "${XDG_DATA_HOME:-$HOME/.local/share}/applications/desk.desktop"
  install -Dm644 resources/icons/desk.svg "${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/scalable/apps/desk.svg"
fi
ls -l dist/
