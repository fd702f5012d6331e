import pytest

from llmnotes.corpora import lee_background, pang_lee_sentences, read_text, wikitext2
from llmnotes.pipeline.assets import resolve

from conftest import SHARED_DATA, needs_shared_data


def test_gensim_corpora_are_read_whole():
    data = resolve("gensim-test-data", offline=True).path
    sentences = pang_lee_sentences(data)
    assert len(sentences) == 200
    assert not any(s.startswith("__label__") for s in sentences)
    assert any("\u2014" in s for s in sentences)  # the Windows-1252 em dash decoded
    assert len(lee_background(data)) == 300


def test_read_text_falls_back_to_windows_1252(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"caf\xe9 \x97 ok")
    assert read_text(tmp_path / "a.txt") == "café — ok"


def test_wikitext2_from_a_hub_download(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = tmp_path / "wikitext-2-v1"
    folder.mkdir()
    pq.write_table(
        pa.table({"text": [" = Title = \n", "", " body text \n"]}), folder / "test-0.parquet"
    )
    assert wikitext2(tmp_path, "test") == ["= Title =", "body text"]
    with pytest.raises(FileNotFoundError, match=r"no wiki\.valid\.tokens"):
        wikitext2(tmp_path, "valid")


@needs_shared_data
def test_wikitext2_from_the_shared_folder():
    lines = wikitext2(SHARED_DATA / "wikitext2", "valid")
    assert lines[0] == "= Homarus gammarus ="
    assert sum(len(line.split()) for line in lines) > 190_000
