import atexit
import os
import shutil
import tempfile

import numpy as np
import pytest

# A compile cache of this test session's own: results never depend on what an
# earlier run left in ~/.cache. Removed at exit: a whole run leaves ~2 GB of
# objects, and runs that kept theirs filled the disk (CI then died in LLVM:
# "IO failure on output stream: No space left on device").
if "FLASH_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="flash-test-cache-")
    os.environ["FLASH_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def assert_close(actual, expected, reduction=1):
    """float32 results vs a float64 NumPy reference: rtol 1e-4, plus an
    absolute tolerance growing with the reduction length (sqrt(K) * 1e-5),
    the typical float32 accumulation error for K unit-scale terms."""
    assert actual.dtype == np.float32
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=1e-4,
                               atol=1e-5 * max(1.0, np.sqrt(reduction)))


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    """Runs a test with compiled code on 1 and on 2 threads."""
    import flashcompile as fc
    before = fc.get_num_threads()
    fc.set_num_threads(request.param)
    yield request.param
    fc.set_num_threads(before)
