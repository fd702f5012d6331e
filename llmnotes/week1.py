"""The original week-1 applications and the results they reported, which the site reproduces.

These are historical inputs (from the week-1 learning plan), not measurements: the experiments
compare their own output with them and store both side by side.
"""

from __future__ import annotations

#: Sentence tokenized with NLTK in week 1, and the tokens it gave.
NLTK_SENTENCE = "I love learning about LLMs"
NLTK_TOKENS = ["I", "love", "learning", "about", "LLMs"]

#: Sentence tokenized with bert-base-uncased in week 1, and its WordPiece tokens.
BERT_SENTENCE = "Transformers power modern LLMs"
BERT_TOKENS = ["transformers", "power", "modern", "ll", "##ms"]

#: cosine(king, queen) with gensim's glove-wiki-gigaword-50, to four decimals.
KING_QUEEN_COSINE = 0.7839

#: The sentence given to the default sentiment-analysis pipeline. The plan reports only the score;
#: the week's first sentence is the one this site assumes.
SENTIMENT_SENTENCE = NLTK_SENTENCE
#: Score of the default sentiment-analysis pipeline on the week-1 sentence.
SENTIMENT_SCORE = 0.99983

#: DistilBERT fine-tuned on IMDB: test accuracy first, then after hyper-parameter tweaks.
IMDB_ACCURACY = 0.924
IMDB_ACCURACY_AFTER_TWEAKS = 0.877
