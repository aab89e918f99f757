"""Receipt tokens shared by workers through one log; rows read back by id."""

from __future__ import annotations

import hashlib

from conftest import contribution, write_atelier

from webform.receipts import LOG, Receipt, ReceiptBook
from pipeline.rows import rows_by_id


def test_a_token_issued_by_one_worker_is_found_by_another(tmp_path):
    one, two = ReceiptBook(tmp_path), ReceiptBook(tmp_path)
    receipt = Receipt("essai", "idee", "contributions", ("c-1", "c-2"))
    token = one.issue(receipt)
    assert two.find(token) == receipt
    newer = Receipt("essai", "idee", "contributions", ("c-1", "c-2", "c-3"))
    two.replace(token, newer)
    assert one.find(token) == newer  # the last line wins, whoever wrote it
    assert one.find("A" * 43) is None and one.find("../../etc/passwd") is None
    log = (tmp_path / LOG).read_text()
    assert token not in log and hashlib.sha256(token.encode()).hexdigest() in log


def test_the_remains_of_a_killed_worker_do_not_break_the_log(tmp_path):
    book = ReceiptBook(tmp_path)
    first = book.issue(Receipt("essai", "idee", "contributions", ("c-1",)))
    with (tmp_path / LOG).open("a") as f:
        f.write('["abc", "essai", "id')  # a line cut by kill -9
    later = book.issue(Receipt("essai", "fiche", "contributions", ("c-2",)))
    fresh = ReceiptBook(tmp_path)
    assert fresh.find(first).ids == ("c-1",) and fresh.find(later).ids == ("c-2",)


def test_rows_by_id_reads_only_whole_records(tmp_path):
    folder = write_atelier(
        tmp_path / "essai",
        contributions=[
            contribution("c-1", text="ligne une\nc-2,faux,début d'une fausse ligne"),
            contribution("c-2", text="la vraie"),
            contribution("c-3"),
        ],
    )
    got = rows_by_id(folder, "contributions", ["c-3", "c-2", "absent"])
    assert [(r["id"], r["text"]) for r in got] == [("c-2", "la vraie"), ("c-3", "Texte du point c-3")]
    assert rows_by_id(tmp_path, "contributions", ["c-1"]) == []


def test_rows_by_id_follows_a_batch_and_ignores_a_later_look_alike(tmp_path):
    # A later text crafted to parse as a whole row with the id of an earlier one.
    fake = "x\nc-2,q1,brainstorming,,idea,,1,,fausse"
    folder = write_atelier(
        tmp_path / "essai",
        contributions=[
            contribution("c-1", text="première"),
            contribution("c-2", parent="c-1", text="la vraie"),
            contribution("c-9", text=fake),
        ],
    )
    for ids in (["c-1", "c-2"], ["c-2"], ["c-9", "c-2"]):
        got = rows_by_id(folder, "contributions", ids)
        assert {r["id"]: r["text"] for r in got}["c-2"] == "la vraie"
    assert [r["id"] for r in rows_by_id(folder, "contributions", ["c-9", "c-1", "c-2"])] == ["c-1", "c-2", "c-9"]


def test_rows_by_id_ignores_an_earlier_look_alike_that_parses_as_a_whole_row(tmp_path):
    # An earlier point (say, corrected after c-2 was published) whose text imitates c-2's whole
    # record, 14 columns included: it sits inside quotes, so it is not a record.
    fake = "x\nc-2,q1,brainstorming,,idea,,1,,fausse,,,2026-11-20T10:00:00Z,,published\ny"
    folder = write_atelier(
        tmp_path / "essai",
        contributions=[contribution("c-1", text=fake), contribution("c-2", text="la vraie")],
    )
    assert [(r["id"], r["text"]) for r in rows_by_id(folder, "contributions", ["c-2"])] == [("c-2", "la vraie")]
    assert [r["text"] for r in rows_by_id(folder, "contributions", ["c-1"])] == [fake]


def test_the_index_never_forgets_a_token_on_disk_while_threads_refresh_it(tmp_path, monkeypatch):
    """Issue 11, case 5: a thread that read the log's size before another thread indexed more of it
    must not rebuild the index from that older size (tokens on disk then answered « not valid »)."""
    import os as real_os
    import random
    import threading
    import time as real_time

    from webform import receipts

    class DescheduledOs:
        """The os module, but a thread may lose the processor right after an fstat."""

        def __getattr__(self, name):
            return getattr(real_os, name)

        def fstat(self, fd):
            st = real_os.fstat(fd)
            real_time.sleep(random.random() * 0.01)
            return st

    monkeypatch.setattr(receipts, "os", DescheduledOs())
    writer, reader = ReceiptBook(tmp_path), ReceiptBook(tmp_path)
    refresh = reader._refresh

    def refresh_then_lose_the_processor() -> None:
        refresh()
        real_time.sleep(random.random() * 0.005)  # between the refresh and the lookup

    reader._refresh = refresh_then_lose_the_processor  # type: ignore[method-assign]
    issued = [writer.issue(Receipt("essai", "idee", "contributions", (f"c-{n}",))) for n in range(20)]
    lost: list[str] = []
    stop = threading.Event()

    def write() -> None:
        for n in range(20, 320):
            issued.append(writer.issue(Receipt("essai", "idee", "contributions", (f"c-{n}",))))
            real_time.sleep(0.001)  # participants arrive one after another
        stop.set()

    def read() -> None:
        while not stop.is_set():
            for token in issued[-10:]:
                if reader.find(token) is None:
                    lost.append(token)

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert lost == []
    assert all(reader.find(token) is not None for token in issued)
