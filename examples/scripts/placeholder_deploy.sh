#!/usr/bin/env bash
# PLACEHOLDER until `plinth models alias` / `plinth serve` land (registry and serving issues).
set -euo pipefail
echo "would deploy $1 (placeholder)"
