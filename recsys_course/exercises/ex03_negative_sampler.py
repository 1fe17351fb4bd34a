# Exercise 3 source: uniform negative sampling for BPR.
# Single source of exercises/ex03_negative_sampler.ipynb (`python -m recsys_course.exercises.build`).

# %% [markdown]
# # Exercise 3: a negative sampler
#
# **You will be able to** draw the contrast items that pairwise ranking (BPR, Rendle et al.
# 2009) needs. For an observed positive (u, i), BPR draws an item j the user has **not**
# interacted with and nudges the model to score i above j -- for that step only. No item is
# ever declared "disliked": a different j is drawn next time.
#
# **Your task.** Write `sample_negatives(user_items, user, n, rng)`:
#
# * `user_items`: a users x items `scipy.sparse` CSR matrix; a stored, positive entry means
#   "interacted";
# * `user`: a row index; `n`: how many negatives to draw (an integer >= 0);
# * `rng`: a `numpy.random.Generator` -- take every random number from it, so the same seed
#   gives the same draws;
# * return a numpy integer array of `n` item indices, drawn **uniformly with replacement**
#   from the items the user never interacted with.
#
# Raise `ValueError` when `user` is not a row of the matrix (`0 <= user < n_users`; no
# negative indices), when `n` is negative, or when the
# user has interacted with every item (there is nothing to draw). Use numpy and scipy only;
# do not import `recsys_course`.

# %%
import numpy as np
import scipy.sparse as sp

# %% solution
def sample_negatives(user_items, user, n, rng):
    """n item indices drawn uniformly (with replacement) from the items `user` never touched."""
    ### BEGIN SOLUTION
    user_items = sp.csr_matrix(user_items)
    n_users, n_items = user_items.shape
    if not 0 <= user < n_users:
        raise ValueError(f"user must be in [0, {n_users - 1}], got {user}")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    start, end = user_items.indptr[user], user_items.indptr[user + 1]
    seen = user_items.indices[start:end][user_items.data[start:end] > 0]
    allowed = np.ones(n_items, dtype=bool)
    allowed[seen] = False
    candidates = np.flatnonzero(allowed)
    if candidates.size == 0:
        raise ValueError(f"user {user} interacted with every item: no negative to sample")
    return candidates[rng.integers(0, candidates.size, size=n)]
    ### END SOLUTION

# %% [markdown]
# ## Self-check

# %%
user_items = sp.csr_matrix(np.array([[1, 0, 3, 0, 0],
                                     [0, 2, 0, 0, 1],
                                     [1, 1, 1, 1, 1]]))
draws = sample_negatives(user_items, 0, 1000, np.random.default_rng(0))
assert len(draws) == 1000
assert set(draws.tolist()) == {1, 3, 4}, set(draws.tolist())
again = sample_negatives(user_items, 0, 1000, np.random.default_rng(0))
assert np.array_equal(draws, again), "same seed, same draws"
print("ok", np.bincount(draws, minlength=5))

# %% [markdown]
# The third user has touched everything: asking for a negative must fail clearly.

# %%
try:
    sample_negatives(user_items, 2, 1, np.random.default_rng(0))
except ValueError as err:
    print("ValueError:", err)
else:
    raise AssertionError("expected a ValueError")
