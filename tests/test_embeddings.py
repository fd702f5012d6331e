import gzip

import numpy as np
import pytest

from llmnotes.embeddings import (
    UnknownWord,
    VectorsFormatError,
    analogy,
    check_word,
    contextual_word_vectors,
    cosine,
    evaluate,
    keyed_vectors,
    load_vectors,
    neighbours,
    pca_2d,
    static_token_vectors,
)
from llmnotes.pipeline.assets import resolve

from conftest import SHARED_DATA, needs_shared_data

GLOVE = SHARED_DATA / "glove" / "glove.6B.50d.top10k.txt"


@pytest.fixture(scope="module")
def minilm_static():
    return static_token_vectors(resolve("minilm", offline=True).path)


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
    assert len(load_vectors(tmp_path).key_to_index) == 2


def test_non_utf8_file_is_rejected(tmp_path):
    (tmp_path / "v.txt").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(VectorsFormatError, match="not UTF-8"):
        load_vectors(tmp_path / "v.txt")


@pytest.mark.parametrize(
    "content, message",
    [
        ("justoneword\n", "not a vectors text file"),
        ("# a markdown title\n", "not a vectors text file"),
        ("king 1 0\nqueen 0\n", "line 2 has 1 values, expected 2"),
        ("", "it is empty"),
    ],
)
def test_malformed_vector_files_are_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(VectorsFormatError, match=message):
        load_vectors(path)


def test_folder_without_vectors(tmp_path):
    with pytest.raises(VectorsFormatError, match=r"holds no \.txt or \.gz"):
        load_vectors(tmp_path)


def test_unknown_word_suggests_close_spellings():
    vectors = keyed_vectors(["queen", "queens", "king"], np.eye(3))
    with pytest.raises(UnknownWord, match=r"'quen' is not in the vocabulary .*close words.*queen"):
        check_word(vectors, "quen")


def test_neighbours_match_gensim(minilm_static):
    ours = neighbours(minilm_static, "king", 10)
    library = minilm_static.most_similar("king", topn=10)
    assert [w for w, _ in ours] == [w for w, _ in library]
    assert [s for _, s in ours] == pytest.approx([s for _, s in library], abs=1e-5)


def test_analogy_matches_gensim_3cosadd(minilm_static):
    ours = analogy(minilm_static, "man", "king", "woman", k=5)
    library = minilm_static.most_similar(positive=["king", "woman"], negative=["man"], topn=5)
    assert [w for w, _ in ours] == [w for w, _ in library]
    assert [s for _, s in ours] == pytest.approx([s for _, s in library], abs=1e-5)


def test_minilm_static_stand_in_king_queen(minilm_static):
    assert round(float(minilm_static.similarity("king", "queen")), 3) == 0.627
    assert "##ms" not in minilm_static.key_to_index and "[CLS]" not in minilm_static.key_to_index
    assert minilm_static.index_to_key[:3] == ["the", "of", "and"]  # single characters left out


def test_evaluate_reports_scores_and_oov(minilm_static):
    results = evaluate(minilm_static, resolve("gensim-test-data", offline=True).path)
    assert set(results) == {
        "ws353_spearman", "ws353_oov", "simlex_spearman", "simlex_oov",
        "analogy_accuracy", "analogy_oov", "analogy_questions", "analogy_answered",
        "restrict_vocab",
    }  # fmt: skip
    answered = 1 - results["analogy_answered"] / results["analogy_questions"]
    assert results["analogy_oov"] == pytest.approx(answered)
    assert 0 < results["ws353_spearman"] < 1
    assert 0 <= results["ws353_oov"] < 0.2


def test_contextual_vectors_differ_by_sentence():
    model = resolve("minilm", offline=True).path
    rows = contextual_word_vectors(model, ["the river bank", "the bank loan"], "bank")
    assert rows.shape == (2, 384)
    assert cosine(rows[0], rows[1]) < 0.99
    with pytest.raises(ValueError, match="does not contain"):
        contextual_word_vectors(model, ["no such word here"], "bank")


def test_pca_2d_is_deterministic_and_centred():
    points = pca_2d(np.random.default_rng(0).normal(size=(10, 5)))
    assert points.shape == (10, 2)
    assert points.mean(axis=0) == pytest.approx([0, 0], abs=1e-12)


@needs_shared_data
def test_glove_king_queen_is_the_week1_value():
    vectors = load_vectors(GLOVE)
    assert round(cosine(vectors["king"], vectors["queen"]), 7) == 0.7839043


@needs_shared_data
def test_glove_wordsim_matches_the_published_reference():
    results = evaluate(load_vectors(GLOVE), resolve("gensim-test-data", offline=True).path)
    assert round(results["ws353_spearman"], 3) == 0.527  # ../shared/data/README.md
    assert round(results["ws353_oov"], 3) == 0.238
