"""The workloads of a recorded LocalCluster: array, dataframe, delayed graph, 64 MiB scatter."""

from __future__ import annotations

from typing import Any

MiB = 2**20


def _inc(x: int) -> int:
    return x + 1


def _add(*xs: int) -> int:
    return sum(xs)


def run_workloads(client: Any, small: bool) -> None:
    import dask
    import dask.array as da
    import dask.dataframe as dd
    import numpy as np
    import pandas as pd

    n = 200 if small else 800
    # dask.array reduction
    x = da.random.default_rng(0).random((n * 4, n * 4), chunks=(n // 2, n // 2))
    (x + x.T).mean(axis=0).sum().compute()
    # dask.dataframe groupby
    pdf = pd.DataFrame(
        {
            "k": np.arange(n * 100) % 37,
            "v": np.arange(n * 100, dtype="f8"),
            "s": np.arange(n * 100).astype(str),
        }
    )
    ddf = dd.from_pandas(pdf, npartitions=16)
    ddf.groupby("k").v.agg(["sum", "mean", "count"]).compute()
    # dask.delayed graph of a few thousand tasks
    width = 300 if small else 1000
    layer = [dask.delayed(_inc)(i) for i in range(width)]
    layer = [dask.delayed(_add)(layer[i], layer[(i + 1) % width]) for i in range(width)]
    dask.delayed(_add)(*layer).compute()
    # scatter and gather of a 64 MiB array
    big = np.arange((4 if small else 64) * MiB // 8, dtype="f8")
    future = client.scatter(big)
    got = client.gather(future)
    assert got.nbytes == big.nbytes
    del future
