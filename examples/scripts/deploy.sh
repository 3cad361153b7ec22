#!/usr/bin/env bash
# The pipeline's deployment stage (plinth run --approve model_deployment, main only): the
# version training registered last runs the gates, the approver approves it, and the
# protected production alias moves to it (plinth serve follows the alias within 30 s).
# Usage: scripts/deploy.sh NAME GATES
set -euo pipefail
NAME=$1
GATES=$2
# The newest version first in `plinth models versions --json` (MLflow's shape, "version": "3").
VERSION=$(plinth models versions "$NAME" --json | grep -o '"version": *"[0-9]*"' | head -1 |
  grep -o '[0-9]\+')
plinth models test "models:/$NAME/$VERSION" --gates "$GATES" -q ||
  { echo "version $VERSION failed the gates: production is unchanged"; exit 1; }
plinth models approve "$NAME" "$VERSION"
plinth models alias "$NAME" production "$VERSION"
