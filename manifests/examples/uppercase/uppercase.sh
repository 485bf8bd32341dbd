#!/bin/sh
# SCAR's script contract: the input file is $INPUT_FILE_PATH, and every file
# written to $TMP_OUTPUT_DIR is uploaded to the function's outputs.
set -eu
name=$(basename "$INPUT_FILE_PATH")
echo "upper-casing $name"
tr '[:lower:]' '[:upper:]' < "$INPUT_FILE_PATH" > "$TMP_OUTPUT_DIR/$name"
