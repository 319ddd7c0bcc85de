#!/usr/bin/env python3
"""W3 (somme des carrés) chez les pairs : numpy `dot` et numba `fastmath`.

Usage : OPENBLAS_NUM_THREADS=T python3 scripts/w3-pairs.py T [M] [RÉPÉTITIONS]

Construit le tableau de W3 (x_i = (i mod 1000) / 1000, M = 50 000 000 par défaut) hors
mesure, puis mesure `numpy.dot(x, x)` et une boucle numba `fastmath` (`prange` sur T
threads) : médiane de RÉPÉTITIONS passages après un échauffement, réponse vérifiée
contre la forme close de workloads.md (erreur relative < 1e-9). Imprime une ligne JSON
par mesure, comme `tp4 bench --json`, pour comparer sur la même machine, dans la même
séance (voir docs/benchmarks.md, section W3). Le nombre de threads d'OpenBLAS se fixe
avant l'import de numpy : passez OPENBLAS_NUM_THREADS=T dans l'environnement.
"""
import json
import statistics
import sys
import time

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
m = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000_000
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 7

import numpy as np  # noqa: E402
import numba  # noqa: E402


def closed_form(m):
    squares_below = lambda n: (max(n - 1, 0) * n * max(2 * n - 1, 0)) / 6.0
    q, r = divmod(m, 1000)
    return (q * squares_below(1000) + squares_below(r)) / 1e6


@numba.njit(fastmath=True, parallel=True)
def sumsq_numba(xs):
    s = 0.0
    for i in numba.prange(xs.shape[0]):
        s += xs[i] * xs[i]
    return s


def measure(name, f, xs):
    f(xs)
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        v = f(xs)
        samples.append(time.perf_counter() - t)
    exact = closed_form(m)
    ok = abs(v - exact) <= 1e-9 * max(exact, 1.0)
    print(json.dumps({"workload": "sumsq", "strategy": name, "workers": threads, "size": m,
                      "seconds": statistics.median(samples), "min": min(samples),
                      "max": max(samples), "runs": runs, "answer": v, "ok": ok}))


xs = (np.arange(m, dtype=np.int64) % 1000) / 1000.0
numba.set_num_threads(threads)
measure("numpy-dot", lambda a: float(np.dot(a, a)), xs)
measure("numba-fastmath", sumsq_numba, xs)
