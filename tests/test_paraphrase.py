"""dedup.paraphrase: is a sentence pair the same passage reworded?"""

import numpy as np
import pytest

from dedup.params import Params
from dedup.paraphrase import FEATURES, features, reworded_probability, reworded_probability_pairs
from dedup.text import normalize

P = Params()
SOURCE = normalize("The central bank raised its main interest rate to 4.5 percent on Thursday, "
                   "citing persistent inflation.")
REWORDED = normalize("Citing persistent inflation, the central bank on Thursday lifted its key "
                     "interest rate to 4.5 percent.")
OTHER_FACTS = normalize("The central bank kept its main interest rate unchanged last month, "
                        "despite pressure from exporters.")
NEW_NUMBER = normalize("Citing persistent inflation, the central bank on Thursday lifted its key "
                       "interest rate to 5.25 percent.")


def _p(a: str, b: str) -> float:
    return float(reworded_probability([a], [b], P)[0, 0])


def test_rewording_with_the_same_facts_beats_the_same_topic_with_other_facts():
    assert _p(SOURCE, REWORDED) > _p(SOURCE, OTHER_FACTS)


def test_a_changed_number_lowers_the_probability():
    assert _p(SOURCE, NEW_NUMBER) < _p(SOURCE, REWORDED)


def test_numbers_differ_only_when_both_sentences_have_numbers():
    column = FEATURES.index("numbers_differ")
    f = features([SOURCE, SOURCE, SOURCE], [REWORDED, NEW_NUMBER, OTHER_FACTS], P, pairwise=True)
    assert f[:, column].tolist() == [0.0, 1.0, 0.0]


def test_identical_sentences_score_near_one():
    assert _p(SOURCE, SOURCE) > 0.95
    assert _p(OTHER_FACTS, OTHER_FACTS) > 0.95


def test_the_probability_is_symmetric():
    assert _p(SOURCE, REWORDED) == pytest.approx(_p(REWORDED, SOURCE))


def test_matrix_and_elementwise_forms_agree():
    a = [SOURCE, REWORDED, OTHER_FACTS]
    b = [NEW_NUMBER, OTHER_FACTS, SOURCE, normalize("Shares fell.")]
    matrix = reworded_probability(a, b, P)
    assert matrix.shape == (3, 4)
    rows, cols = np.meshgrid(np.arange(3), np.arange(4), indexing="ij")
    pairs = reworded_probability_pairs([a[i] for i in rows.ravel()], [b[j] for j in cols.ravel()], P)
    np.testing.assert_allclose(pairs.reshape(3, 4), matrix, rtol=1e-6)
    np.testing.assert_allclose(features(a, b, P)[1, 2], features([a[1]], [b[2]], P, pairwise=True)[0])


def test_shapes_and_empty_input():
    assert reworded_probability([], [SOURCE], P).shape == (0, 1)
    assert reworded_probability([SOURCE, REWORDED], [], P).shape == (2, 0)
    assert reworded_probability_pairs([], [], P).shape == (0,)
    assert features([SOURCE], [REWORDED, SOURCE], P).shape == (1, 2, len(FEATURES))
    p = reworded_probability([""], [SOURCE], P)  # an empty sentence shares nothing
    assert p.shape == (1, 1) and p[0, 0] < 0.5
    with pytest.raises(ValueError):
        reworded_probability_pairs([SOURCE], [SOURCE, REWORDED], P)
