"""The threads that own SQLite connections, so that no database work runs on the event loop.

A worker is one plain `threading.Thread` owning one `sqlite3` connection, fed by a queue
of jobs. A job is a function of the connection, run on the thread; its result or its
exception goes back to the awaiting coroutine through `loop.call_soon_threadsafe` on an
asyncio future. There are two kinds of worker:

- `Worker` (the reader) runs jobs one at a time, each statement its own read transaction
  (WAL: readers see only committed data and never wait for the writer).
- `Writer` does group commit. It takes the first job from the queue, then every job that
  arrived meanwhile (while the previous transaction was being written), up to `max_jobs`
  jobs or about `max_bytes` of payload, and runs them all in ONE transaction
  (`BEGIN IMMEDIATE` … `COMMIT`: one fsync for the batch). Each job runs in its own
  SAVEPOINT, so one that raises (a `SeqConflict`) is rolled back alone and the others
  commit. There is no added delay: a lone job is committed at once.

Invariants:
- Every job's future is settled exactly once: with its result, or with a `StoreError`
  (the job's own, any other exception wrapped in one, or the thread's fault).
- A writer job's result is delivered only after `COMMIT` returned: acked means durable.
  If the transaction fails, every job of the batch fails with `StoreError`.
- The thread never dies silently: a fault outside a job (the connection cannot be opened,
  a bug) fails the jobs in hand, every queued job and every later call.
- `stop()` lets every job submitted before it finish, closes the connection and joins
  the thread. No job is left unsettled in the queue: submitting and the thread's end
  take the same lock.
- At most `max_pending` callers have a job in flight; the others wait for a slot
  (backpressure, never an unbounded queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from floor.store.port import SeqConflict, StoreError

T = TypeVar("T")
Connect = Callable[[], sqlite3.Connection]
Run = Callable[[sqlite3.Connection], T]


@dataclass(slots=True, eq=False)
class Job(Generic[T]):
    """One unit of database work and where its outcome goes; `run` None marks a stop."""

    run: Run[T] | None
    future: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop
    size: int = 0
    is_append: bool = False
    result: Any = None
    error: BaseException | None = None


def store_error(message: str, cause: BaseException) -> StoreError:
    """A fresh StoreError (one per job: exceptions are not shared) caused by `cause`."""
    error = StoreError(message)
    error.__cause__ = cause
    return error


def as_store_error(exc: Exception) -> StoreError:
    """`exc` itself if it is a StoreError (SeqConflict included), else one wrapping it."""
    if isinstance(exc, StoreError):
        return exc
    return store_error(f"{type(exc).__name__}: {exc}", exc)


def _settle(jobs: list[Job[Any]]) -> None:
    """On the loop: hand each job's outcome to its future, unless its caller gave up."""
    for job in jobs:
        if job.future.done():
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)


def deliver(jobs: list[Job[Any]]) -> None:
    """From the thread: settle the jobs' futures, one wake-up per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Job[Any]]] = {}
    for job in jobs:
        by_loop.setdefault(job.loop, []).append(job)
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            loop.call_soon_threadsafe(_settle, settled)


class Worker:
    """A thread owning one connection, running jobs one at a time (the reader)."""

    def __init__(self, name: str, connect: Connect, *, max_pending: int = 10_000) -> None:
        self.name = name
        self.pending = 0  # jobs submitted whose caller still waits (loop side)
        self._connect = connect
        self._queue: queue.SimpleQueue[Job[Any]] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards _serving, _refusal, _stopping
        self._serving = False
        self._refusal: str = "not open"  # why jobs are refused when not serving
        self._stopping: Job[None] | None = None
        self._slots = asyncio.Semaphore(max_pending)
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    def start(self) -> None:
        with self._lock:
            self._serving = True
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    async def call(self, run: Run[T], *, size: int = 0, is_append: bool = False) -> T:
        """Run `run(connection)` on the thread; its result. Raises StoreError."""
        async with self._slots:
            loop = asyncio.get_running_loop()
            job: Job[T] = Job(run, loop.create_future(), loop, size, is_append)
            with self._lock:
                if not self._serving:
                    raise StoreError(f"{self.name}: {self._refusal}")
                self._queue.put(job)
            self.pending += 1
            try:
                return await job.future
            finally:
                self.pending -= 1

    async def stop(self) -> None:
        """Finish the jobs already submitted, close the connection, join the thread."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._stopping is None:
                self._stopping = Job(None, loop.create_future(), loop)
                if self._serving:
                    self._queue.put(self._stopping)
                    self._serving = False
                    self._refusal = "closed"
                else:
                    self._stopping.future.set_result(None)
            stopping = self._stopping
        await asyncio.shield(stopping.future)
        if self._thread.ident is not None:
            self._thread.join()  # the thread settled `stopping` as its very last act

    # --- on the thread ---------------------------------------------------------------

    def _main(self) -> None:
        connection: sqlite3.Connection | None = None
        held: list[Job[Any]] = []  # jobs taken from the queue and not yet settled
        try:
            connection = self._connect()
            self._serve(connection, held)
        except BaseException as exc:  # the thread must never die silently
            self._fail_all(exc, held)
        finally:
            if connection is not None:
                with contextlib.suppress(sqlite3.Error):
                    connection.close()
            with self._lock:
                self._serving = False
                stopping = self._stopping
            if stopping is not None:
                deliver([stopping])

    def _serve(self, connection: sqlite3.Connection, held: list[Job[Any]]) -> None:
        carry: Job[Any] | None = None
        while True:
            batch, stop, carry = self._take(carry)
            held[:] = batch
            if batch:
                self._run(connection, batch)
                deliver(batch)
            held.clear()
            if stop:
                return

    def _take(self, carry: Job[Any] | None) -> tuple[list[Job[Any]], bool, Job[Any] | None]:
        """The next batch, whether a stop follows it, and a job kept for the next batch."""
        job = carry if carry is not None else self._queue.get()
        if job.run is None:
            return [], True, None
        return [job], False, None

    def _run(self, connection: sqlite3.Connection, batch: list[Job[Any]]) -> None:
        for job in batch:
            assert job.run is not None
            try:
                job.result = job.run(connection)
            except Exception as exc:
                job.error = as_store_error(exc)

    def _fail_all(self, exc: BaseException, held: list[Job[Any]]) -> None:
        """Fail the jobs in hand, every queued one, and refuse all later ones."""
        message = f"{self.name} stopped: {type(exc).__name__}: {exc}"
        with self._lock:
            self._serving = False
            self._refusal = message
            doomed = list(held)
            while True:
                try:
                    doomed.append(self._queue.get_nowait())
                except queue.Empty:
                    break
        failed = [job for job in doomed if job.run is not None]
        for job in failed:
            job.error = store_error(message, exc)
        deliver(failed)


@dataclass(frozen=True, slots=True)
class WriterStats:
    """What the writer has done, to see group commit at work."""

    transactions: int  # committed transactions
    appends: int  # appends committed
    conflicts: int  # appends refused with SeqConflict
    largest_batch: int  # the most jobs committed in one transaction
    pending: int  # write jobs submitted whose caller still waits


class Writer(Worker):
    """The one thread that writes: group commit, one SAVEPOINT per job."""

    def __init__(
        self,
        name: str,
        connect: Connect,
        *,
        max_pending: int = 10_000,
        max_jobs: int = 1000,
        max_bytes: int = 4 << 20,
    ) -> None:
        super().__init__(name, connect, max_pending=max_pending)
        self._max_jobs = max_jobs
        self._max_bytes = max_bytes
        self._transactions = 0
        self._appends = 0
        self._conflicts = 0
        self._largest_batch = 0

    @property
    def stats(self) -> WriterStats:
        return WriterStats(
            self._transactions, self._appends, self._conflicts, self._largest_batch, self.pending
        )

    def _take(self, carry: Job[Any] | None) -> tuple[list[Job[Any]], bool, Job[Any] | None]:
        first = carry if carry is not None else self._queue.get()
        if first.run is None:
            return [], True, None
        batch, size = [first], first.size
        while len(batch) < self._max_jobs:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job.run is None:
                return batch, True, None
            if size + job.size > self._max_bytes:
                return batch, False, job
            batch.append(job)
            size += job.size
        return batch, False, None

    def _run(self, connection: sqlite3.Connection, batch: list[Job[Any]]) -> None:
        try:
            connection.execute("BEGIN IMMEDIATE")
            for job in batch:
                assert job.run is not None
                connection.execute("SAVEPOINT job")
                try:
                    job.result = job.run(connection)
                except Exception as exc:
                    connection.execute("ROLLBACK TO job")
                    job.error = as_store_error(exc)
                connection.execute("RELEASE job")
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            if connection.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
            for job in batch:
                job.error = store_error(f"transaction failed, nothing written: {exc}", exc)
            return
        self._transactions += 1
        self._largest_batch = max(self._largest_batch, len(batch))
        for job in batch:
            if job.is_append and job.error is None:
                self._appends += 1
            elif isinstance(job.error, SeqConflict):
                self._conflicts += 1
