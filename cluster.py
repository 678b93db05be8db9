"""A Dask distributed cluster for the commands that can use one (`xuewei batch --dask`, `xuewei run
--dask`): ``local`` starts a `distributed.LocalCluster` on this machine, ``tcp://host:port``
connects to a running scheduler (``dask scheduler`` and ``dask worker`` on other machines).

A batch sends its variants to the cluster; one run sends its independent models
(`xuewei.optimizer.dask_solve`); a batch's variants send their models to the same cluster, so the
two share it.
"""

from __future__ import annotations

from contextlib import contextmanager

from xuewei.errors import InputError, Problem

CONNECT_TIMEOUT_S = 5


def connect(address: str, workers: int):
    """``(client, cluster or None, description)`` for ``address`` (``local`` or a scheduler address).

    Raises `xuewei.errors.InputError` (exit 2) for an address that is not one, or a scheduler that
    does not answer within `CONNECT_TIMEOUT_S`.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as err:  # pragma: no cover - a dependency of xuewei
        raise InputError(Problem(file="--dask", expected="已安装 dask[distributed]", found=str(err))) from None
    if address == "local":
        # The scheduler's HTTP server always starts; on a free port of its own, so a busy 8787 (another
        # cluster, a notebook) is neither a warning nor a failure.
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address="127.0.0.1:0")
        return Client(cluster), cluster, f"Dask 本机集群（{workers} 个工作进程）"
    if "://" not in address and ":" not in address:
        raise InputError(Problem(file="--dask", expected="local 或调度器地址，如 tcp://10.0.0.5:8786", found=address))
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as err:
        raise InputError(Problem(file="--dask", expected="可连接的 Dask 调度器地址", found=address,
                                 hint=f"{CONNECT_TIMEOUT_S} 秒内连接失败（{type(err).__name__}）。请确认调度器已启动"
                                      "（dask scheduler）、地址和端口正确、网络可达；或去掉 --dask 在本机运行。")) from None
    n = len(client.scheduler_info().get("workers", {}))
    return client, None, f"Dask 集群 {address}（{n} 个工作进程）"


@contextmanager
def dask_cluster(address: str, workers: int):
    """``with dask_cluster(address, workers) as (client, description):`` — closes what it opened."""
    client, cluster, desc = connect(address, max(1, int(workers)))
    try:
        yield client, desc
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
