import numpy as np
import pytest
import scipy.sparse as sp

from recsys_course.models._topk import top_k


def _reference(row, k, excluded):
    eligible = [i for i in range(row.size) if i not in excluded and not np.isnan(row[i])]
    return sorted(eligible, key=lambda i: (-row[i], i))[:k]


@pytest.mark.parametrize("seed", range(30))
def test_top_k_matches_a_brute_force_sort(seed):
    rng = np.random.default_rng(seed)
    n_items = int(rng.integers(1, 80))
    k = int(rng.integers(1, n_items + 1))  # covers both the insertion and the sorting path
    scores = rng.integers(0, 6, size=(4, n_items)).astype(float)  # many ties
    scores[rng.random(scores.shape) < 0.05] = np.nan
    exclude = sp.csr_matrix((rng.random((4, n_items)) < 0.3).astype(float))
    exclude.sort_indices()
    items, best = top_k(scores, k, exclude=exclude)
    for r in range(4):
        expected = _reference(scores[r], k, set(exclude[r].indices))
        got = [i for i in items[r] if i >= 0]
        assert got == expected
        np.testing.assert_array_equal(best[r][: len(got)], scores[r][expected])
        assert np.all(items[r][len(got):] == -1) and np.all(best[r][len(got):] == -np.inf)


def test_rows_map_score_rows_to_users():
    scores = np.array([[3.0, 2.0, 1.0]])
    exclude = sp.csr_matrix(np.array([[0, 0, 0], [1, 0, 0]], dtype=float))
    items, _ = top_k(scores, 2, exclude=exclude, rows=[1])
    assert items.tolist() == [[1, 2]]
