#!/usr/bin/env python3
"""Every public operation exists in every form, and a test runs each form (issue 12, item 3).

    check_forms.py INCLUDE_DIR PGLIFT_H TEST_FILE_OR_DIR...

C++: a function of include/pglift/*.hpp taking a `Context&` first is an operation.
- A free one (`name`) needs `Operation start_name(` and, in async.hpp, `auto async_name(`; each start_/async_
  form needs its blocking twin.
- A member of a class (`PatroniConfig::save`, `Cluster::restart`) needs a callback form, either a member
  `start_restart(` or a free `start_<class>_<name>(` / `start_<name>_<class>(` (the class in snake case),
  and a token form `async_<class>_<name>(` or `async_<name>_<class>(` in async.hpp.
The tests (the files given, and the *.cpp of the directories given) must call each of the three forms: a
form nobody runs fails here too.
C ABI: each `pglift_<x>(pglift_ctx *ctx, ...)` of PGLIFT_H doing I/O needs `pglift_<x>_async`.
Exemptions are listed below, each with its reason.
"""
import pathlib
import re
import sys

EXEMPT = {
    "exec_in_instance": "replaces the calling process: no completion to deliver",
    "exec_postgres_foreground": "replaces the calling process: no completion to deliver",
    "Cluster::resume": "its callback form is start_pause(ctx, false, ...)",
}
C_EXEMPT = re.compile(r"^ctx_")

OP = re.compile(r"(Operation\s+|auto\s+)?\b([a-z_0-9]+)\s*\(\s*Context\s*&\s*[a-z_]+\b")


def snake(name):
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def scan(text):
    """Yields (class or None, prefix, name) for each declaration taking a Context& first."""
    text = strip_comments(text)
    # Class bodies: `class X ... {` up to its matching brace.
    spans = []
    for m in re.finditer(r"\b(?:class|struct)\s+([A-Z]\w*)[^;{]*\{", text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        spans.append((m.end(), i, m.group(1)))
    for m in OP.finditer(text):
        owner = None
        for start, end, cls in spans:
            if start <= m.start() < end:
                owner = cls  # the innermost is the last one found: classes nest rarely here
        yield owner, (m.group(1) or "").strip(), m.group(2)


def main():
    include, header, *test_args = sys.argv[1:]
    tests = []
    for t in test_args:
        p = pathlib.Path(t)
        tests += sorted(p.glob("*.cpp")) if p.is_dir() else [p]
    test_text = "\n".join(strip_comments(p.read_text()) for p in tests)
    failures = []

    def runs(form):
        return re.search(r"(^|[^A-Za-z0-9_])" + re.escape(form) + r"\(", test_text) is not None

    free, members, member_starts = set(), set(), set()
    free_starts, tokens = set(), set()
    for path in sorted(pathlib.Path(include).glob("*.hpp")):
        for owner, prefix, name in scan(path.read_text()):
            if owner is not None and prefix == "":
                if name.startswith("start_"):
                    member_starts.add((owner, name))
                else:
                    members.add((owner, name))
            elif prefix == "Operation" and name.startswith("start_"):
                (member_starts.add((owner, name)) if owner else free_starts.add(name))
            elif prefix == "auto" and name.startswith("async_") and path.name == "async.hpp":
                tokens.add(name)
            elif owner is None and prefix == "":
                free.add(name)

    count = 0
    for name in sorted(free):
        count += 1
        if name in EXEMPT:
            print(f"exempt: {name} ({EXEMPT[name]})")
            continue
        if "start_" + name not in free_starts:
            failures.append(f"{name} has no callback form: Operation start_{name}(Context& ctx, ...)")
        if "async_" + name not in tokens:
            failures.append(f"{name} has no token form: async_{name}(Context& ctx, ..., Token&&) in async.hpp")
        for form in (name, "start_" + name, "async_" + name):
            if not runs(form):
                failures.append(f"no test runs {form} (expected a call in {' '.join(test_args)})")
    for owner, name in sorted(members):
        count += 1
        qual, cls = f"{owner}::{name}", snake(owner)
        if qual in EXEMPT:
            print(f"exempt: {qual} ({EXEMPT[qual]})")
        else:
            starts = [f for f in (f"start_{name}", f"start_{cls}_{name}", f"start_{name}_{cls}")
                      if (owner, f) in member_starts or f in free_starts]
            if not starts:
                failures.append(f"{qual} has no callback form: Operation {owner}::start_{name}(Context& ctx, ...) "
                                f"or start_{cls}_{name}(Context& ctx, ...)")
            elif not runs(starts[0]):
                failures.append(f"no test runs {owner}'s {starts[0]}")
        token = [f for f in (f"async_{cls}_{name}", f"async_{name}_{cls}") if f in tokens]
        if not token:
            failures.append(f"{qual} has no token form: async_{cls}_{name}(Context& ctx, ..., Token&&) in async.hpp")
        elif not runs(token[0]):
            failures.append(f"no test runs {token[0]}")
        if not re.search(r"(\.|->|::)" + re.escape(name) + r"\(", test_text):
            failures.append(f"no test runs {qual}")
    # Each start_/async_ form has its blocking twin.
    blocking = free | {f"{snake(o)}_{n}" for o, n in members} | {f"{n}_{snake(o)}" for o, n in members}
    for form in sorted(free_starts | tokens):
        base = re.sub(r"^(start|async)_", "", form)
        if base not in blocking:
            failures.append(f"{form} has no blocking form {base}(Context& ctx, ...)")
    for owner, form in sorted(member_starts):
        if (owner, form[len("start_"):]) not in members and not (owner == "Cluster" and form == "start_pause"):
            failures.append(f"{owner}::{form} has no blocking form {owner}::{form[len('start_'):]}(Context& ctx, ...)")

    # The C ABI.
    flat = re.sub(r"\s+", " ", strip_comments(pathlib.Path(header).read_text()))
    c_ops = set(re.findall(r"PGLIFT_API [^(;]*\bpglift_([a-z_0-9]+) ?\( ?pglift_ctx ?\* ?ctx\b", flat))
    c_count = 0
    for op in sorted(c_ops):
        if op.endswith("_async") or C_EXEMPT.match(op):
            continue
        c_count += 1
        if op + "_async" not in c_ops:
            failures.append(f"pglift_{op} has no twin pglift_{op}_async in {header}")

    for f in failures:
        print("FAIL: " + f)
    if failures:
        return 1
    print(f"{count} C++ operations in three forms (but the exempt), each run by a test; "
          f"{c_count} C entry points with an _async twin: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
