#!/usr/bin/env python3
"""Re-runs the `virtscope compare` commands quoted in docs/ and puts their
output in the code block that follows each one, so the tables in the docs
are always from a real run of the current build. A table is a line that
quotes the command in backticks and ends with a colon, then a ``` block:

    `build/app/virtscope compare --workload fork 10 --modes native,pv`:

    ```
    ...replaced...
    ```

Usage (from the project root, after building): scripts/update-doc-tables.py [FILE.md...]
"""
import glob
import re
import subprocess
import sys

COMMAND = re.compile(r"`(?:build/app/)?(virtscope compare [^`]+)`[^`]*:\s*$")


def update(path):
    lines = open(path).read().split("\n")
    out, i, changed = [], 0, 0
    while i < len(lines):
        out.append(lines[i])
        m = COMMAND.search(lines[i])
        if m:
            j = i + 1
            while j < len(lines) and lines[j].strip() == "":
                out.append(lines[j])
                j += 1
            if j < len(lines) and lines[j].startswith("```"):
                end = j + 1
                while end < len(lines) and not lines[end].startswith("```"):
                    end += 1
                args = m.group(1).split()[1:]
                result = subprocess.run(["build/app/virtscope"] + args, capture_output=True, text=True, check=True)
                out.append(lines[j])
                out.extend(result.stdout.rstrip("\n").split("\n"))
                out.append(lines[end] if end < len(lines) else "```")
                i = end + 1
                changed += 1
                continue
        i += 1
    open(path, "w").write("\n".join(out))
    print(f"{path}: {changed} table(s)")


for path in sys.argv[1:] or sorted(glob.glob("docs/**/*.md", recursive=True)):
    update(path)
