#!/usr/bin/env python3
"""Executes a tp4 notebook with the evcxr kernel and checks its outputs.

Used by scripts/notebook-ci.sh (CI and the Docker build):

    notebook_check.py run NOTEBOOK --expect passed|not-done [--out EXECUTED] [--timeout S]
    notebook_check.py check EXECUTED --expect passed|not-done

`run` executes every cell (errors are recorded, not fatal, so that one run reports
every problem), writes the executed notebook to EXECUTED, then checks it like `check`.

Checks, on every code cell: no error output, nothing on stderr (where evcxr prints
a top-level `?` error), no "panicked at" anywhere, no compile error. On every check cell (tag "check", metadata tp4.questions = [Q...]): with
--expect passed, a success verdict "✅ Question Q" for each Q and no other verdict;
with --expect not-done, "⏳ Question Q ... pas encore faite" for each Q, no failure.
With --expect passed the notebook must also display at least one inline plot.
Exit code 0 when everything holds, 1 otherwise (each problem is printed).
"""

import argparse
import json
import re
import sys
import time
from pathlib import Path

CHECK_TAG = "check"
# Seconds above which a cell (other than the `:dep` one) is reported as slow.
SLOW_CELL_SECONDS = 60


def cell_text(cell):
    """All the text a code cell produced: streams, results and error tracebacks."""
    parts = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(out.get("name", "") + ": " + "".join(out.get("text", "")))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            parts.append("".join(data.get("text/plain", "")))
            parts.append("".join(data.get("text/html", "")))
        elif kind == "error":
            parts.append(out.get("ename", "") + ": " + out.get("evalue", ""))
            parts.append("\n".join(out.get("traceback", [])))
    # evcxr colours compile errors: keep the text only.
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(parts))


def first_line(cell):
    src = "".join(cell.get("source", ""))
    return src.strip().splitlines()[0][:70] if src.strip() else "(vide)"


def check(nb, expect):
    """Returns the list of problems found in an executed notebook (dict)."""
    problems = []
    checks = 0
    plots = 0
    for index, cell in enumerate(nb["cells"], start=1):
        if cell.get("cell_type") != "code":
            continue
        where = f"cellule {index} ({first_line(cell)})"
        outputs = cell.get("outputs", [])
        text = cell_text(cell)
        if cell.get("execution_count") is None:
            problems.append(f"{where} : n'a pas été exécutée")
        stderr = "".join(
            "".join(o.get("text", "")) for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"
        ).strip()
        if stderr:
            # A top-level `?` error or a panic only shows on stderr: nothing else may.
            problems.append(f"{where} : sortie d'erreur : {stderr[:300]}")
        for out in outputs:
            if out.get("output_type") == "error":
                problems.append(f"{where} : erreur {out.get('ename')}: {out.get('evalue')}")
            data = out.get("data", {})
            if "image/svg+xml" in data or "image/png" in data:
                plots += 1
        if "panicked at" in text:
            problems.append(f"{where} : panique ({text.strip()[:300]})")
        if re.search(r"error(\[E\d+\])?:", text):
            problems.append(f"{where} : erreur de compilation ou d'exécution ({text.strip()[:300]})")
        tags = cell.get("metadata", {}).get("tags", [])
        if CHECK_TAG not in tags:
            continue
        checks += 1
        questions = cell["metadata"].get("tp4", {}).get("questions", [])
        verdicts = re.findall(r"^[^\n]*(✅|⏳|❌) Question (\S+)", text, flags=re.M)
        if not questions:
            problems.append(f"{where} : cellule de vérification sans numéro de question")
        for q in questions:
            if q not in [v[1] for v in verdicts]:
                problems.append(f"{where} : aucun verdict pour la question {q}\n{text.strip()[:600]}")
        wanted = "✅" if expect == "passed" else "⏳"
        for mark, question in verdicts:
            if mark != wanted:
                problems.append(
                    f"{where} : question {question} : verdict {mark}, attendu {wanted}\n{text.strip()[:600]}"
                )
        if expect == "not-done" and "pas encore faite" not in text:
            problems.append(f"{where} : « pas encore faite » absent")
    if checks == 0:
        problems.append("aucune cellule de vérification (tag « check ») dans le notebook")
    if expect == "passed" and plots == 0:
        problems.append("aucun graphique affiché dans le notebook")
    return problems, checks, plots


def cell_seconds(cell):
    ex = cell.get("metadata", {}).get("execution", {})
    start, end = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
    if not start or not end:
        return None
    from datetime import datetime

    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
    return (parse(end) - parse(start)).total_seconds()


def run(path, out, timeout):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="rust",
        allow_errors=True,
        record_timing=True,
        resources={"metadata": {"path": str(path.parent.resolve())}},
    )
    start = time.monotonic()
    try:
        client.execute()
    finally:
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(out))
    seconds = time.monotonic() - start
    timed = [(cell_seconds(c), i, first_line(c)) for i, c in enumerate(nb.cells, 1) if c.cell_type == "code"]
    timed = sorted((t for t in timed if t[0] is not None), reverse=True)
    print(f"{path} exécuté en {seconds:.0f} s ({len(timed)} cellules de code) → {out}")
    for s, i, line in timed[:5]:
        print(f"  {s:6.1f} s  cellule {i} : {line}")
    # Goal of the lab: after the first `:dep` cell (which compiles the library), no cell
    # takes more than a minute. Reported, not fatal: a shared machine is noisy.
    slow = [t for t in timed if t[0] > SLOW_CELL_SECONDS and not t[2].startswith(":")]
    for s, i, line in slow:
        print(f"  ⚠ cellule {i} au-delà de {SLOW_CELL_SECONDS} s ({s:.0f} s) : {line}")
    if not slow:
        print(f"  aucune cellule au-delà de {SLOW_CELL_SECONDS} s après la cellule :dep")
    return json.loads(Path(out).read_text(encoding="utf-8"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["run", "check"])
    ap.add_argument("notebook", type=Path)
    ap.add_argument("--expect", choices=["passed", "not-done"], required=True)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--timeout", type=int, default=900, help="secondes par cellule")
    args = ap.parse_args()
    if args.action == "run":
        out = args.out or args.notebook.with_name(args.notebook.stem + ".executed.ipynb")
        nb = run(args.notebook, out, args.timeout)
    else:
        nb = json.loads(args.notebook.read_text(encoding="utf-8"))
    problems, checks, plots = check(nb, args.expect)
    if problems:
        print(f"ÉCHEC : {len(problems)} problème(s) dans {args.notebook} :")
        for p in problems:
            print(" - " + p)
        return 1
    what = "réussies" if args.expect == "passed" else "signalées « pas encore faite »"
    print(f"OK : {args.notebook} — {checks} vérifications {what}, {plots} graphique(s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
