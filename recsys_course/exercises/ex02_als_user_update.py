# Exercise 2 source: one user's step of implicit ALS with the Y'Y trick.
# Single source of exercises/ex02_als_user_update.ipynb (`python -m recsys_course.exercises.build`).

# %% [markdown]
# # Exercise 2: one implicit-ALS user update, the fast way
#
# **You will be able to** write the inner step of implicit ALS (Hu, Koren and Volinsky, 2008)
# so that it costs time in proportion to the items a user touched, not to the whole catalogue.
#
# With the item factors Y (one row y_i per item, `n_items x f`) held fixed, the best factor
# vector of user u minimises the confidence-weighted loss over **all** items:
#
# sum_i c_ui (p_ui - x_u . y_i)^2 + lambda |x_u|^2,
#
# whose solution is x_u = (Y' C^u Y + lambda I)^-1 Y' C^u p(u), where C^u is the diagonal
# matrix of the user's confidences c_ui = 1 + alpha * r_ui and p(u) the preference vector.
#
# Building C^u (n_items x n_items) is hopeless for a real catalogue. The trick of the paper:
#
# * Y' C^u Y = Y'Y + Y' (C^u - I) Y, and C^u - I is zero for every item the user never touched;
# * Y'Y is the same for every user, so compute it once per sweep and pass it in;
# * Y' C^u p(u) only involves the items with p_ui = 1.
#
# **Your task.** Write `als_user_update(Y, YtY, items, counts, alpha, regularization)`:
#
# * `Y`: item factors, float array `n_items x f`; `YtY`: the precomputed `Y.T @ Y` (`f x f`);
# * `items`: the indices of the items user u interacted with; `counts`: their counts r_ui
#   (same length, >= 0; a listed item with a count of 0 has p_ui = 0 and c_ui = 1);
#   `alpha` and `regularization` (lambda): numbers >= 0;
# * return x_u as a float64 array of length f.
#
# Rules: use the `YtY` you are given (do not recompute `Y.T @ Y`), touch only the rows
# `Y[items]`, and never build an `n_items x n_items` matrix -- the grader runs your function on
# a catalogue where that does not fit in memory. Raise `ValueError` when `items` and `counts`
# differ in length or an item index is outside `[0, n_items)`. A user with no items gets the
# zero vector. Use numpy only; do not import `recsys_course`.

# %%
import numpy as np

# %% solution
def als_user_update(Y, YtY, items, counts, alpha, regularization):
    """Solve (YtY + Y_u'(C^u - I)Y_u + lambda I) x_u = Y_u' C^u p(u) for one user."""
    ### BEGIN SOLUTION
    Y = np.asarray(Y, dtype=np.float64)
    YtY = np.asarray(YtY, dtype=np.float64)
    items = np.asarray(items, dtype=np.int64).ravel()
    counts = np.asarray(counts, dtype=np.float64).ravel()
    if items.shape != counts.shape:
        raise ValueError(f"items and counts must have the same length, got {items.size} and {counts.size}")
    if items.size and (items.min() < 0 or items.max() >= Y.shape[0]):
        raise ValueError(f"items must be indices in [0, {Y.shape[0] - 1}]")
    f = Y.shape[1]
    Yu = Y[items]                          # only the rows this user touched
    c = 1.0 + alpha * counts               # their confidences
    p = (counts > 0).astype(np.float64)    # their preferences
    A = YtY + (Yu.T * (c - 1.0)) @ Yu + regularization * np.eye(f)
    b = Yu.T @ (c * p)
    return np.linalg.solve(A, b)
    ### END SOLUTION

# %% [markdown]
# ## Self-check
#
# On a small catalogue the dense formula is affordable, so compare against it. The grader
# does the same on inputs you have not seen, and on a catalogue too big for the dense way.

# %%
rng = np.random.default_rng(0)
n_items, f = 30, 4
Y = rng.normal(scale=0.5, size=(n_items, f))
items = np.array([2, 7, 11])
counts = np.array([1.0, 4.0, 2.0])
alpha, lam = 40.0, 0.1

r = np.zeros(n_items)
r[items] = counts
Cu = np.diag(1 + alpha * r)                       # dense: fine for 30 items only
pu = (r > 0).astype(float)
x_dense = np.linalg.solve(Y.T @ Cu @ Y + lam * np.eye(f), Y.T @ Cu @ pu)

x = als_user_update(Y, Y.T @ Y, items, counts, alpha, lam)
assert x.shape == (f,)
assert np.allclose(x, x_dense), (x, x_dense)
print("ok", np.round(x, 3))

# %% [markdown]
# A user without any item: nothing pulls x_u away from zero.

# %%
x0 = als_user_update(Y, Y.T @ Y, np.array([], dtype=int), np.array([]), alpha, lam)
assert np.allclose(x0, 0)
print("ok")
