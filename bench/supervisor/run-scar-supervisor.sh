#!/usr/bin/env bash
# scar-supervisor's side of the benchmark: the same S3 event, config, script
# and credentials as shared/bench/faas-supervisor-baseline.sh, run through a
# bash wrapper of the same shape, so both sides pay the same wrapper cost.
# Needs: $AWS_ENDPOINT_URL (bucket 'bench' holding input/in.txt) and $SUPERVISOR_BIN.
set -euo pipefail
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
export FUNCTION_CONFIG=$(printf 'name: bench\ninput:\n- storage_provider: s3\n  path: bench/input\noutput:\n- storage_provider: s3\n  path: bench/output\n' | base64 -w0)
export SCRIPT=$(printf '#!/bin/sh\ncp "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/"\n' | base64 -w0)
EVENT='{"Records":[{"eventSource":"aws:s3","eventTime":"2026-11-27T00:00:00.000Z","awsRegion":"us-east-1","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"bench","arn":"arn:aws:s3:::bench"},"object":{"key":"input/in.txt","size":6}}}]}'
echo "$EVENT" | "$SUPERVISOR_BIN" run --event -
