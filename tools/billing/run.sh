#!/bin/bash
# Billing end to end, what `tox -e billing` runs after the tests of
# tests/billing/ (job.py says the rest).
cd "$(dirname "$0")/../.." && exec python3 -m tools.billing.job "$@"
