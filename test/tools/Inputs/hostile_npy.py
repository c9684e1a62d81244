"""Writes the .npy files of npy-hostile.mlir into the folder argv[1]."""
import os
import struct
import sys

import numpy as np


def npy(header: str) -> bytes:
    h = header.encode()
    h += b" " * ((64 - (10 + len(h) + 1) % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h


out = sys.argv[1]
files = {
    "badshape": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x3), }") + b"\0" * 24,
    "huge": npy("{'descr': '<f4', 'fortran_order': False, "
                "'shape': (4294967296, 4294967296, 4294967296), }") + b"\0" * 24,
    "bignumber": npy("{'descr': '<f4', 'fortran_order': False, "
                     "'shape': (99999999999999999999999, ), }"),
    "longheader": b"\x93NUMPY\x02\x00" + struct.pack("<I", 900000) + b"{'descr': '" + b"a" * 1000,
    "short": npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") + b"\0" * 20,
}
for name, data in files.items():
    with open(os.path.join(out, name + ".npy"), "wb") as f:
        f.write(data)
np.save(os.path.join(out, "good.npy"), np.ones((2, 3), np.float32))
