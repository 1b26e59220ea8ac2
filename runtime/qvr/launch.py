"""The processes of a data-parallel `qvr run --svi`: started here, or by torchrun.

`qvr run FILE --svi --nproc N` starts N-1 more copies of the same command on this machine and
is rank 0 itself; they meet through torch.distributed's environment rendezvous on 127.0.0.1
(gloo on the CPU, NCCL on CUDA, one GPU per process). Under `torchrun` (several machines),
`RANK`/`WORLD_SIZE`/`MASTER_ADDR`/`MASTER_PORT`/`LOCAL_RANK` are already set, and each process
only joins the group. Only rank 0 reports and writes results; the others run silently, and a
failure in any of them fails the run (rank 0 reports the other's last words).

The started copies die with rank 0: they get SIGTERM when it exits (Linux parent-death signal)
and rank 0 terminates them when it stops early.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from datetime import timedelta
from typing import Optional

ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
# How long a collective waits for the other processes before the run fails (a peer that died
# is usually noticed at once, through its closed connection).
TIMEOUT = timedelta(minutes=5)


def world_from_env() -> Optional[tuple[int, int, int]]:
    """(rank, world size, local rank) when this process is one of several (torchrun or a copy
    started by `start_local`), else None."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        return None
    return (rank, world, local) if world > 1 else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass  # not Linux: rank 0 still terminates them when it stops


class LocalWorkers:
    """The copies `qvr run --nproc N` started (ranks 1..N-1) and their stderr files."""

    def __init__(self, processes, logs):
        self.processes = processes
        self.logs = logs

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.terminate()
        for p in self.processes:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def failure(self) -> Optional[str]:
        """The last stderr line of the first copy that failed, once all have exited (a copy
        still running `TIMEOUT` after rank 0 finished is stopped and counts as failed)."""
        for rank, (p, log) in enumerate(zip(self.processes, self.logs), 1):
            try:
                p.wait(timeout=TIMEOUT.total_seconds())
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.returncode != 0:
                log.seek(0)
                lines = [line for line in log.read().decode("utf-8", "replace").splitlines()
                         if line.strip()]
                return f"process {rank} failed (exit {p.returncode})" + (
                    f": {lines[-1]}" if lines else "")
        return None

    def close(self) -> None:
        for log in self.logs:
            log.close()


def start_local(argv: list, nproc: int) -> LocalWorkers:
    """Start ranks 1..nproc-1 of `python -m qvr run ARGV` on this machine and set this
    process up as rank 0 (environment variables for `init_process_group`)."""
    env = dict(os.environ, WORLD_SIZE=str(nproc), MASTER_ADDR="127.0.0.1",
               MASTER_PORT=str(_free_port()))
    env.setdefault("GLOO_SOCKET_IFNAME", "lo")  # gloo's connections stay on the loopback
    # the copies share the cores: one torch thread each unless the user chose otherwise
    # (this process too: its thread pool would otherwise take every core)
    if "OMP_NUM_THREADS" not in os.environ:
        import torch

        threads = max(1, (os.cpu_count() or 1) // nproc)
        env["OMP_NUM_THREADS"] = str(threads)
        torch.set_num_threads(threads)
    processes, logs = [], []
    for rank in range(1, nproc):
        log = tempfile.TemporaryFile()
        logs.append(log)
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "qvr", "run", *argv],
            env=dict(env, RANK=str(rank), LOCAL_RANK=str(rank)), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=log,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None))
    os.environ.update({k: env[k] for k in ("WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")},
                      RANK="0", LOCAL_RANK="0")
    os.environ.setdefault("GLOO_SOCKET_IFNAME", env["GLOO_SOCKET_IFNAME"])
    return LocalWorkers(processes, logs)


def init_process_group(device) -> None:
    """Join the group the environment describes: NCCL for CUDA devices, gloo otherwise."""
    import torch
    import torch.distributed as dist

    backend = "nccl" if torch.device(device).type == "cuda" else "gloo"
    dist.init_process_group(backend, init_method="env://", timeout=TIMEOUT)


@contextmanager
def data_parallel(argv: list, nproc: int, device_of=None):
    """Inside: this process is one of the run's processes (rank from `qvr.infer.distributed`).
    Starts the local copies for `nproc > 1` unless the environment already describes a group
    (torchrun); joins the group; on leaving, waits for the copies and raises QvrError with the
    first failure, or stops them when leaving with an exception."""
    import torch.distributed as dist

    workers = None
    saved = {name: os.environ.get(name) for name in ENV_VARS + ("GLOO_SOCKET_IFNAME",)}
    if world_from_env() is None and nproc > 1:
        workers = start_local(argv, nproc)
    failed = False
    try:
        if world_from_env() is not None:
            init_process_group(device_of() if device_of is not None else "cpu")
        yield
        if dist.is_available() and dist.is_initialized():
            dist.barrier()  # every process is done with its collectives
    except BaseException:
        failed = True
        if workers is not None:
            workers.stop()
        raise
    finally:
        failure = None
        if workers is not None:
            for name, value in saved.items():  # a later run in this process starts afresh
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            # Rank 0 hosts the rendezvous store: it leaves the group only once the copies have
            # left theirs and exited (a copy still tearing down when the store vanished would
            # abort).
            failure = None if failed else workers.failure()
            workers.close()
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
        if failure is not None:
            from .errors import QvrError

            raise QvrError(failure)
