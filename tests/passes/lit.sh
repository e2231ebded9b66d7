#!/usr/bin/env bash
# Runs one FileCheck test: kiln-opt with the arguments of the file's `// RUN:` line, on the file,
# piped into FileCheck against the same file. stderr is merged so that --debug-passes output and
# error messages can be checked too.
#   usage: lit.sh FILE.kir [KILN_OPT]
set -u
file="$1"
opt="${2:-${KILN_OPT:-$(dirname "$0")/../../build/compiler/tools/kiln-opt/kiln-opt}}"
filecheck="${FILECHECK:-/usr/lib/llvm-19/bin/FileCheck}"
run=$(grep -m1 '^// RUN:' "$file" | sed 's|^// RUN:||')
if [ -z "$run" ]; then
  echo "lit.sh: $file has no '// RUN:' line" >&2
  exit 2
fi
# shellcheck disable=SC2086 # the RUN line is a list of words
"$opt" $run "$file" 2>&1 | "$filecheck" --dump-input=fail "$file"
