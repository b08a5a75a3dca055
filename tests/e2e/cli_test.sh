#!/usr/bin/env bash
# End-to-end checks of the gmsim binary.
set -euo pipefail
"$1" --help >/dev/null
