#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write the upstream patch series (make series) from the prepared tree.

usage: series.py TOP TREE OUT

TOP is this repository, TREE the prepared kernel tree (base commit "base",
our edits committed on top, the overlay files beside them), OUT the output
directory: OUT/tree is a scratch repository with one commit per patch of
scripts/series.spec, OUT/patches the format-patch series with its cover
letter.  Fails if the spec leaves a file of the feature out or names one
twice.
"""
import os
import re
import shutil
import subprocess
import sys


def git(repo, *args, **kw):
    return subprocess.run(["git", "-C", repo, *args], check=True, text=True,
                          capture_output=True, **kw).stdout


def parse_spec(path):
    """[{subject, files, blocks: [(file, key)], body}], cover first."""
    patches, cur = [], None
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("=== "):
            cur = {"subject": line[4:], "files": [], "blocks": [], "body": []}
            patches.append(cur)
        elif cur is None or (line.startswith("#") and not cur["body"]):
            continue
        elif line.startswith("files:") and not cur["body"]:
            cur["files"] = line.split()[1:]
        elif line.startswith("blocks:") and not cur["body"]:
            cur["blocks"] = [tuple(b.split(":", 1)) for b in line.split()[1:]]
        elif line.startswith("subject:") and not cur["body"]:
            cur["cover_subject"] = line.split(":", 1)[1].strip()
        elif line or cur["body"]:
            cur["body"].append(line)
    for p in patches:
        p["body"] = "\n".join(p["body"]).strip() + "\n"
    return patches[0], patches[1:]


def feature_files(tree):
    """Files our edits change, and the overlay files (.git/info/exclude)."""
    files = set(git(tree, "diff", "--name-only", "base", "HEAD").split())
    for line in open(os.path.join(tree, ".git/info/exclude")):
        path = line.strip().lstrip("/")
        if not path or line.startswith("#"):
            continue
        full = os.path.join(tree, path)
        if os.path.isdir(full):
            for root, _, names in os.walk(full):
                files.update(os.path.relpath(os.path.join(root, n), tree)
                             for n in names)
        elif os.path.exists(full):
            files.add(path)
    return files


def block_span(lines, path, key):
    """[start, end) of KEY's block in the lines of PATH."""
    if os.path.basename(path) == "Kconfig":
        start = lines.index("config " + key)
        end = start + 1
        while end < len(lines) and lines[end - 1] != "":
            end += 1
        return start, end
    pattern = "$(CONFIG_" + key + ")"
    start = next(i for i, l in enumerate(lines) if pattern in l)
    end = start + 1
    while lines[end - 1].endswith("\\"):
        end += 1
    return start, end


def render(tree, path, later):
    """PATH as in TREE, less the blocks of the LATER keys."""
    lines = open(os.path.join(tree, path)).read().split("\n")
    spans = sorted((block_span(lines, path, k) for k in later), reverse=True)
    for start, end in spans:
        del lines[start:end]
    return "\n".join(lines)


def main():
    top, tree, out = sys.argv[1:4]
    cover, patches = parse_spec(os.path.join(top, "scripts/series.spec"))

    wanted = feature_files(tree)
    named = [f for p in patches for f in p["files"]]
    block_files = {f for p in patches for f, _ in p["blocks"]}
    errors = [f"{f}: in two patches" for f in set(named) if named.count(f) > 1]
    errors += [f"{f}: not in the series" for f in wanted - set(named) - block_files]
    errors += [f"{f}: not a file of the feature" for f in (set(named) | block_files) - wanted]
    if errors:
        sys.exit("series.spec: " + "; ".join(sorted(errors)))

    work = os.path.join(out, "tree")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    subprocess.run(["git", "clone", "-q", "--no-checkout", "--shared", tree, work], check=True)
    git(work, "checkout", "-q", "--detach", git(tree, "rev-parse", "base").strip())
    name = git(top, "config", "user.name").strip()
    email = git(top, "config", "user.email").strip()
    env = dict(os.environ, GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
               GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email)

    for i, p in enumerate(patches):
        touched = list(p["files"])
        for f in p["files"]:
            dst = os.path.join(work, f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(tree, f), dst)
        for f in sorted({f for f, _ in p["blocks"]}):
            later = [k for q in patches[i + 1:] for g, k in q["blocks"] if g == f]
            with open(os.path.join(work, f), "w") as fh:
                fh.write(render(tree, f, later))
            touched.append(f)
        git(work, "add", "-f", "--", *touched)
        msg = f"{p['subject']}\n\n{p['body']}\nSigned-off-by: {name} <{email}>\n"
        git(work, "commit", "-q", "-F", "-", input=msg, env=env)

    pdir = os.path.join(out, "patches")
    git(work, "format-patch", "-q", "--cover-letter", "--no-signature",
        "--zero-commit", "-o", os.path.abspath(pdir), "HEAD~%d" % len(patches))
    path = os.path.join(pdir, sorted(os.listdir(pdir))[0])
    text = open(path).read()
    text = text.replace("*** SUBJECT HERE ***", cover["cover_subject"])
    text = text.replace("*** BLURB HERE ***", cover["body"].rstrip())
    open(path, "w").write(text)
    for f in sorted(os.listdir(pdir)):
        print(f)


if __name__ == "__main__":
    main()
