#!/bin/sh
# Writes a one-line report for each count, with the time it was made.
set -eu
name=$(basename "$INPUT_FILE_PATH" .count)
printf '%s: %s words (event at %s)\n' "$name" "$(cat "$INPUT_FILE_PATH")" "${EVENT_TIME:-unknown}" \
  > "$TMP_OUTPUT_DIR/${name}.txt"
