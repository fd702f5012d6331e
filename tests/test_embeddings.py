import gzip

import numpy as np
import pytest

from llmnotes.embeddings import cosine, load_vectors, week1_similarity

from conftest import SHARED_DATA, needs_shared_data


def test_cosine_matches_scipy():
    from scipy.spatial.distance import cosine as cosine_distance

    rng = np.random.default_rng(0)
    u, v = rng.normal(size=50), rng.normal(size=50)
    assert cosine(u, v) == pytest.approx(1 - cosine_distance(u, v), abs=1e-12)
    assert cosine([1, 0], [0, 1]) == 0.0
    assert cosine([2, 2], [1, 1]) == pytest.approx(1.0)


def test_load_glove_text_without_header(tmp_path):
    path = tmp_path / "glove.txt"
    path.write_text("king 1 0 1\nqueen 1 1 0\n")
    vectors = load_vectors(path)
    assert vectors.vector_size == 3
    assert cosine(vectors["king"], vectors["queen"]) == pytest.approx(0.5)


def test_load_word2vec_gz_with_header_from_a_folder(tmp_path):
    with gzip.open(tmp_path / "vectors.gz", "wt") as handle:
        handle.write("2 2\nking 1 0\nqueen 0 1\n")
    vectors = load_vectors(tmp_path)
    assert len(vectors.key_to_index) == 2


def test_malformed_vector_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("justoneword\n")
    with pytest.raises(ValueError, match="not a GloVe or word2vec text file"):
        load_vectors(path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"holds no \.txt or \.gz"):
        load_vectors(tmp_path / "empty")


@needs_shared_data
def test_week1_similarity_reproduces_0_7839_on_real_glove():
    choice = week1_similarity.choose(offline=True)
    values = week1_similarity.run(choice).values
    assert round(values["king_queen"], 7) == 0.7839043
    assert values["matches"] is True
    assert values["king_queen"] == pytest.approx(values["king_queen_gensim"], abs=1e-6)
    assert choice.assets["vectors"].path.is_relative_to(SHARED_DATA)
