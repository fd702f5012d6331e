"""Reading only regular files of a bounded size; writing without replacing devices or links."""

import os
import stat

import pytest

from llmnotes.pipeline.files import (
    FileProblem,
    WriteError,
    output_target,
    readable_file,
    readable_folder,
    readable_path,
    write_atomic,
)


def test_atomic_write_keeps_old_file_when_writing_fails(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(WriteError, match="No space left on device"):
        write_atomic(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def test_unwritable_folder_gets_a_clear_error(tmp_path):
    blocker = tmp_path / "generated"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(WriteError, match=r"cannot write .*make the folder writable"):
        write_atomic(blocker / "metrics.json", b"x")


def test_a_new_file_gets_the_usual_permissions_and_an_old_one_keeps_its_own(tmp_path):
    write_atomic(tmp_path / "new.svg", b"x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.svg").stat().st_mode) == 0o666 & ~mask
    (tmp_path / "old.svg").write_bytes(b"x")
    os.chmod(tmp_path / "old.svg", 0o640)
    write_atomic(tmp_path / "old.svg", b"y")
    assert stat.S_IMODE((tmp_path / "old.svg").stat().st_mode) == 0o640


def test_a_symlink_is_written_through_and_kept(tmp_path):
    target = tmp_path / "real.svg"
    target.write_bytes(b"old")
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    write_atomic(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"


@pytest.fixture
def fifo_and_loop(tmp_path):
    """A FIFO and a symlink to itself, in ``tmp_path``."""
    fifo, loop = tmp_path / "fifo", tmp_path / "loop"
    os.mkfifo(fifo)
    loop.symlink_to(loop)
    return fifo, loop


def test_devices_fifos_folders_and_loops_are_never_replaced(tmp_path, fifo_and_loop):
    fifo, loop = fifo_and_loop
    to_device = tmp_path / "null-link"
    to_device.symlink_to("/dev/null")
    cases = {
        fifo: "FIFO",
        tmp_path: "is a folder",
        loop: "symlink",
        to_device: "character device",
        "/dev/null": "character device",
        "": "the path is empty",
    }
    for path, message in cases.items():
        with pytest.raises(FileProblem, match=message):
            write_atomic(path, b"x")
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and to_device.is_symlink()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_only_regular_files_of_a_bounded_size_are_read(tmp_path, fifo_and_loop):
    fifo, loop = fifo_and_loop
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "gone")
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2000)
    cases = {
        "/dev/zero": "character device",
        fifo: "FIFO",
        tmp_path: "is a folder",
        loop: "cannot use",
        dangling: "symlink to nothing",
        tmp_path / "missing": "no such file",
        "": "the path is empty",
    }
    for path, message in cases.items():
        with pytest.raises(FileProblem, match=message):
            readable_file(path, "--vectors")
    with pytest.raises(FileProblem, match="over the limit of"):
        readable_file(big, "--vectors", limit=1000)
    assert readable_file(big, "--vectors") == big


def test_folders_and_paths(tmp_path):
    (tmp_path / "f.txt").write_text("x")
    assert readable_folder(tmp_path, "--asset") == tmp_path
    assert readable_path(tmp_path / "f.txt", "--asset") == tmp_path / "f.txt"
    with pytest.raises(FileProblem, match="must be a folder"):
        readable_folder(tmp_path / "f.txt", "--model")
    with pytest.raises(FileProblem, match="character device"):
        readable_path("/dev/zero", "--asset")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file_is_named(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("x")
    path.chmod(0)
    with pytest.raises(FileProblem, match="permission denied"):
        readable_file(path, "--train")


def test_output_target_is_a_new_path_or_a_regular_file(tmp_path):
    assert output_target(tmp_path / "new.svg", "--out") == tmp_path / "new.svg"
