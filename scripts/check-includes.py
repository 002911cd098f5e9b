#!/usr/bin/env python3
"""Checks that each source folder includes only what it may use (README, "Architecture").

Each folder is a library with public headers in <folder>/include/podmortem/<folder>/ and a
private src/. A file may include its own folder's headers, the public headers of the folders
its row below allows, and no other folder's src/. webhooks/ reaches controller/ through one
header only. Exits 1 and prints every offending line when a rule is broken.

Usage: scripts/check-includes.py [ROOT]      (ROOT: the repository, default: this script's parent)
       scripts/check-includes.py --self-test (shows that each kind of break is caught)
"""

import re
import sys
import tempfile
from pathlib import Path

# folder -> the other folders whose public headers it may include.
ALLOWED = {
    "core": set(),
    "policy": {"core"},
    "kube": {"core"},
    "evidence": {"core"},
    "report": {"core", "evidence"},
    "stream": {"core", "policy"},
    "controller": {"core", "policy", "kube", "evidence", "stream"},
    "webhooks": {"core", "policy", "kube", "controller"},
    "cli": {"core", "policy", "kube", "evidence", "report", "stream", "controller", "webhooks"},
}
# Headers of an allowed folder that are the only ones a folder may include from it.
ONLY_THROUGH = {("webhooks", "controller"): {"capture.h"}}

PUBLIC = re.compile(r'#\s*include\s*[<"]podmortem/([a-z_]+)/([^">]+)[">]')
PRIVATE = re.compile(r'#\s*include\s*[<"]([^">]*\bsrc/[^">]+)[">]')
SOURCES = ("*.cpp", "*.h", "*.hpp", "*.cc")


def violations(root):
    found = []
    for folder, allowed in ALLOWED.items():
        base = root / folder
        if not base.is_dir():
            continue
        files = sorted(p for pattern in SOURCES for p in base.rglob(pattern))
        for path in files:
            for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
                where = f"{path.relative_to(root)}:{number}"
                if PRIVATE.search(line):
                    found.append(f"{where}: includes another folder's src/: {line.strip()}")
                    continue
                match = PUBLIC.search(line)
                if not match:
                    continue
                target, header = match.group(1), match.group(2)
                if target == folder:
                    continue
                if target not in allowed:
                    found.append(f"{where}: {folder}/ may not include {target}/: {line.strip()}")
                elif header not in ONLY_THROUGH.get((folder, target), {header}):
                    only = ", ".join(sorted(ONLY_THROUGH[(folder, target)]))
                    found.append(f"{where}: {folder}/ reaches {target}/ only through {only}: "
                                 f"{line.strip()}")
    return found


def self_test():
    """Each rule, broken once in a tree of its own, must be reported."""
    cases = {
        "policy includes controller": ("policy/src/a.cpp", '#include "podmortem/controller/x.h"'),
        "evidence includes kube": ("evidence/src/a.cpp", '#include "podmortem/kube/client.h"'),
        "kube includes evidence": ("kube/include/podmortem/kube/a.h", '#include "podmortem/evidence/x.h"'),
        "controller includes webhooks": ("controller/src/a.cpp", '#include "podmortem/webhooks/x.h"'),
        "anything includes cli": ("webhooks/src/a.cpp", '#include "podmortem/cli/config.h"'),
        "another folder's src": ("controller/src/a.cpp", '#include "../../evidence/src/file_io.h"'),
        "webhooks past capture.h": ("webhooks/src/a.cpp", '#include "podmortem/controller/snapshot_manager.h"'),
    }
    failed = 0
    for name, (path, line) in cases.items():
        with tempfile.TemporaryDirectory() as tmp:
            file = Path(tmp) / path
            file.parent.mkdir(parents=True)
            file.write_text(line + "\n")
            if not violations(Path(tmp)):
                print(f"self-test: not caught: {name}")
                failed += 1
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "webhooks/src/ok.cpp"
        file.parent.mkdir(parents=True)
        file.write_text('#include "podmortem/controller/capture.h"\n#include "podmortem/webhooks/x.h"\n')
        if violations(Path(tmp)):
            print("self-test: a permitted include was reported")
            failed += 1
    print(f"self-test: {len(cases) + 1} checks, {failed} failed")
    return 1 if failed else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    found = violations(root)
    for line in found:
        print(line)
    checked = sum(1 for folder in ALLOWED for pattern in SOURCES
                  for _ in (root / folder).rglob(pattern)) if root.is_dir() else 0
    print(f"include rules: {checked} files checked, {len(found)} violations")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
