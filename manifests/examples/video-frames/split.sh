#!/bin/sh
# Splits the input into parts of 1000 lines each (a stand-in for frames).
set -eu
name=$(basename "$INPUT_FILE_PATH")
split -l 1000 -d "$INPUT_FILE_PATH" "$TMP_OUTPUT_DIR/${name}.part-"
echo "split $name into $(ls "$TMP_OUTPUT_DIR" | wc -l) parts"
