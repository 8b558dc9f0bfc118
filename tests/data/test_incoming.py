"""The incoming folder: the hand-over (complete batches only), exactly-once claims, and where
batches go (done/, rejected/, back), on real files."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from nids.data import claims, incoming
from nids.data.batches import predictions_path
from tests.support.builders import ml_csv

LABELS = ["BENIGN", "DDoS", "PortScan"]
RUN = "run-a"


def write_batch(folder: Path, name: str, age_seconds: float = 0) -> Path:
    """A small real batch, last written `age_seconds` ago."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(ml_csv(LABELS))
    written = time.time() - age_seconds
    os.utime(path, (written, written))
    return path


# --- the hand-over ------------------------------------------------------------------------

def test_a_batch_still_being_written_is_not_ready(tmp_path):
    """The half-read batch of issue 10: a file written seconds ago may still grow."""
    fresh = write_batch(tmp_path, "01-fresh.csv", age_seconds=5)
    stable = write_batch(tmp_path, "02-stable.csv", age_seconds=61)
    assert incoming.ready_batches(tmp_path, stable_seconds=60) == [stable]
    assert fresh.exists()


def test_a_marked_batch_is_ready_at_once(tmp_path):
    fresh = write_batch(tmp_path, "01-fresh.csv")
    incoming.mark_ready(fresh)
    assert (tmp_path / "01-fresh.csv.done").exists()
    assert incoming.ready_batches(tmp_path, stable_seconds=60) == [fresh]


def test_a_batch_written_in_the_future_is_not_ready(tmp_path):
    """A writer's clock ahead of ours: its file is not 'old enough' before it really is."""
    path = write_batch(tmp_path, "ahead.csv", age_seconds=-3600)
    assert incoming.ready_batches(tmp_path, stable_seconds=60) == []
    assert incoming.ready_batches(tmp_path, stable_seconds=60, now=time.time() + 3700) == [path]


@pytest.mark.parametrize("name", [".01-hidden.csv", "02-temp.csv.part", ".03-x.csv.abc.tmp",
                                  "04-notes.txt", "05.csv.done"])
def test_files_of_the_hand_over_are_never_batches(tmp_path, name):
    write_batch(tmp_path, name, age_seconds=3600)
    assert incoming.ready_batches(tmp_path, stable_seconds=0) == []


def test_staging_and_state_folders_are_not_batches(tmp_path):
    for folder in (".staging", "processing", "done", "rejected"):
        write_batch(tmp_path / folder, "x.csv", age_seconds=3600)
    assert incoming.ready_batches(tmp_path, stable_seconds=0) == []


# --- claims: exactly once --------------------------------------------------------------------

def test_a_claim_moves_the_batch_into_the_runs_folder_and_drops_its_marker(tmp_path):
    path = write_batch(tmp_path, "a.csv")
    incoming.mark_ready(path)
    [taken] = claims.claim_ready(tmp_path, RUN, stable_seconds=60, reclaim_after_seconds=900)
    assert taken.path == tmp_path / "processing" / RUN / "a.csv"
    assert taken.incoming == tmp_path and taken.name == "a.csv"
    assert taken.size == taken.path.stat().st_size and len(taken.sha256) == 64
    assert not path.exists() and not incoming.marker_path(path).exists()
    assert claims.claim_ready(tmp_path, "run-b", 60, 900) == []  # nobody else gets it
    assert not (tmp_path / "processing" / "run-b").exists()


def test_two_runs_claiming_together_share_the_batches_exactly_once(tmp_path):
    """Runs started together on five batches: each batch goes to exactly one of them."""
    names = {f"{i:02d}.csv" for i in range(5)}
    for round_ in range(20):  # repeat: a race shows up only now and then
        folder = tmp_path / str(round_)
        for name in names:
            write_batch(folder, name, age_seconds=120)
        start = threading.Barrier(2)
        taken: dict[str, list[str]] = {}

        def run(run_id: str, folder: Path = folder, start: threading.Barrier = start,
                taken: dict[str, list[str]] = taken) -> None:
            start.wait()
            found = claims.claim_ready(folder, run_id, 60, 900)
            taken[run_id] = [claim.name for claim in found]

        threads = [threading.Thread(target=run, args=(f"run-{i}",)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        everything = taken["run-0"] + taken["run-1"]
        assert sorted(everything) == sorted(names)


def test_a_named_batch_is_claimed_without_waiting(tmp_path):
    path = write_batch(tmp_path, "now.csv")
    [taken] = claims.claim_named(path, RUN)
    assert taken.path == tmp_path / "processing" / RUN / "now.csv"
    with pytest.raises(ValueError, match=r"now\.csv: no such batch; a monitoring run may"):
        claims.claim_named(path, "run-b")


def test_a_named_file_that_is_no_batch_is_refused(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    with pytest.raises(ValueError, match=r"notes\.txt: not a batch file"):
        claims.claim_named(notes, RUN)


def test_batches_of_a_crashed_run_are_claimed_again_after_the_timeout(tmp_path):
    write_batch(tmp_path, "a.csv", age_seconds=120)
    [taken] = claims.claim_ready(tmp_path, "crashed", 60, 900)
    assert claims.claim_ready(tmp_path, "next", 60, 900) == []  # the claim is recent
    long_ago = time.time() - 901
    os.utime(taken.path.parent, (long_ago, long_ago))  # nothing renewed it for 15 min
    [again] = claims.claim_ready(tmp_path, "next", 60, 900)
    assert again.path == tmp_path / "processing" / "next" / "a.csv"
    assert again.sha256 == taken.sha256
    assert not (tmp_path / "processing" / "crashed").exists()


def test_a_running_run_renews_its_claims(tmp_path):
    write_batch(tmp_path, "a.csv", age_seconds=120)
    taken = claims.claim_ready(tmp_path, RUN, 60, 900)
    owner = taken[0].path.parent
    long_ago = time.time() - 901
    os.utime(owner, (long_ago, long_ago))
    with claims.claims_kept(taken, every_seconds=0.05):
        time.sleep(0.3)
        assert time.time() - owner.stat().st_mtime < 5
        assert claims.claim_ready(tmp_path, "other", 60, 900) == []


def test_a_file_that_grows_after_its_claim_has_changed(tmp_path):
    write_batch(tmp_path, "a.csv", age_seconds=120)
    [taken] = claims.claim_ready(tmp_path, RUN, 60, 900)
    assert claims.unchanged(taken)
    with taken.path.open("ab") as handle:
        handle.write(b"1,2,3\r\n")
    assert not claims.unchanged(taken)


# --- where batches go -------------------------------------------------------------------------

def claimed(folder: Path, name: str) -> claims.Claim:
    write_batch(folder, name, age_seconds=120)
    [taken] = claims.claim_ready(folder, RUN, 60, 900)
    return taken


def test_a_finished_batch_moves_to_done_with_its_predictions(tmp_path):
    taken = claimed(tmp_path, "a.csv")
    scores = predictions_path(taken.path)
    scores.write_bytes(b"scores")
    target = claims.finish(taken, scores)
    assert target == tmp_path / "done" / "a.csv"
    assert (tmp_path / "done" / "a.predictions.parquet").read_bytes() == b"scores"
    assert not taken.path.parent.exists() or not any(taken.path.parent.iterdir())


def test_done_never_replaces_an_earlier_batch_of_the_same_name(tmp_path):
    first = claimed(tmp_path, "latest.csv")
    claims.finish(first, _scores(first, b"first"))
    with claims.claims_kept([first]):
        pass  # the run ends: its folder goes
    second = claimed(tmp_path, "latest.csv")
    target = claims.finish(second, _scores(second, b"second"))
    assert target == tmp_path / "done" / "latest~2.csv"
    assert (tmp_path / "done" / "latest.predictions.parquet").read_bytes() == b"first"
    assert (tmp_path / "done" / "latest~2.predictions.parquet").read_bytes() == b"second"


def _scores(taken: claims.Claim, content: bytes) -> Path:
    path = predictions_path(taken.path)
    path.write_bytes(content)
    return path


def test_a_rejected_batch_gets_an_error_file_saying_what_and_how_to_resubmit(tmp_path):
    taken = claimed(tmp_path, "bad.csv")
    target, error_file = claims.reject(taken, "bad.csv: column 'flow_duration' holds 'lots'")
    assert target == tmp_path / "rejected" / "bad.csv"
    assert error_file == tmp_path / "rejected" / "bad.csv.error.txt"
    text = error_file.read_text()
    assert "column 'flow_duration' holds 'lots'" in text
    assert f"mv '{tmp_path / 'rejected' / 'bad.csv'}' '{tmp_path / 'bad.csv'}'" in text


def test_a_released_batch_goes_back_without_replacing_a_new_one(tmp_path):
    taken = claimed(tmp_path, "a.csv")
    newer = write_batch(tmp_path, "a.csv")  # the writer delivered a new a.csv meanwhile
    newer.write_bytes(b"newer")
    back = claims.release(taken)
    assert back == tmp_path / "a~2.csv"
    assert incoming.marker_path(back).exists()  # complete when taken: ready again at once
    assert newer.read_bytes() == b"newer"
    assert claims.release(taken) is None  # already back


def test_a_batch_released_because_it_grew_waits_for_the_stability_check(tmp_path):
    taken = claimed(tmp_path, "a.csv")
    with taken.path.open("ab") as writer:
        writer.write(b"1,2\r\n")
    back = claims.release(taken)
    assert back == tmp_path / "a.csv" and not incoming.marker_path(back).exists()
    assert incoming.ready_batches(tmp_path, stable_seconds=60) == []


def test_known_batch_looks_in_every_place_a_batch_can_be(tmp_path):
    taken = claimed(tmp_path, "a.csv")
    assert incoming.known_batch(tmp_path, "a.csv")  # claimed
    claims.finish(taken, _scores(taken, b"s"))
    assert incoming.known_batch(tmp_path, "a.csv")  # done
    assert not incoming.known_batch(tmp_path, "b.csv")
