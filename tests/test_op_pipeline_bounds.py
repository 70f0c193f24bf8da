"""The pipeline's own rules (server/op_pipeline.py), with a commit function held by
the test: how many ops may wait, what a failure answers, what settles it."""

import asyncio

import pytest
from atelier.backends.base import BackendError, StorageFullError
from atelier.op_pipeline import OpPipeline
from atelier.records import CommitResult, OpRecord

pytestmark = pytest.mark.pure


def _record(cop: int) -> OpRecord:
    return OpRecord("c", cop, {"kind": "note.add", "id": f"n{cop}", "text": "x"}, "Ana",
                    "participant", 1_700_000_000_000)  # fmt: skip


class Log:
    """What a socket sees of its pipeline: each commit's cops, each answer, each
    refusal, each failure; commits wait while ``gate`` is shut."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.gate.set()
        self.commits: list[list[int]] = []
        self.answers: list[tuple[int, int]] = []
        self.refused: list[int] = []
        self.failures: list[BaseException] = []
        self.fail_with: Exception | None = None
        self.answer_fails_at: int | None = None  # the cop whose answer raises
        self.gone = False  # the socket was told to go
        self.seq = 0

    async def commit(self, records: list[OpRecord]) -> list[CommitResult]:
        self.commits.append([r.cop for r in records])
        await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        results = []
        for _ in records:
            self.seq += 1
            results.append(CommitResult(self.seq, duplicate=False))
        return results

    async def answer(self, cop: int, result: CommitResult) -> None:
        await asyncio.sleep(0)  # an outcome may wait: answers still keep their order
        if cop == self.answer_fails_at:
            raise TimeoutError("no outcome in time")
        self.answers.append((cop, result.seq))

    def refuse(self, cop: int, full: StorageFullError) -> None:
        self.refused.append(cop)

    def failed(self, error: BaseException) -> None:
        self.failures.append(error)
        self.gone = True  # as the socket does: it closes

    async def hold_first(self, ops: OpPipeline[int], *behind: int) -> None:
        """Op 1's commit waits at the shut gate; the ops ``behind`` wait for the next."""
        self.gate.clear()
        ops.add(_record(1), 1)
        await asyncio.sleep(0)  # the commit took op 1
        for cop in behind:
            ops.add(_record(cop), cop)

    def pipeline(self, limit: int = 4) -> OpPipeline[int]:
        return OpPipeline(self.commit, self.answer, self.refuse, self.failed,
                          lambda: self.gone, limit)  # fmt: skip


async def test_ops_added_during_a_commit_form_the_next_one_and_keep_their_order() -> None:
    log = Log()
    ops = log.pipeline(limit=10)
    await log.hold_first(ops, 2, 3, 4)
    log.gate.set()
    await ops.settled()
    assert log.commits == [[1], [2, 3, 4]]
    assert log.answers == [(1, 1), (2, 2), (3, 3), (4, 4)]
    await ops.settled()  # nothing under way: returns at once


async def test_a_full_pipeline_holds_the_reader_until_a_commit_takes_its_ops() -> None:
    log = Log()
    ops = log.pipeline(limit=3)
    await log.hold_first(ops, 2, 3, 4)
    reader = asyncio.create_task(ops.room())
    await asyncio.sleep(0.01)
    assert not reader.done(), "three ops wait: the socket must stop reading"
    log.gate.set()
    await asyncio.wait_for(reader, 1)
    await ops.settled()
    assert log.commits == [[1], [2, 3, 4]]


async def test_a_store_failure_is_told_once_and_drops_what_waits() -> None:
    log = Log()
    ops = log.pipeline()
    await log.hold_first(ops, 2)
    log.fail_with = BackendError("Redis is away")
    log.gate.set()
    await ops.settled()
    assert [str(error) for error in log.failures] == ["Redis is away"]
    assert log.commits == [[1]] and log.answers == []


async def test_a_full_disk_refuses_each_op_and_the_pipeline_goes_on() -> None:
    log = Log()
    ops = log.pipeline()
    log.gate.clear()
    ops.add(_record(1), 1)
    ops.add(_record(2), 2)
    log.fail_with = StorageFullError("the disk is full")
    log.gate.set()
    await ops.settled()
    assert log.refused == [1, 2] and log.failures == []
    log.fail_with = None
    ops.add(_record(3), 3)
    await ops.settled()
    assert log.answers == [(3, 1)]


async def test_dropped_ops_are_never_committed() -> None:
    log = Log()
    ops = log.pipeline()
    await log.hold_first(ops, 2, 3)
    ops.drop_waiting()
    log.gate.set()
    await ops.settled()
    assert log.commits == [[1]] and log.answers == [(1, 1)]


async def test_once_the_socket_is_told_to_go_nothing_more_is_committed() -> None:
    """Told to go while a commit is under way: the ops waiting behind it are dropped
    even though that commit returns afterwards, and an op read later (after a throttle,
    say) is dropped too, so no later op is committed without the earlier ones."""
    log = Log()
    ops = log.pipeline()
    await log.hold_first(ops, 2)
    log.gone = True
    log.gate.set()
    await ops.settled()
    ops.add(_record(3), 3)
    await ops.settled()
    assert log.commits == [[1]] and log.answers == [(1, 1)]


async def test_after_a_failure_no_later_op_is_committed() -> None:
    log = Log()
    ops = log.pipeline()
    log.fail_with = BackendError("Redis is away")
    ops.add(_record(1), 1)
    await ops.settled()
    log.fail_with = None
    ops.add(_record(2), 2)
    await ops.settled()
    assert log.commits == [[1]] and len(log.failures) == 1


async def test_a_failed_answer_lets_the_commit_already_taken_finish_unanswered() -> None:
    """The next batch was handed to the store when the answer of the one before failed:
    it still runs to its end (the store has it), and nothing more is answered."""
    log = Log()
    ops = log.pipeline()
    await log.hold_first(ops, 2)
    log.answer_fails_at = 1
    log.gate.set()
    await ops.settled()
    assert log.commits == [[1], [2]] and log.seq == 2
    assert log.answers == [] and [type(e) for e in log.failures] == [TimeoutError]
