"""Which of a kernel's bytes the device's last-level cache serves and which
reach main memory: an LRU stack-distance model over the program's tensors.

The kernels run in program order. A kernel reads the tensors its ops take
from outside it and writes the ones used outside it. A read hits the cache
when the tensor was touched (written or read) recently enough that the
distinct bytes touched since, its own included, fit in the cache: the
reuse distance of an LRU cache. A tensor whose every read hits never
reaches main memory when it is written either: the stack reuses its buffer
(TensorRT, XLA and MIOpen plan activation buffers), so the dirty lines are
overwritten in the cache before they are evicted. Weights are read cold
once per call. Only tensors the kernels exchange are modelled; a kernel's
own tiles (shared memory, L1) are the per-kernel model's business
(sim/model.py).

Assumptions (docs/simulator.md, "Memory hierarchy"): the whole cache is
usable by one stream of kernels (no partitioning, no set conflicts), and
tensors are the unit of reuse (a tensor larger than the cache never hits).
"""
from __future__ import annotations

from collections import OrderedDict


def last_level_cache(device):
    """The device-wide cache a kernel's outputs stay in for the next
    (its largest on-chip level not private to a core or SM), or None."""
    shared = [o for o in device.onchip if "per " not in o.name]
    return max(shared, key=lambda o: o.size_mb, default=None)


def _operand_bytes(ops, index, operand, position):
    """Bytes (float32-counted, as the analysis counts) of one operand."""
    if operand >= 0:
        return ops[operand]["bytes_out"]
    shape = ops[index]["operand_shapes"][position]
    n = 4
    for d in shape:
        n *= d
    return n


def cache_traffic(ops: list, kernels: list, capacity_bytes: float) -> list:
    """For each kernel: {"cached": bytes served by the cache, "memory":
    bytes to and from main memory}, float32-counted like the analysis
    (the caller scales by the dtype; capacity likewise in float32 bytes)."""
    def tensor(i):  # a view is its operand's buffer
        while i >= 0 and ops[i]["kind"] == "view":
            i = ops[i]["operands"][0]
        return i

    users = [[] for _ in ops]
    for j, op in enumerate(ops):
        for operand in op["operands"]:
            if operand >= 0:
                users[operand].append(j)
    reads, writes, size = [], [], {}
    for k in kernels:
        inside = set(k["ops"])
        r, w = [], []
        for i in k["ops"]:
            for position, operand in enumerate(ops[i]["operands"]):
                t = tensor(operand)
                if t in inside or t in r:
                    continue
                size[t] = _operand_bytes(ops, i, operand, position)
                r.append(t)
            if ops[i]["returned"] or any(j not in inside for j in users[i]):
                size[i] = ops[i]["bytes_out"]
                w.append(i)
        reads.append(r)
        writes.append(w)

    lru = OrderedDict()   # tensor -> bytes, least recently touched first
    hit = {}              # (kernel, tensor) -> read served by the cache
    missed = set()        # tensors some read of which went to memory
    for kk, (r, w) in enumerate(zip(reads, writes)):
        for t in r:
            if t in lru:
                distance, seen = 0.0, False
                for other, nbytes in lru.items():
                    seen = seen or other == t
                    if seen:
                        distance += nbytes
                hit[kk, t] = distance <= capacity_bytes
            else:
                hit[kk, t] = False
            if not hit[kk, t]:
                missed.add(t)
            lru.pop(t, None)
            lru[t] = size[t]
        for t in w:
            lru.pop(t, None)
            lru[t] = size[t]

    out = []
    for kk, (r, w) in enumerate(zip(reads, writes)):
        cached = sum(size[t] for t in r if hit[kk, t])
        memory = sum(size[t] for t in r if not hit[kk, t])
        for t in w:
            to_memory = t in missed or ops[t]["returned"] or \
                not any(t in rr for rr in reads[kk + 1:])
            if to_memory:
                memory += size[t]
            else:
                cached += size[t]
        out.append({"cached": cached, "memory": memory})
    return out
