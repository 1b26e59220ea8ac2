#!/usr/bin/env bash
# Build, test and package the VS Code extension: vscode-extension/qvr-<version>.vsix.
# Needs node >= 18 and npm; reads ../grammar/vocabulary.json.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run compile
npm test
npm run package
