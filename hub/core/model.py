"""The learned second opinion: a linear model on character n-grams, blended with the vocabulary.

Trained (scikit-learn, optional) on the project's development set plus the corrections the hub
records in operation; stored as plain arrays (`.npz`, no pickle) and applied here with numpy, so
the hub needs scikit-learn only to train and runs without any model at all. It only ever adds
`weight` points spread by its probabilities to the vocabulary's scores (see classify.blend) and
is not consulted for emergencies: the vocabulary stays the explainable base.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from hub.core.text import fold

NGRAMS = (2, 4)
"""Character n-gram lengths, within word boundaries (scikit-learn's char_wb analyser)."""

WEIGHT = 2.0
"""Points the model may spread over the categories: about one clear term's worth."""

FORMAT = 1

MAX_CHARS = 400
"""The model reads this much of title and text: the gist comes first, and long reports must not
cost more than a millisecond (the vocabulary still reads everything)."""


class ModelUnavailable(Exception):
    """No usable model file: the hub classifies with the vocabulary alone."""


def analyse(complaint: Mapping[str, Any]) -> list[str]:
    """char_wb n-grams of title and text, as scikit-learn's TfidfVectorizer builds them."""
    text = " ".join(fold(f"{complaint.get('title') or ''} {complaint.get('text') or ''}"[:MAX_CHARS]).split())
    grams: list[str] = []
    lo, hi = NGRAMS
    for word in text.split():
        w = f" {word} "
        size = len(w)
        for n in range(lo, min(hi, size) + 1):
            grams += [w[i:i + n] for i in range(size - n + 1)]
    return grams


@dataclass
class Model:
    classes: list[str]
    vocabulary: dict[str, int]
    idf: np.ndarray        # (features,)
    coef: np.ndarray       # (classes, features)
    intercept: np.ndarray  # (classes,)
    trained_on: int = 0
    corrections: int = 0
    weight: float = WEIGHT

    def opinion(self, complaint: Mapping[str, Any]) -> dict[str, float]:
        """Probability per category (softmax of the linear scores)."""
        vocab = self.vocabulary
        pairs = [(vocab[g], c) for g, c in Counter(analyse(complaint)).items() if g in vocab]
        if not pairs:
            return {}
        idx_counts = np.array(pairs, dtype=np.int64)
        idx = idx_counts[:, 0]
        tf = 1.0 + np.log(idx_counts[:, 1].astype(np.float64))
        x = tf * self.idf[idx]
        x /= np.linalg.norm(x) or 1.0
        z = self.coef[:, idx] @ x + self.intercept
        z = np.exp(z - z.max())
        p = z / z.sum()
        return {c: float(v) for c, v in zip(self.classes, p)}

    def as_evidence(self, opinion: Mapping[str, float], used: bool = True) -> dict[str, Any]:
        top = sorted(opinion.items(), key=lambda kv: -kv[1])[:3]
        return {"top": {c: round(p, 3) for c, p in top}, "weight": self.weight, "used": used,
                "trained_on": self.trained_on, "corrections": self.corrections}


def train(examples: Iterable[tuple[Mapping[str, Any], str]], corrections: int = 0, c: float = 10.0) -> Model:
    """Fit TF-IDF over char n-grams + logistic regression; needs scikit-learn (the `learn` extra)."""
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer  # optional: only to train
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelUnavailable("training needs scikit-learn: pip install 'laporhub[learn]'") from exc
    rows = list(examples)
    if len({label for _, label in rows}) < 2:
        raise ModelUnavailable("training needs examples of at least two categories")
    texts = [" ".join(fold(f"{x.get('title') or ''} {x.get('text') or ''}"[:MAX_CHARS]).split()) for x, _ in rows]
    vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAMS, sublinear_tf=True, lowercase=False,
                                 min_df=2, max_features=30000)
    matrix = vectoriser.fit_transform(texts)
    clf = LogisticRegression(C=c, max_iter=2000)
    clf.fit(matrix, [label for _, label in rows])
    vocab = {g: int(i) for g, i in vectoriser.vocabulary_.items()}
    coef = clf.coef_ if len(clf.classes_) > 2 else np.vstack([-clf.coef_[0], clf.coef_[0]])
    intercept = clf.intercept_ if len(clf.classes_) > 2 else np.array([-clf.intercept_[0], clf.intercept_[0]])
    return Model(list(clf.classes_), vocab, vectoriser.idf_.astype(np.float64), coef.astype(np.float32),
                 intercept.astype(np.float64), trained_on=len(rows), corrections=corrections)


def save(model: Model, path: Path) -> None:
    """Plain arrays only: loading never unpickles anything."""
    grams = sorted(model.vocabulary, key=model.vocabulary.__getitem__)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez_compressed(fh, format=np.array([FORMAT]), classes=np.array(model.classes), grams=np.array(grams),
                            idf=model.idf, coef=model.coef, intercept=model.intercept,
                            counts=np.array([model.trained_on, model.corrections]))


def load(path: Path, category_ids: Iterable[str]) -> Model:
    """The model at `path`, checked against the taxonomy's categories."""
    if not path.exists():
        raise ModelUnavailable(f"no model at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            if int(data["format"][0]) != FORMAT:
                raise ModelUnavailable(f"{path.name}: format {int(data['format'][0])}, expected {FORMAT}")
            classes = [str(c) for c in data["classes"]]
            grams = [str(g) for g in data["grams"]]
            model = Model(classes, {g: i for i, g in enumerate(grams)}, data["idf"], data["coef"], data["intercept"],
                          int(data["counts"][0]), int(data["counts"][1]))
    except (OSError, KeyError, ValueError) as exc:
        raise ModelUnavailable(f"{path.name} is not a model file: {exc}") from exc
    unknown = set(model.classes) - set(category_ids)
    if unknown:
        raise ModelUnavailable(f"{path.name} knows categories the taxonomy does not: {', '.join(sorted(unknown))}")
    return model
