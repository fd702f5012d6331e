"""Results published elsewhere that the pages set beside their own, each with its source.

These are not measurements of this repository: a page shows them with the ``published`` macro,
which links the source, so that no page types a number it did not produce.

Examples:
    >>> PUBLISHED["sst2_dev_bert_base"].value
    92.7
    >>> PUBLISHED["sst2_dev_bert_base"].source
    'Sanh et al., 2019, Table 1 (GLUE dev)'
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    """One published number.

    Attributes:
        value: The number as published.
        source: Who published it, and where in the paper.
        url: Where to read it.
    """

    value: float
    source: str
    url: str


_DISTILBERT = "https://arxiv.org/abs/1910.01108"

#: Every published number a page quotes, by the name the ``published`` macro uses.
PUBLISHED: dict[str, Published] = {
    # GLUE development-set accuracy on SST-2, trained on GLUE's full SST-2 training set.
    "sst2_dev_bert_base": Published(92.7, "Sanh et al., 2019, Table 1 (GLUE dev)", _DISTILBERT),
    "sst2_dev_distilbert": Published(91.3, "Sanh et al., 2019, Table 1 (GLUE dev)", _DISTILBERT),
    # DistilBERT's size, in millions of parameters.
    "distilbert_parameters_millions": Published(66, "Sanh et al., 2019, Table 3", _DISTILBERT),
    # The IMDB review data set: 25,000 reviews for training and 25,000 for testing.
    "imdb_reviews": Published(50_000, "Maas et al., 2011", "https://aclanthology.org/P11-1015/"),
    # GLUE's SST-2 training set, in sentences (Wang et al., 2018, Table 1).
    "sst2_glue_train_sentences": Published(
        67_000, "Wang et al., 2018, Table 1 (GLUE)", "https://arxiv.org/abs/1804.07461"
    ),
}
