# Exercise 1 source: preference and confidence from raw counts.
# This file is the single source of the learner notebook exercises/ex01_confidence.ipynb
# (regenerate with `python -m recsys_course.exercises.build`). Cells start with `# %%`;
# markdown cells are comment lines; the solution sits between the solution markers.

# %% [markdown]
# # Exercise 1: preference and confidence
#
# **You will be able to** turn a matrix of raw implicit counts r_ui (plays, purchases,
# clicks) into the two matrices of Hu, Koren and Volinsky (ICDM 2008):
#
# * the **preference** p_ui = 1 if r_ui > 0, else 0 -- did user u show any interest in item i?
# * the **confidence** c_ui = 1 + alpha * r_ui -- how sure are we of that preference?
#
# The "+1" matters: an unobserved pair keeps a baseline confidence of 1. It is a weak
# guess of "no", never a hard negative. Notebook 02 explains why.
#
# **Your task.** Write `preference_confidence(counts, alpha=40.0)` returning the tuple
# `(P, C)` of two dense float64 numpy arrays with the shape of `counts`.
#
# * `counts` is anything numpy turns into an array of numbers: a list of lists, an
#   integer or float array, of any shape (a single row is fine).
# * Raise `ValueError` when a count is negative or not finite (NaN, inf), or when
#   `alpha` is negative or not finite. Say what was wrong in the message.
# * Do not change the caller's array.
#
# Work only in this notebook, with numpy. Do not import `recsys_course`: the grader runs
# your function in a sandbox that refuses it, on inputs you have not seen (see
# `exercises/README.md`).

# %%
import numpy as np

# %% solution
def preference_confidence(counts, alpha=40.0):
    """Return (P, C): p_ui = 1 if r_ui > 0 else 0 and c_ui = 1 + alpha * r_ui, dense float64."""
    ### BEGIN SOLUTION
    r = np.array(counts, dtype=np.float64)  # a copy: the caller's array stays as it was
    if not np.all(np.isfinite(r)):
        raise ValueError("counts must be finite numbers, found NaN or inf")
    if np.any(r < 0):
        raise ValueError(f"counts must be >= 0, found {r.min()}")
    alpha = float(alpha)
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
    preference = (r > 0).astype(np.float64)
    confidence = 1.0 + alpha * r
    return preference, confidence
    ### END SOLUTION

# %% [markdown]
# ## Self-check
#
# The worked example of the course, with alpha = 40. Run the cell: it prints `ok` when your
# function reproduces it. The grader checks more than this (other shapes, other alphas,
# bad input), so test your own cases too.

# %%
counts = np.array([[0, 3, 0],
                   [1, 0, 8],
                   [0, 0, 2]])
P, C = preference_confidence(counts, alpha=40)
assert P.tolist() == [[0, 1, 0], [1, 0, 1], [0, 0, 1]], P
assert C.tolist() == [[1, 121, 1], [41, 1, 321], [1, 1, 81]], C
assert P.dtype == np.float64 and C.dtype == np.float64
print("ok")

# %% [markdown]
# Quiz question 1 in one line: a song streamed 12 times with alpha = 40.

# %%
P12, C12 = preference_confidence([12], alpha=40)
assert C12[0] == 481.0 and P12[0] == 1.0
print("ok")

# %% [markdown]
# Bad input must fail loudly, not quietly give a wrong matrix.

# %%
for bad in ([[1, -2]], [[1, np.nan]]):
    try:
        preference_confidence(bad)
    except ValueError as err:
        print("ValueError:", err)
    else:
        raise AssertionError(f"no ValueError for {bad}")
