"""A fused Numba kernel: the whole per-sample SGD of a block of models in one function.

Layout: models in blocks of `block` (16 by default); a block's whole state is one flat float32
array [rows, M] (every kernel, then every bias, row by row; the model axis last; 16 KB at 16
models, so it stays in the core's 32 KB L1 cache for all the block's steps: at 64 models, 64 KB,
every step streamed it from L2 and ran ~1.6x slower). The kernel's body is one SGD step
of one model written out as straight-line code (generated from the layer sizes: every weight a
local variable), in a loop over the block's models inside the loop over the steps, so LLVM
vectorises the models' loop, the activations and deltas in registers. Where the CPU has AVX-512,
LLVM is told to use 512-bit registers (NUMBA_CPU_FEATURES, below; one register per block of 16
models): it otherwise stays at 256 bits on Intel CPUs, two registers per block, and the kernel
ran 1.1-1.25x slower (bench/README.md).
The blocks run in parallel (prange, one thread per core).

Per step and model: the forward pass, the data gradient sign(pred - y), the deltas to each layer
from the old kernels, then w <- w - lr * (h * dz + l1 * sign(w) + l2 * w) and b <- b - lr * dz.
With `bookkeeping`, also the step's cost (sum |e| + l1 * sum |W| + l2 * sum W^2 / 2, the kernels
before the update) and the first step whose cost was not finite, as the project's engines do.
Sums run in the order the project's engines use: z_o = ((h_0 W_0o + h_1 W_1o) + ...) + b_o; the
penalty's sums add up each kernel row's sum (a chain of 220 dependent adds per step would bound
the step by its latency).

What made it fast (one block of 64 models on one core: 13M model-steps/s before, ~37M after):
l1 * sign(w) written as copysign(l1, w), 0 at w = 0 (equal for l1 >= 0, as the project's
penalties are): a compare and a bitwise select, where sign(w) as a difference of two bool-to-float
conversions compiled to 10 vector instructions per weight; multiply-adds fused (fastmath
"contract" only: nothing reassociated, no finite-math assumption, so the isfinite test stands);
the 16 KB block; the penalty's row sums.
"""

import functools
import hashlib
import importlib
import os
import sys
import tempfile
from pathlib import Path

import llvmlite.binding as llvm
import numpy as np

from l1l2 import xla_cache

from .common import names

llvm.initialize_native_target()
HOST_FEATURES = llvm.get_host_cpu_features()
if HOST_FEATURES.get("avx512f"):  # read by Numba when it is first imported (by the kernel)
    os.environ.setdefault("NUMBA_CPU_FEATURES", f"{HOST_FEATURES.flatten()},-prefer-256-bit")

BLOCK = 16  # models per block: one 512-bit register of float32, a state of 16 KB (L1)
FASTMATH = {"contract"}  # fused multiply-adds; nothing that reorders sums or assumes finite values


def _source(sizes: tuple, bookkeeping: bool, M: int) -> str:
    """Python source of `block(s, x, y, rates, steps)` for the network `sizes` and M models."""
    L = len(sizes) - 1
    rows, row = {}, 0
    for k in range(L):
        for a in range(sizes[k]):
            for o in range(sizes[k + 1]):
                rows[f"W{k}_{a}_{o}"], row = row, row + 1
        for o in range(sizes[k + 1]):
            rows[f"b{k}_{o}"], row = row, row + 1

    def at(name):  # the state entry of `name` for model m
        return f"s[{rows[name] * M} + m]"

    def chain(terms):  # ((t0 + t1) + t2) + ...: the engines' order
        acc = terms[0]
        for t in terms[1:]:
            acc = f"({acc}) + {t}"
        return acc

    body = ["h0_0 = xi"]
    for k in range(L):  # forward: h{k+1} = h{k} @ W{k} + b{k}
        for o in range(sizes[k + 1]):
            terms = [f"h{k}_{a} * {at(f'W{k}_{a}_{o}')}" for a in range(sizes[k])]
            body.append(f"h{k + 1}_{o} = ({chain(terms)}) + {at(f'b{k}_{o}')}")
    body += [f"e = h{L}_0 - yi", f"d{L}_0 = sign(e)", "a1 = zero", "a2 = zero"]
    # l1 * sign(w): copysign(l1, w), 0 at w = 0 (l1 >= 0): a compare and a bitwise select
    penalty = "(zero if w == zero else np.copysign(l1m, w)) + l2m * w"
    for k in range(L - 1, -1, -1):  # backward: the delta below from the old kernel, the update
        if k:
            for a in range(sizes[k]):
                terms = [f"d{k + 1}_{o} * {at(f'W{k}_{a}_{o}')}" for o in range(sizes[k + 1])]
                body.append(f"d{k}_{a} = {chain(terms)}")
        for a in range(sizes[k]):
            for o in range(sizes[k + 1]):
                w = f"W{k}_{a}_{o}"
                body.append(f"w = {at(w)}")
                if bookkeeping:  # the row's sums, then the total: short dependency chains
                    op = "=" if o == 0 else "+="
                    body += [f"r1 {op} abs(w)", f"r2 {op} w * w"]
                body.append(f"{at(w)} = w - lr * (h{k}_{a} * d{k + 1}_{o} + {penalty})")
            if bookkeeping:
                body += ["a1 += r1", "a2 += r2"]
        for o in range(sizes[k + 1]):
            body.append(f"{at(f'b{k}_{o}')} = {at(f'b{k}_{o}')} - lr * d{k + 1}_{o}")
    if bookkeeping:
        body.append("cost = abs(e) + l1m * a1 + l2m * a2 * half")
        body.append(f"bad = s[{(row + 2) * M} + m]")
        body.append(f"s[{(row + 2) * M} + m] = fi if bad < 0 and not np.isfinite(cost) else bad")
    lines = "\n            ".join(body)
    return f"""# generated by bench/peers/numba_sgd.py: {sizes}, M {M}, bookkeeping {bookkeeping}
import numpy as np
from numba import njit, prange

M = {M}


@njit(inline="always", cache=True)
def sign(w):
    return np.float32(w > 0) - np.float32(w < 0)


@njit(fastmath={FASTMATH!r}, cache=True)
def block(s, x, y, rates, steps):
    n = len(x)
    half = np.float32(0.5)
    zero = np.float32(0.0)
    for i in range(steps):
        xi = x[i % n]
        yi = y[i % n]
        lr = rates[i]
        fi = np.float32(i)
        for m in range(M):
            l1m = s[{row * M} + m]
            l2m = s[{(row + 1) * M} + m]
            {lines}


@njit(parallel=True, cache=True)
def blocks(state, x, y, rates, steps):
    for j in prange(state.shape[0]):
        block(state[j], x, y, rates, steps)
"""


# LLVM gives up on a loop with more than 100 memory dependences (every weight is loaded and
# stored once per model): raised for this process, the loop over the models vectorises.
LLVM_OPTIONS = ("-max-dependences=100000",)


@functools.cache
def kernel(M: int, sizes: tuple, bookkeeping: bool):
    """The compiled kernel over blocks of M models of the network `sizes` (identity activation):
    its source is written to a module in the user cache folder, so that Numba caches the
    compiled kernel beside it (compiling it takes ~1 min)."""
    for option in LLVM_OPTIONS:
        llvm.set_option("", option)
    source = _source(sizes, bookkeeping, M)
    folder = (xla_cache.base_dir() or Path(tempfile.gettempdir()) / "l1l2") / "numba-peer"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"kernel_{hashlib.sha256(source.encode()).hexdigest()[:16]}.py"
    if not path.exists() or path.read_bytes() != source.encode():  # a file we did not write
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(source, encoding="utf-8")
        tmp.replace(path)
    if str(folder) not in sys.path:  # importable by name: Numba's cache imports it again
        sys.path.insert(0, str(folder))
    return importlib.import_module(path.stem).blocks


def train_numba(x, y, params0, l1, l2, *, lr, epochs, bookkeeping=True, block=BLOCK):
    """(final params models first, diverged_at [R]) after epochs of per-sample SGD in file order."""
    keys = names(params0)
    n = len(params0[keys[0]])
    m = min(block, n)
    pad = -n % m
    cols = [params0[k].reshape(n, -1) for k in keys]
    cols += [np.asarray(c, np.float32).reshape(n, 1) for c in (l1, l2)]
    cols += [np.full((n, 1), -1, np.float32)]  # the first non-finite step, -1 if none
    flat = np.concatenate(cols, axis=1)  # [R, rows]
    flat = np.concatenate([flat, np.repeat(flat[-1:], pad, 0)]).astype(np.float32)
    state = np.ascontiguousarray(flat.reshape(-1, m, flat.shape[1]).transpose(0, 2, 1))
    state = state.reshape(len(state), -1)  # [blocks, rows * M]
    sizes = (1, *(params0[k].shape[-1] for k in keys[::2]))
    steps = epochs * len(x)
    rates = np.full(steps, lr, np.float32)
    x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)
    kernel(m, sizes, bookkeeping)(state, x, y, rates, steps)
    flat = state.reshape(len(state), -1, m).transpose(0, 2, 1).reshape(-1, flat.shape[1])[:n]
    out, col = {}, 0
    for k in keys:
        size = params0[k][0].size
        out[k] = np.ascontiguousarray(flat[:, col : col + size].reshape(params0[k].shape))
        col += size
    return out, flat[:, -1].astype(np.int64)
