# Exercise 4 source: NDCG@k with binary relevance.
# Single source of exercises/ex04_ndcg.ipynb (`python -m recsys_course.exercises.build`).

# %% [markdown]
# # Exercise 4: NDCG@k
#
# **You will be able to** score a ranked list of recommendations against the items a user
# really engaged with later (the held-out test items), the offline metric notebook 05 uses.
#
# With binary relevance rel_j = 1 if the item at position j (0-based) is relevant, else 0:
#
# * DCG@k = sum over j < k of rel_j / log2(j + 2) -- a hit at the top counts 1, lower hits less;
# * IDCG@k = the DCG@k of a perfect list: min(k, number of relevant items) hits at the top;
# * NDCG@k = DCG@k / IDCG@k, between 0 and 1.
#
# **Your task.** Write `ndcg_at_k(ranked_items, relevant_items, k)` returning a Python float.
#
# * `ranked_items`: item indices, best first (it may be shorter than k);
# * `relevant_items`: any collection of relevant item indices -- a list, an array or a set;
#   order and repeats do not matter;
# * return 0.0 when there is no relevant item;
# * raise `ValueError` when k is not an integer >= 1.
#
# Use numpy only; do not import `recsys_course`.

# %%
import numpy as np

# %% solution
def ndcg_at_k(ranked_items, relevant_items, k):
    """Binary-relevance NDCG of the first k entries of ranked_items."""
    ### BEGIN SOLUTION
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    relevant = set(np.asarray(list(relevant_items)).ravel().tolist())
    if not relevant:
        return 0.0
    top = np.asarray(ranked_items).ravel()[:k].tolist()
    ideal = min(k, len(relevant))
    discounts = 1.0 / np.log2(np.arange(2, max(len(top), ideal) + 2))
    dcg = sum(discounts[j] for j, item in enumerate(top) if item in relevant)
    idcg = discounts[:ideal].sum()
    return float(dcg / idcg)
    ### END SOLUTION

# %% [markdown]
# ## Self-check
#
# One relevant item at position 1 (the second slot): DCG = 1 / log2(3) and IDCG = 1.

# %%
assert abs(ndcg_at_k([7, 3, 9], [3], k=3) - 1 / np.log2(3)) < 1e-12
assert ndcg_at_k([3, 7, 9], [3], k=3) == 1.0           # perfect ranking
assert ndcg_at_k([7, 9, 3], [3], k=2) == 0.0           # the hit falls below the cut-off
assert ndcg_at_k([1, 2], [], k=5) == 0.0               # nothing relevant
print("ok", round(ndcg_at_k([5, 1, 2, 8], [2, 8, 4], k=4), 4))
