import time, numpy as np
from threadpoolctl import threadpool_limits
a = np.random.default_rng(0).standard_normal((4096, 256), dtype=np.float32); b = np.random.default_rng(1).standard_normal((256, 256), dtype=np.float32).T
fl = 2.0 * 4096 * 256 * 256; out = []
with threadpool_limits(1):
    for r in range(24):
        t0 = time.perf_counter()
        for q in range(10): np.matmul(a, b)
        out.append(fl * 10 / (time.perf_counter() - t0) / 1e9)
print(' '.join(f'{x:.0f}' for x in out))
