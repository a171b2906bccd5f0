"""The probe's logistic regression and λ search: gradients, agreement with scikit-learn at the same λ, the
search against a brute-force search, warm starts."""
import math
import warnings

import numpy as np
import pytest
import torch

from lipeval.kinds.linear_probe import search as ps
from lipeval.kinds.linear_probe import solver as pf



def brute_force_lambda(x_train, y_train, x_val, y_val, n_classes: int, score, **fit_kw) -> ps.SearchResult:
    """Every grid λ, each fitted from zero: the reference the search is tested against."""
    res = ps.SearchResult(best=-1)
    prepared = pf.Prepared.of(x_train)
    for i, lam in enumerate(ps.LAMBDAS):
        fit = pf.fit_logistic(x_train, y_train, n_classes, lam, prepared=prepared, **fit_kw)
        res.scores[i] = float(score(fit.scores(x_val), y_val))
        res.order.append(i)
    res.best = ps.pick_best(res.scores)
    return res


def _blobs(n, d, c, spread, seed):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(c, d)) * spread
    y = np.arange(n) % c
    x = means[y] + rng.normal(size=(n, d)) + rng.normal(size=d) * 3  # an offset, so centring matters
    x[:, 0] *= 6  # one wide coordinate, as real features have: preconditioning matters
    return torch.from_numpy(x), y


def _objective(fit, x, labels, lam):
    """f(W, b) in the original coordinates, float64, from scratch."""
    x = x.double()
    z = x @ fit.weight.double().T + fit.bias.double()
    n = x.shape[0]
    if fit.loss == "softmax":
        y = torch.searchsorted(fit.columns, torch.as_tensor(labels))
        data = (torch.logsumexp(z, 1) - z.gather(1, y[:, None])[:, 0]).mean()
    else:
        t = (torch.as_tensor(labels)[:, None] == fit.columns[1]).double() if fit.loss == "binary" \
            else torch.as_tensor(labels)[:, fit.columns].double()
        data = (torch.nn.functional.softplus(z) - t * z).sum() / n
    return float(data + lam / (2 * n) * fit.weight.double().pow(2).sum())


@pytest.mark.parametrize("loss", ["softmax", "binary", "multilabel"])
def test_gradient_matches_autograd(loss):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(30, 5, generator=g, dtype=torch.float64)
    w = torch.randn(3 if loss != "binary" else 1, 5, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(w.shape[0], generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, 3, (30,), generator=g) if loss == "softmax" else \
        torch.randint(0, 2, (30, w.shape[0]), generator=g).bool()
    reg = 0.37
    dense = (torch.nn.functional.one_hot(target, 3) if loss == "softmax" else target).double().T.contiguous()
    penalty = torch.tensor([reg] * 5 + [0.0], dtype=torch.float64)
    wb = torch.cat([w.detach(), b.detach()[:, None]], dim=1)
    value, grad = pf._loss_grad(wb, torch.cat([x, torch.ones(30, 1, dtype=torch.float64)], 1), dense, loss, penalty)
    z = x @ w.T + b
    if loss == "softmax":
        ref = torch.nn.functional.cross_entropy(z, target)
    else:
        ref = torch.nn.functional.binary_cross_entropy_with_logits(z, target.double(), reduction="sum") / 30
    ref = ref + 0.5 * reg * w.pow(2).sum()
    ref.backward()
    assert float(value) == pytest.approx(ref.item(), rel=1e-12)
    assert torch.allclose(grad[:, :5], w.grad, atol=1e-12) and torch.allclose(grad[:, 5], b.grad, atol=1e-12)


@pytest.mark.parametrize("loss", ["softmax", "binary", "multilabel"])
def test_objective_in_original_coordinates(loss):
    x, y = _blobs(90, 4, 3, 0.5, seed=8)
    labels = {"softmax": y, "binary": y % 2, "multilabel": np.stack([y == 0, y != 1], 1).astype(int)}[loss]
    fit = pf.fit_logistic(x, labels, 3 if loss != "binary" else 2, 2.0, max_iter=4)
    assert pf.objective(fit.weight, fit.bias, x, labels, 3 if loss != "binary" else 2, 2.0) == pytest.approx(
        _objective(fit, x, labels, 2.0), rel=1e-12)
    assert fit.objective == pytest.approx(_objective(fit, x, labels, 2.0), rel=1e-9)


@pytest.mark.parametrize("lam", [1e-1, 1.0, 1e2, 1e4])
def test_softmax_agrees_with_sklearn_at_the_same_lambda(lam):
    from sklearn.linear_model import LogisticRegression

    x, y = _blobs(160, 6, 4, 0.8, seed=1)
    xt, yt = _blobs(300, 6, 4, 0.8, seed=2)
    fit = pf.fit_logistic(x, y, 4, lam, tol=1e-7)  # close to the minimiser, to compare coefficients
    assert fit.converged and fit.loss == "softmax"
    ref = LogisticRegression(C=1 / lam, tol=1e-9, max_iter=100000).fit(x.numpy(), y)
    assert np.allclose(fit.weight.numpy(), ref.coef_, atol=1e-4 * max(1, np.abs(ref.coef_).max()))
    assert np.allclose(fit.bias.numpy() - fit.bias.numpy().mean(), ref.intercept_ - ref.intercept_.mean(), atol=1e-3)
    assert (fit.scores(xt).argmax(1).numpy() == ref.predict(xt.numpy())).mean() >= 0.99
    assert _objective(fit, x, y, lam) <= _objective(_as_fit(ref, fit), x, y, lam) + 1e-9


def test_default_settings_agree_with_sklearn_defaults_within_0_3_points():
    """Both with the CLIP paper's settings (tol 1e-4, max_iter 1000), where scikit-learn converges: test accuracy
    within 0.3 points (the bar the linear probe is held to), on a problem with 2,000 test images."""
    from sklearn.linear_model import LogisticRegression

    x, y = _blobs(600, 20, 5, 0.35, seed=11)
    xt, yt = _blobs(2000, 20, 5, 0.35, seed=12)
    for lam in (1.0, 30.0, 1000.0):
        ref = LogisticRegression(C=1 / lam, max_iter=1000).fit(x.numpy(), y)
        assert ref.n_iter_[0] < 1000  # converged
        fit = pf.fit_logistic(x, y, 5, lam)
        ours = (fit.scores(xt).argmax(1).numpy() == yt).mean()
        theirs = (ref.predict(xt.numpy()) == yt).mean()
        assert abs(ours - theirs) <= 0.003, (lam, ours, theirs)


def _as_fit(ref, like):
    coef = torch.from_numpy(ref.coef_).double()
    return pf.LogisticFit(coef, torch.from_numpy(ref.intercept_).double(), like.loss, like.columns, like.n_classes,
                          like.lam, 0, True, 0.0, 0.0)


def test_binary_is_one_logistic_vector_as_in_sklearn():
    from sklearn.linear_model import LogisticRegression

    x, y = _blobs(200, 5, 2, 0.7, seed=3)
    y = np.where(y == 1, 7, 2)  # labels 2 and 7 of a 9-class set
    fit = pf.fit_logistic(x, y, 9, 1.0, tol=1e-7)
    assert fit.loss == "binary" and fit.weight.shape == (1, 5) and fit.columns.tolist() == [2, 7]
    ref = LogisticRegression(C=1.0, tol=1e-10, max_iter=100000).fit(x.numpy(), y)
    assert np.allclose(fit.weight.numpy(), ref.coef_, atol=1e-5) and np.allclose(fit.bias.numpy(), ref.intercept_,
                                                                                 atol=1e-5)
    s = fit.scores(x)
    assert torch.isinf(s[:, 0]).all() and (s[:, 2] == 0).all()  # classes without training images never win
    assert np.array_equal(s.argmax(1).numpy(), ref.predict(x.numpy()))


def test_multilabel_is_one_vs_rest_logistic_regression():
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    x, y = _blobs(240, 5, 3, 1.0, seed=4)
    targets = np.stack([y == 0, (y == 1) | (y == 2), y >= 1, np.zeros_like(y, bool)], 1).astype(int)
    fit = pf.fit_logistic(x, targets, 4, 3.0, tol=1e-7)
    assert fit.loss == "multilabel" and fit.columns.tolist() == [0, 1, 2]  # the all-negative column is not fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = OneVsRestClassifier(LogisticRegression(C=1 / 3.0, tol=1e-10, max_iter=100000)).fit(x.numpy(),
                                                                                                    targets[:, :3])
    coef = np.concatenate([e.coef_ for e in ref.estimators_])
    assert np.allclose(fit.weight.numpy(), coef, atol=1e-5)
    assert (fit.scores(x)[:, 3] == 0).all()


def test_warm_start_reaches_the_same_solution():
    x, y = _blobs(200, 8, 5, 0.6, seed=5)
    cold = pf.fit_logistic(x, y, 5, 0.1, tol=1e-7)
    near = pf.fit_logistic(x, y, 5, 10.0)
    warm = pf.fit_logistic(x, y, 5, 0.1, init=(near.weight, near.bias), tol=1e-7)
    assert cold.converged and warm.converged
    # the same probabilities (logits may differ by a per-sample constant: softmax ignores it, and only the
    # penalty's weak curvature pins down the sum of the class rows)
    assert torch.allclose(cold.scores(x).softmax(1), warm.scores(x).softmax(1), atol=1e-6)


def test_degenerate_training_sets():
    x = torch.randn(6, 3, dtype=torch.float64)
    one = pf.fit_logistic(x, np.full(6, 2), 4, 1.0)  # a single class: always predicted
    assert one.scores(x).argmax(1).tolist() == [2] * 6
    none = pf.fit_logistic(x, np.zeros((6, 2), int), 2, 1.0)  # multi-label without a positive
    assert (none.scores(x) == 0).all()


@pytest.mark.parametrize("loss", ["softmax", "binary", "multilabel"])
def test_the_stopping_quantity_is_the_largest_gradient_entry_in_original_coordinates(loss):
    """scikit-learn's criterion: max |d f / d (W, b)| <= tol, W and b as the caller sees them (not rotated)."""
    x, y = _blobs(120, 6, 3, 0.5, seed=7)
    labels = {"softmax": y, "binary": y % 2, "multilabel": np.stack([y == 0, y != 1], 1).astype(int)}[loss]
    for max_iter in (3, 1000):
        fit = pf.fit_logistic(x, labels, 3 if loss != "binary" else 2, 0.5, max_iter=max_iter)
        w = fit.weight.clone().requires_grad_(True)
        b = fit.bias.clone().requires_grad_(True)
        z = x @ w.T + b
        if loss == "softmax":
            data = torch.nn.functional.cross_entropy(z, torch.as_tensor(labels))
        else:
            t = torch.as_tensor(labels)[:, None] == 1 if loss == "binary" else torch.as_tensor(labels)
            data = torch.nn.functional.binary_cross_entropy_with_logits(z, t.double(), reduction="sum") / len(x)
        (data + 0.5 * 0.5 / len(x) * w.pow(2).sum()).backward()
        largest = max(float(w.grad.abs().max()), float(b.grad.abs().max()))
        assert fit.grad_bound == pytest.approx(largest, rel=1e-9, abs=1e-15)
        assert fit.converged == (largest <= pf.TOL)


def test_max_iter_caps_the_fit():
    x, y = _blobs(200, 8, 5, 0.6, seed=6)
    fit = pf.fit_logistic(x, y, 5, 1e-6, max_iter=2)
    assert fit.n_iter == 2 and not fit.converged and fit.grad_bound > pf.TOL


# ------------------------------------------------------------------ the search

def test_grid_is_8_per_decade_from_1e_minus_6_to_1e6():
    assert len(ps.LAMBDAS) == 97
    assert ps.LAMBDAS[0] == pytest.approx(1e-6) and ps.LAMBDAS[-1] == pytest.approx(1e6)
    assert ps.LAMBDAS[8] == pytest.approx(1e-5) and ps.LAMBDAS[48] == pytest.approx(1.0)


def test_search_visits_coarse_grid_then_halves():
    curve = {i: -abs(i - 37) for i in range(97)}
    res = ps.search_indices(lambda i: curve[i])
    assert res.order[:7] == [96, 80, 64, 48, 32, 16, 0]
    assert res.best == 37 and len(res.order) <= 15
    # 32 is the best coarse point; then 24|40 -> 40, 36|44 -> 36, 34|38 -> 38 (a tie with 36: larger λ), 37|39 -> 37
    assert res.order[7:] == [24, 40, 36, 44, 34, 38, 37, 39]


def test_search_equals_brute_force_on_unimodal_curves():
    """On a curve that rises strictly to a (possibly flat) top and falls strictly after it, the 15-fit search
    finds the best score of all 97 points, and the same point when the top is a single point."""
    rng = np.random.default_rng(0)
    for _ in range(500):
        peak, width = int(rng.integers(0, 97)), int(rng.integers(0, 4))
        left, right = rng.uniform(0.01, 1), rng.uniform(0.01, 1)

        def score(i):
            d = max(0, abs(i - peak) - width)
            return 1.0 - d * (left if i < peak else right) / 97

        brute = ps.pick_best({i: score(i) for i in range(97)})
        res = ps.search_indices(score)
        assert res.scores[res.best] == score(brute) == 1.0
        if width == 0:
            assert res.best == brute == peak
        assert len(res.order) <= 15


def test_ties_go_to_the_larger_lambda_and_nan_never_wins():
    assert ps.pick_best({3: 0.5, 9: 0.5, 4: 0.2}) == 9
    assert ps.pick_best({3: float("nan"), 9: 0.1}) == 9


def _acc(scores, y):
    return float((scores.argmax(1).numpy() == np.asarray(y)).mean())


def test_search_against_brute_force_on_a_small_problem():
    x, y = _blobs(120, 10, 3, 0.45, seed=7)
    xv, yv = _blobs(300, 10, 3, 0.45, seed=8)
    res, fits = ps.search_lambda(x, y, xv, yv, 3, _acc)
    brute = brute_force_lambda(x, y, xv, yv, 3, _acc)
    assert len(res.order) <= 15 and set(res.order) <= set(range(97))
    # the search's choice is the best validation score over the whole grid (the curve is unimodal here) ...
    assert res.scores[res.best] == pytest.approx(max(brute.scores.values()))
    # ... and its warm-started fits score as the cold brute-force fits at the same λ
    for i in res.order:
        assert res.scores[i] == pytest.approx(brute.scores[i], abs=1 / 300 + 1e-12), ps.LAMBDAS[i]
    assert brute.scores[brute.best] == max(brute.scores.values())
    assert math.isclose(res.lam, ps.LAMBDAS[res.best])
