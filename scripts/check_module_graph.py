#!/usr/bin/env python3
"""Checks that the code follows the module graph in docs/ARCHITECTURE.md.

The graph is the fenced block after the line "<!-- module graph -->": one line per module,
`NAME: PUBLIC... | PRIVATE...`, where a public dependency may appear in the module's headers
(its interface) and a private one only in its sources. Checked:

- every `#include "M/..."` of another module in src/NAME (and apps/plinth) names a dependency
  listed for NAME, a public one when the including file is a header, unless that header says
  on its first line that it is internal ("// Internal to the NAME module ...");
- no other module includes a module's internal headers (its tests may);
- each module's CMake declaration (plinth_module(NAME ... PUBLIC ... PRIVATE ...)) links
  exactly the Plinth modules the graph lists, public and private alike;
- no module in the graph depends on one listed after it (so the graph has no cycle).

Exit 0 when everything agrees; 1 with one line per disagreement, naming file and line.
usage: check_module_graph.py [REPO_ROOT]
"""
import os
import re
import sys

root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
arch = os.path.join(root, "docs", "ARCHITECTURE.md")
problems = []

# The graph.
graph = {}   # name -> (public set, private set)
order = []
with open(arch) as f:
    lines = f.read().split("\n")
try:
    start = lines.index("<!-- module graph -->")
except ValueError:
    sys.exit(f"{arch}: no '<!-- module graph -->' line before the graph's fenced block")
i = start + 1
while i < len(lines) and not lines[i].startswith("```"):
    i += 1
i += 1
while i < len(lines) and not lines[i].startswith("```"):
    line = lines[i].strip()
    i += 1
    if not line:
        continue
    m = re.fullmatch(r"([a-z_/]+):\s*([a-z_ ]*)(?:\|\s*([a-z_ ]*))?", line)
    if not m:
        sys.exit(f"{arch}:{i}: expected 'NAME: PUBLIC... | PRIVATE...', got '{line}'")
    name = m.group(1)
    graph[name] = (set(m.group(2).split()), set((m.group(3) or "").split()))
    for dep in graph[name][0] | graph[name][1]:
        if dep not in graph:
            problems.append(f"{arch}:{i}: {name} depends on '{dep}', which is not listed before "
                            f"it (the graph must list a module after everything it uses)")
    order.append(name)

modules = {m for m in graph if m != "apps/plinth"}
on_disk = {d for d in os.listdir(os.path.join(root, "src"))
           if os.path.isdir(os.path.join(root, "src", d))}
for missing in sorted(on_disk - modules):
    problems.append(f"{arch}: module src/{missing} is not in the module graph")
for extra in sorted(modules - on_disk):
    problems.append(f"{arch}: the module graph lists '{extra}', which src/ does not have")

# Internal headers: "// Internal to the NAME module" on the first line.
internal = set()
for name in modules:
    folder = os.path.join(root, "src", name)
    for fname in os.listdir(folder):
        if fname.endswith(".h"):
            with open(os.path.join(folder, fname), errors="replace") as f:
                if f.readline().startswith(f"// Internal to the {name} module"):
                    internal.add(f"{name}/{fname}")

# Includes.
include = re.compile(r'\s*#\s*include\s+"(([a-z_]+)/[^"]+)"')
for name in order:
    folder = os.path.join(root, "src", name) if name in modules else os.path.join(root, name)
    if not os.path.isdir(folder):
        continue
    public, private = graph[name]
    for fname in sorted(os.listdir(folder)):
        if not fname.endswith((".h", ".cc")):
            continue
        path = os.path.join(folder, fname)
        header = fname.endswith(".h") and f"{name}/{fname}" not in internal
        with open(path, errors="replace") as f:
            for n, text in enumerate(f, 1):
                m = include.match(text)
                if not m or m.group(2) not in modules or m.group(2) == name:
                    continue
                dep = m.group(2)
                rel = os.path.relpath(path, root)
                if m.group(1) in internal:
                    problems.append(f"{rel}:{n}: {name} includes {m.group(1)}, which is internal "
                                    f"to {dep}")
                    continue
                if dep in public or (not header and dep in private):
                    continue
                if header and dep in private:
                    problems.append(f"{rel}:{n}: a header of {name} includes {dep}, a private "
                                    f"dependency (make it public in the graph, or move the "
                                    f"include into a source file)")
                else:
                    problems.append(f"{rel}:{n}: {name} includes {dep}, which the module graph "
                                    f"does not give it")

# CMake declarations.
decl = re.compile(r"plinth_module\((\w+)(.*?)\)", re.S)
for name in sorted(modules):
    cmake = os.path.join(root, "src", name, "CMakeLists.txt")
    with open(cmake) as f:
        text = f.read()
    m = decl.search(text)
    if not m or m.group(1) != name:
        problems.append(f"{os.path.relpath(cmake, root)}: no plinth_module({name} ...)")
        continue
    words = m.group(2).split()
    declared = {"PUBLIC": set(), "PRIVATE": set()}
    section = None
    for w in words:
        if w in ("SOURCES", "PUBLIC", "PRIVATE"):
            section = w
        elif section in declared and w.startswith("plinth::"):
            declared[section].add(w[len("plinth::"):])
    for kind, want in (("PUBLIC", graph[name][0]), ("PRIVATE", graph[name][1])):
        if declared[kind] != want:
            problems.append(f"{os.path.relpath(cmake, root)}: {name} links {kind} "
                            f"{sorted(declared[kind]) or 'nothing'}; the module graph says "
                            f"{sorted(want) or 'nothing'}")

for p in problems:
    print(p)
if problems:
    sys.exit(1)
print(f"module graph: {len(order)} modules, every include and link follows docs/ARCHITECTURE.md")
