#!/bin/sh
# Counts the words of one part; only `.count` files are uploaded.
set -eu
name=$(basename "$INPUT_FILE_PATH")
wc -w < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/${name}.count"
echo "scratch" > "$TMP_OUTPUT_DIR/${name}.tmp"   # filtered out by `suffix`
