#!/usr/bin/env bash
# Installs everything, then runs every quality gate and test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh

export JUPYTER_CONFIG_DIR=$(mktemp -d) JUPYTER_DATA_DIR=$(mktemp -d) JUPYTER_RUNTIME_DIR=$(mktemp -d)
export IPYTHONDIR=$(mktemp -d) JUPYTER_SYFT_HOME=$(mktemp -d) TQDM_DISABLE=1

echo "==> ruff (lint and format)"
ruff check jupyter_syft tests benchmarks
ruff format --check jupyter_syft tests benchmarks
echo "==> mypy"
mypy
echo "==> eslint and prettier"
jlpm lint:check
echo "==> jest"
jlpm test --silent
echo "==> pytest (SQLite; PostgreSQL in test_store_backends)"
python -m pytest -q -p no:cacheprovider "$@"
if (($# == 0)); then
  # Every file whose Datasites come from sy.orchestra.launch (the PostgreSQL fixture swaps
  # their store), and the Jupyter extension's (its test config picks PostgreSQL); ~4 min on 2
  # cores. Not here: pure unit tests (serde, analysis, execution, fair_queue),
  # test_store_backends (runs both stores itself), the CLI and Binder-notebook tests.
  echo "==> pytest: every Datasite-starting test again, each Datasite on PostgreSQL"
  JUPYTER_SYFT_TEST_DB=postgresql python -m pytest -q -p no:cacheprovider \
    tests/test_accounts.py tests/test_code_requests.py tests/test_dask.py tests/test_datasets.py \
    tests/test_concurrent_requests.py tests/test_startup.py tests/test_upload_streaming.py \
    tests/test_write_batching.py \
    tests/test_extension.py \
    tests/test_html_escaping.py tests/test_jobs.py tests/test_launch.py tests/test_magics.py \
    tests/test_nested_jobs.py tests/test_review_widget.py tests/test_route_security.py \
    tests/test_account_security.py tests/test_login_limits.py tests/test_nested_approval.py \
    tests/test_pagination.py tests/test_bad_input.py tests/test_fuzz_routes.py tests/test_faults.py \
    tests/test_run_routes.py tests/test_contract_models.py tests/test_release_modes.py \
    tests/test_outputs_review.py tests/test_held_outputs_security.py tests/test_client_outputs.py \
    tests/test_seeds_e2e.py tests/test_seeds_setup.py tests/test_audit_log.py \
    tests/test_output_review_workflow.py tests/test_client_review_workflow.py \
    tests/test_output_review_widget.py tests/test_report_labels.py tests/test_mock_report_audit.py \
    tests/test_pysyft_names.py tests/test_data_subjects.py tests/test_code_objects.py \
    tests/test_action_object.py tests/test_projects_pysyft.py tests/test_decisions.py \
    tests/test_pysyft_tutorials_roles.py tests/test_pysyft_tutorials_getting_started.py \
    tests/test_custom_policies.py tests/test_pysyft_tutorials_api.py tests/test_notifications.py \
    tests/test_notification_mail.py tests/test_push_channel.py tests/test_environments.py \
    tests/test_environment_runs.py tests/test_jobs_view.py tests/test_widget_labels.py \
    tests/test_request_search.py tests/test_view_cache.py tests/test_job_waits.py \
    tests/test_http_per_call.py tests/test_requests_answers.py tests/test_settings_cache.py
fi
if (($# == 0)); then
  echo "==> UI tests: Galata in Debian's chromium (screenshots in ui-tests/screenshots, traces in ui-tests/test-results)"
  # JupyterLab must load the labextension built from the current src/ and style/.
  built=jupyter_syft/labextension/static/style.js
  if [[ ! -f $built || -n $(find src style schema package.json -newer "$built" -print -quit) ]]; then
    jlpm build >/dev/null
  fi
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  (
    cd ui-tests
    stamp=node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)
    if [[ ! -f $stamp ]]; then
      npm ci --no-audit --no-fund --loglevel=error
      touch "$stamp"
    fi
    npx playwright test
  )
fi
