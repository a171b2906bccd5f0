"""The linear probe's classifier: L2-regularised logistic regression fitted by full-batch L-BFGS in torch
(docs/protocols.md §D). The search for λ is in `search.py`.

The objective is scikit-learn's ``LogisticRegression(solver="lbfgs", C=1/λ)`` in its own scaling,

    f(W, b) = mean_i loss_i(W x_i + b) + λ / (2 N) · ||W||²        (the bias is not penalised)

with three losses, chosen as scikit-learn chooses them:

* ``softmax``: more than two classes in the training labels, multinomial cross-entropy;
* ``binary``: exactly two, one weight vector and the logistic loss (a two-class softmax at λ would be the
  binary model at λ/2, so this matters for parity);
* ``multilabel``: an (N, C) 0/1 target, one independent logistic loss per class, summed (the optimum of
  ``OneVsRestClassifier(LogisticRegression)``); a column without both positives and negatives is not fitted
  and scores 0 for every sample.

Classes absent from the training labels are never predicted (score ``-inf``); scikit-learn cannot predict them
either.

How it is solved. L-BFGS (the compact form of the inverse-Hessian product, backtracking line search with the
Armijo condition) runs in preconditioned coordinates: the features are centred (the bias absorbs the mean)
and rotated into the eigenbasis of their covariance, and each (class, coordinate) is scaled by the square root
of the objective's curvature at the starting point (at zero: c·σ²_k + λ/N, c = 1/K for a K-class softmax,
1/4 for logistic losses; a warm start uses its own probabilities). This change of variables does not change
the minimiser; it makes the problem well conditioned, so a fit takes tens of iterations where scikit-learn's
unpreconditioned L-BFGS may run into its 1000-iteration cap. A fit stops when every entry of the gradient of
f in the original coordinates is at most ``tol`` in absolute value (scikit-learn's criterion, its default
1e-4; the gradient is rotated back to check it whenever a cheap lower bound on its largest entry no longer
rules it out), after ``max_iter`` iterations, or when the line search can make no progress in floating
point. Arithmetic is float64 (``DTYPE``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

MAX_ITER = 1000  # scikit-learn's max_iter in the CLIP paper's setup
TOL = 1e-4  # scikit-learn's default tol: the largest gradient entry of the mean-scaled objective
DTYPE = torch.float64  # float32 rounding alone keeps the gradient bound near 1e-5 for wide features
HISTORY = 20
ARMIJO = 1e-4
MAX_HALVINGS = 12


@dataclass
class LogisticFit:
    """A fitted probe in the original feature space. ``weight`` (K, D) and ``bias`` (K,) give the scores of
    the class indices ``columns`` (K = 1 for a binary fit: the logit of ``columns[1]`` against ``columns[0]``)."""

    weight: torch.Tensor
    bias: torch.Tensor
    loss: str  # "softmax" | "binary" | "multilabel"
    columns: torch.Tensor
    n_classes: int
    lam: float
    n_iter: int
    converged: bool
    objective: float
    grad_bound: float  # the largest absolute entry of the gradient (original coordinates) at the end

    def scores(self, x: torch.Tensor) -> torch.Tensor:
        """(N, n_classes) class scores: logits (softmax, multilabel), or the binary logit in column
        ``columns[1]`` and 0 in ``columns[0]``. Classes without a fit score -inf (multilabel: 0)."""
        x = x.to(self.weight.device, self.weight.dtype)
        z = torch.addmm(self.bias, x, self.weight.T)
        fill = 0.0 if self.loss == "multilabel" else -math.inf
        out = torch.full((x.shape[0], self.n_classes), fill, dtype=z.dtype, device=z.device)
        if self.loss == "binary":
            out[:, self.columns[0]] = 0.0
            out[:, self.columns[1]] = z[:, 0]
        else:
            out[:, self.columns] = z
        return out


def problem_of(labels: torch.Tensor, n_classes: int) -> tuple[str, torch.Tensor, torch.Tensor]:
    """(loss, fitted class indices, target) for integer labels (N,) or a 0/1 matrix (N, C)."""
    if labels.ndim == 2:
        t = labels.to(torch.bool)
        pos = t.sum(0)
        cols = torch.nonzero((pos > 0) & (pos < t.shape[0])).flatten()
        return "multilabel", cols, t[:, cols]
    present = torch.unique(labels)
    if len(present) == 2:
        return "binary", present, (labels == present[1])[:, None]
    return "softmax", present, torch.searchsorted(present, labels)


def _with_ones(x: torch.Tensor) -> torch.Tensor:
    """(N, D + 1): ``x`` and a column of ones, so the bias is the last column of the weights."""
    return torch.cat([x, torch.ones_like(x[:, :1])], dim=1)


@dataclass
class Prepared:
    """Features centred and rotated into the eigenbasis of the covariance of the training features, done once
    per training set, with a column of ones for the bias: ``x1`` = [(x_raw - mean) @ basis | 1]. Any centre and
    orthonormal basis give the same minimiser; this one makes the problem well conditioned."""

    x1: torch.Tensor
    mean: torch.Tensor
    basis: torch.Tensor
    _x1_sq: torch.Tensor | None = None

    @property
    def x(self) -> torch.Tensor:
        """(N, D): the rotated, centred features (a view of ``x1``)."""
        return self.x1[:, :-1]

    def x1_squared(self) -> torch.Tensor:
        if self._x1_sq is None:
            self._x1_sq = self.x1.pow(2)
        return self._x1_sq

    @staticmethod
    def of(x: torch.Tensor) -> "Prepared":
        mean = x.mean(dim=0)
        xc = x - mean
        cov = (xc.T.double() @ xc.double()) / max(1, x.shape[0])
        basis = torch.linalg.eigh(cov).eigenvectors.to(x.dtype)
        return Prepared(_with_ones(xc @ basis), mean, basis)

    def extend(self, more: torch.Tensor) -> "Prepared":
        """These features followed by ``more`` (raw), in the same centre and basis (for the refit on
        train + val: only the new rows are rotated)."""
        more = _with_ones((more.to(self.x1) - self.mean) @ self.basis)
        return Prepared(torch.cat([self.x1, more]), self.mean, self.basis)


def _loss_grad(wb: torch.Tensor, x1: torch.Tensor, target: torch.Tensor, loss: str,
               penalty: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """f and its gradient w.r.t. ``wb`` = [W | b] (K, D + 1), on features with a column of ones ``x1``
    (N, D + 1). ``target`` is (K, N) float: one-hot columns (softmax) or 0/1 (logistic losses); ``penalty``
    (D + 1,) is λ/N on the weights and 0 on the bias. f is a 0-dim tensor (no device synchronisation).
    Logits are kept as (K, N): a softmax over K contiguous rows is several times faster than over K columns."""
    n = x1.shape[0]
    z = wb @ x1.T
    if loss == "softmax":
        log_p = torch.log_softmax(z, dim=0)
        data = -torch.dot(log_p.view(-1), target.view(-1))
        g = log_p.exp_().sub_(target)
    else:
        data = F.softplus(z).sum() - torch.dot(z.view(-1), target.view(-1))
        g = torch.sigmoid(z).sub_(target)
    pen = wb * penalty
    grad = torch.addmm(pen, g, x1, alpha=1.0 / n)
    return data / n + 0.5 * torch.dot(wb.view(-1), pen.view(-1)), grad


def _dense_target(target: torch.Tensor, loss: str, k: int, like: dict) -> torch.Tensor:
    """(K, N) float: one-hot class indices (softmax) or the 0/1 matrix (logistic losses), transposed."""
    dense = F.one_hot(target, k) if loss == "softmax" else target
    return dense.T.to(**like).contiguous()


def _penalty(d: int, lam: float, n: int, like: dict) -> torch.Tensor:
    """(D + 1,): λ/N on each weight, 0 on the bias (not penalised)."""
    penalty = torch.full((d + 1,), float(lam) / n, **like)
    penalty[d] = 0.0
    return penalty


def objective(weight, bias, x, labels, n_classes: int, lam: float) -> float:
    """f(W, b) for weight (K, D) and bias (K,) in the original coordinates (the columns a fit of ``labels``
    has), on features ``x`` (N, D), in float64."""
    x = torch.as_tensor(x, dtype=DTYPE)
    loss, _, target = problem_of(torch.as_tensor(labels), n_classes)
    wb = torch.cat([torch.as_tensor(weight, dtype=DTYPE), torch.as_tensor(bias, dtype=DTYPE)[:, None]], dim=1)
    like = {"dtype": DTYPE, "device": x.device}
    target = _dense_target(target, loss, wb.shape[0], like)
    value, _ = _loss_grad(wb, _with_ones(x), target, loss, _penalty(x.shape[1], lam, len(x), like))
    return float(value)


def fit_logistic(x, labels, n_classes: int, lam: float, *, init: tuple[torch.Tensor, torch.Tensor] | None = None,
                 prepared: Prepared | None = None, max_iter: int = MAX_ITER, tol: float = TOL,
                 history: int = HISTORY) -> LogisticFit:
    """Fit the probe on features ``x`` (N, D) and ``labels`` ((N,) ints or (N, C) 0/1) at strength ``lam``.

    Runs on ``x``'s device and dtype. ``init`` = (weight, bias) in the original feature space (e.g. another
    fit's) warm-starts it (ignored when its shape does not fit this problem); ``prepared``
    (``Prepared.of(x)``) saves redoing the rotation for repeated fits on the same features.
    """
    labels = torch.as_tensor(labels, device=x.device)
    loss, cols, target = problem_of(labels, n_classes)
    p = prepared if prepared is not None else Prepared.of(x)
    n, d = p.x.shape
    k = 1 if loss == "binary" else len(cols)
    like = {"dtype": p.x.dtype, "device": p.x.device}
    wb = torch.zeros(k, d + 1, **like)  # [weights in the rotated basis | bias for centred features]
    if init is not None and init[0].shape == (k, d):
        w0, b0 = init[0].to(p.x), init[1].to(p.x)
        wb = torch.cat([w0 @ p.basis, (b0 + w0 @ p.mean)[:, None]], dim=1)
    if k == 0 or (loss == "softmax" and k == 1):  # nothing to learn
        return _finish(wb, p, loss, cols, n_classes, lam, 0, True, 0.0, 0.0)

    x1 = p.x1
    target, penalty = _dense_target(target, loss, k, like), _penalty(d, lam, n, like)
    # preconditioner: theta = [W | b] * scale, the square root of the objective's curvature along each
    # (class, coordinate) at the starting point, the Jacobi approximation in the rotated basis
    z = x1 @ wb.T
    prob = torch.softmax(z, dim=1) if loss == "softmax" else torch.sigmoid(z)
    curv = prob * (1 - prob)
    scale = ((curv.T @ p.x1_squared()) / n + penalty).clamp_(min=1e-12).sqrt_()
    # the gradient in the original coordinates: d f / d W = g_W B' + g_b mean' = grad @ back, d f / d b = g_b
    back = torch.cat([p.basis.T, p.mean[None, :]])
    mean_norm, root_d = float(p.mean.norm()), math.sqrt(d)

    def largest_entry(grad: torch.Tensor) -> torch.Tensor:
        return torch.maximum((grad @ back).abs().max(), grad[:, d].abs().max())

    def lower_bound(grad: torch.Tensor) -> torch.Tensor:
        """A lower bound on largest_entry at the cost of a norm: each row of d f / d W has 2-norm at least
        ||g_W,k|| - |g_b,k| ||mean||, and its largest entry is at least that over sqrt(D)."""
        g_b = grad[:, d].abs()
        return torch.maximum(((grad[:, :d].norm(dim=1) - g_b * mean_norm) / root_d).max(), g_b.max())

    def evaluate(theta: torch.Tensor):
        value, grad = _loss_grad(theta / scale, x1, target, loss, penalty)
        value, low = torch.stack([value, lower_bound(grad)]).tolist()  # one synchronisation
        stop = low if low > tol else float(largest_entry(grad))  # the exact value only where it decides
        return value, grad.div_(scale), stop

    theta, value, stop, n_iter = minimise(evaluate, wb * scale, max_iter, tol, history)
    if stop > tol:  # stopped early: report the largest entry itself, not a lower bound on it
        stop = float(largest_entry(_loss_grad(theta / scale, x1, target, loss, penalty)[1]))
    return _finish(theta / scale, p, loss, cols, n_classes, lam, n_iter, stop <= tol, value, stop)


def minimise(evaluate, theta: torch.Tensor, max_iter: int, tol: float, history: int):
    """L-BFGS from ``theta``: ``evaluate(theta)`` -> (value, gradient, stopping quantity); stops when the
    stopping quantity is <= tol, after max_iter iterations, or when no step decreases the value.
    Returns (theta, value, stopping quantity, iterations)."""
    value, grad, bound = evaluate(theta)
    s_hist: list[torch.Tensor] = []
    y_hist: list[torch.Tensor] = []
    n_iter = 0
    while bound > tol and n_iter < max_iter:
        direction = -inverse_hessian_times(grad.reshape(-1), s_hist, y_hist).view_as(grad)
        slope = float(torch.dot(grad.reshape(-1), direction.reshape(-1)))
        if slope >= 0:  # not a descent direction (curvature pairs gone stale): restart from the gradient
            s_hist.clear(), y_hist.clear()
            direction, slope = -grad, -float(grad.pow(2).sum())
        step = 1.0
        for _ in range(MAX_HALVINGS):  # backtracking until the Armijo condition holds
            trial = theta + step * direction
            t_value, t_grad, t_bound = evaluate(trial)
            if t_value <= value + ARMIJO * step * slope:
                break
            step *= 0.5
        else:
            break  # no decrease representable in this precision: stop where we are
        s, y = (trial - theta).reshape(-1), (t_grad - grad).reshape(-1)
        if float(torch.dot(s, y)) > 1e-12 * float(torch.dot(y, y)):  # keep only pairs with positive curvature
            if len(s_hist) == history:
                s_hist.pop(0), y_hist.pop(0)
            s_hist.append(s), y_hist.append(y)
        theta, value, grad, bound = trial, t_value, t_grad, t_bound
        n_iter += 1
    return theta, value, bound, n_iter


def inverse_hessian_times(g: torch.Tensor, s_hist: list[torch.Tensor], y_hist: list[torch.Tensor]) -> torch.Tensor:
    """H g for the L-BFGS inverse-Hessian estimate H of the pairs (s_i, y_i), oldest first, with H_0 = γ I,
    γ = s'y / y'y of the newest pair, in the compact form of Byrd, Nocedal and Schnabel (1994):

        H g = γ g + S q1 + γ Y q2,   q2 = -R⁻¹ S'g,   q1 = R⁻ᵀ((D + γ Y'Y)(-q2) - γ Y'g)

    (R the upper triangle of S'Y, D its diagonal): a few matrix products instead of a loop over the pairs,
    and no device synchronisation. Equal to the two-loop recursion."""
    if not s_hist:
        return g.clone()
    s, y = torch.stack(s_hist), torch.stack(y_hist)  # (m, P)
    sy = s @ y.T
    yy = y @ y.T
    gamma = sy[-1, -1] / yy[-1, -1]
    r = torch.triu(sy)
    q2 = -torch.linalg.solve_triangular(r, (s @ g)[:, None], upper=True)
    rhs = torch.diagonal(sy)[:, None] * (-q2) + gamma * (yy @ (-q2)) - gamma * (y @ g)[:, None]
    q1 = torch.linalg.solve_triangular(r.T, rhs, upper=False)
    return gamma * g + (s.T @ q1)[:, 0] + gamma * (y.T @ q2)[:, 0]


def _finish(wb, p: Prepared, loss, cols, n_classes, lam, n_iter, converged, value, bound) -> LogisticFit:
    d = p.x.shape[1]
    weight = wb[:, :d] @ p.basis.T
    bias = wb[:, d] - weight @ p.mean
    if loss == "softmax":  # a constant added to every logit changes nothing: report the zero-mean bias
        bias = bias - bias.mean()
    return LogisticFit(weight.contiguous(), bias.contiguous(), loss, cols, n_classes, float(lam), int(n_iter),
                       bool(converged), float(value), float(bound))
