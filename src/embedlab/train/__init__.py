"""Training: word2vec (a readable numpy engine and gensim), contrastive fine-tuning of a
bi-encoder (InfoNCE, hard negatives, Matryoshka), a cross-encoder reranker, and the
InfoNCE explainer. Heavy imports (torch, gensim) happen inside the functions that need them.
"""

from embedlab.train.common import TrainingInterrupted
from embedlab.train.w2v_engines import ENGINES, Word2VecConfig
from embedlab.train.word2vec import Word2VecResult, train_word2vec

__all__ = ["ENGINES", "TrainingInterrupted", "Word2VecConfig", "Word2VecResult", "train_word2vec"]
