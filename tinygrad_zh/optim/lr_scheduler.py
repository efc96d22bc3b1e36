"""学习率调度器：每个 epoch（或每步）结束时调用 ``scheduler.step()``，按规则改写 ``group["lr"]``。

Usage (same order as PyTorch: the optimizer steps first)::

    sched = tg.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train_one_epoch(...)        # calls opt.step()
        sched.step()

The rules are written in the "chainable" form (new lr computed from the current ``group["lr"]``),
exactly like PyTorch, so the sequences agree to the last bit and schedulers can be stacked.
"""
import math
import numbers
import types
import warnings

from .optimizer import Optimizer


class LRScheduler:
    """Base class. ``last_epoch=-1`` starts fresh (``initial_lr`` := current ``lr`` of each group);
    a value >= 0 resumes and needs ``initial_lr`` in the groups (from a loaded optimizer state).

    Subclasses implement ``get_lr()`` -> the new lr of every group for ``self.last_epoch``; during
    the constructor's first step ``self._initial`` is True and chainable rules keep the lr."""
    _not_saved = ("optimizer",)

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr' although "
                                   f"last_epoch={last_epoch} >= 0 asks to resume; load the optimizer's "
                                   "state_dict first (or use last_epoch=-1 for a fresh run)")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._initial = True
        self.step()
        self._initial = False

    def get_lr(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self):
        """Advance one epoch and write the new learning rates into the optimizer's groups."""
        self._count_step()
        self.last_epoch += 1
        self._write(self.get_lr())

    def _count_step(self):
        self._step_count += 1
        if self._step_count == 2 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn("lr_scheduler.step() was called before optimizer.step(): the first value of "
                          "the schedule is skipped. Call optimizer.step() first, then scheduler.step().",
                          UserWarning, stacklevel=3)

    def _write(self, lrs):
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The learning rates the last ``step()`` set (one per parameter group)."""
        return list(self._last_lr)

    def state_dict(self):
        """Every attribute except the optimizer (numbers and lists: fine for ``tg.save``)."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items()
                if k not in self._not_saved}

    def load_state_dict(self, state_dict):
        """Restore what ``state_dict()`` returned."""
        self.__dict__.update({k: v for k, v in state_dict.items() if k not in self._not_saved})

    def _current(self):
        return [group["lr"] for group in self.optimizer.param_groups]


class LambdaLR(LRScheduler):
    """``lr = base_lr · f(epoch)``；``lr_lambda`` 是一个函数（或每组一个的列表）。

    一句话：学习率倍数由你写的函数决定，例如预热 ``lambda e: min(1, (e+1)/5)``。"""
    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per param group), got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        for f in self.lr_lambdas:
            if not callable(f):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(f).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):
        """Plain functions/lambdas are not saved (None); a callable object's attributes are."""
        sd = super().state_dict()
        sd["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else dict(f.__dict__)
                            for f in self.lr_lambdas]
        return sd

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for f, saved in zip(self.lr_lambdas, state_dict.get("lr_lambdas", [])):
            if saved is not None:
                f.__dict__.update(saved)


class StepLR(LRScheduler):
    """每 ``step_size`` 个 epoch 把 lr 乘以 ``gamma``：``lr = base_lr · γ^⌊epoch/step_size⌋``。"""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if int(step_size) != step_size or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._initial or self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class MultiStepLR(LRScheduler):
    """到达 ``milestones`` 中的每个 epoch 时把 lr 乘以 ``gamma``（里程碑可重复，重复几次乘几次）。"""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        k = self.milestones.count(self.last_epoch)
        if self._initial or k == 0:
            return self._current()
        return [lr * self.gamma ** k for lr in self._current()]


class ExponentialLR(LRScheduler):
    """每个 epoch 把 lr 乘以 ``gamma``：``lr = base_lr · γ^epoch``。"""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._initial:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


class CosineAnnealingLR(LRScheduler):
    """余弦退火：``lr = η_min + (base_lr - η_min)·(1 + cos(π·epoch/T_max))/2``。

    一句话：lr 沿半个余弦从 base_lr 平滑降到 η_min（epoch = T_max），之后再沿余弦升回去
    （周期 2·T_max）。这里用与 PyTorch 相同的递推形式：由上一步的 lr 乘一个比值得到这一步的 lr。
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be > 0, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e, T, lo = self.last_epoch, self.T_max, self.eta_min
        if self._initial:
            return self._current()
        if (e - 1 - T) % (2 * T) == 0:                 # the cosine's bottom: the ratio below is 0/0
            return [lr + (b - lo) * (1 - math.cos(math.pi / T)) / 2
                    for lr, b in zip(self._current(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
        return [ratio * (lr - lo) + lo for lr in self._current()]


def _check_int(cls, name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{cls}: expected an integer {name} >= {minimum}, got {value!r}")
    return int(value)


class LinearLR(LRScheduler):
    """线性预热（或衰减）：lr 的倍数在 ``total_iters`` 个 epoch 里从 ``start_factor`` 线性变到 ``end_factor``，之后不变。

    闭式：``lr = base_lr·(s + (e − s)·min(epoch, T)/T)``。这里用递推形式：每一步乘以
    "这一步的倍数 / 上一步的倍数"，与 PyTorch 相同，所以能和别的调度器叠加。"""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor}")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = _check_int("LinearLR", "total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e, T, s, f = self.last_epoch, self.total_iters, self.start_factor, self.end_factor
        if e == 0:
            return [lr * s for lr in self._current()]
        if self._initial or e > T:
            return self._current()
        # 倍数 m(e) = s + (f − s)·e/T；m(e)/m(e−1) = 1 + (f − s)/(T·s + (e − 1)(f − s))
        ratio = 1 + (f - s) / (T * s + (e - 1) * (f - s))
        return [lr * ratio for lr in self._current()]


class PolynomialLR(LRScheduler):
    """多项式衰减：``lr = base_lr·(1 − min(epoch, T)/T)^power``，T = ``total_iters``（之后保持 0）。

    power = 1 是线性降到 0。递推形式：每一步乘以 ((1 − e/T)/(1 − (e − 1)/T))^power。"""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = _check_int("PolynomialLR", "total_iters", total_iters, 1)
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e, T = self.last_epoch, self.total_iters
        if self._initial or e == 0 or e > T:
            return self._current()
        ratio = ((1.0 - e / T) / (1.0 - (e - 1) / T)) ** self.power
        return [lr * ratio for lr in self._current()]


class CosineAnnealingWarmRestarts(LRScheduler):
    """带热重启的余弦退火（SGDR）：``lr = η_min + (base_lr − η_min)·(1 + cos(π·T_cur/T_i))/2``。

    T_cur 是这一轮里过了多少个 epoch；到 T_i 时"重启"回 base_lr，下一轮长度变成 T_i·T_mult。
    ``step(epoch)`` 可以传小数（每个 batch 调一次：``step(epoch + i / iters)``），与 PyTorch 相同。"""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        self.T_0 = _check_int("CosineAnnealingWarmRestarts", "T_0", T_0, 1)
        self.T_mult = _check_int("CosineAnnealingWarmRestarts", "T_mult", T_mult, 1)
        if isinstance(eta_min, bool) or not isinstance(eta_min, numbers.Real):
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a float or int eta_min, got {eta_min!r}")
        self.eta_min, self.T_i, self.T_cur = eta_min, self.T_0, last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        c = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]

    def step(self, epoch=None):
        """``step()``: one more epoch. ``step(epoch)``: jump to ``epoch`` (may be fractional)."""
        self._count_step()
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:                  # 这一轮结束：重启，下一轮长 T_i·T_mult
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts.step: expected a non-negative epoch, got {epoch}")
            start, length = 0, self.T_0                 # 找出 epoch 落在哪一轮：各轮长度 T_0, T_0·T_mult, …
            while epoch >= start + length:
                start += length
                length *= self.T_mult
            self.T_i, self.T_cur = length, epoch - start
        self.last_epoch = math.floor(epoch)
        self._write(self.get_lr())


def _anneal(strategy, start, end, pct):
    """从 start 到 end，pct ∈ [0, 1]：cos 沿半个余弦（两头慢、中间快），linear 沿直线。"""
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


class OneCycleLR(LRScheduler):
    """1cycle 策略（每个 batch 调一次 ``step()``）：lr 先从 max_lr/div_factor 升到 ``max_lr``（前 pct_start 的
    步数），再降到 max_lr/(div_factor·final_div_factor)；动量（SGD 的 momentum 或 Adam 的 β₁）反过来
    先从 ``max_momentum`` 降到 ``base_momentum`` 再升回去。

    ``three_phase=True``: up, back down to the initial lr (symmetric), then the final decay.
    Stepping more than ``total_steps`` times raises a ValueError, as in PyTorch."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: expected an Optimizer, got {type(optimizer).__name__}")
        groups = optimizer.param_groups
        if total_steps is not None:
            self.total_steps = _check_int("OneCycleLR", "total_steps", total_steps, 1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (_check_int("OneCycleLR", "epochs", epochs, 1)
                                * _check_int("OneCycleLR", "steps_per_epoch", steps_per_epoch, 1))
        else:
            raise ValueError("OneCycleLR: you must define either total_steps OR (epochs AND steps_per_epoch)")
        if isinstance(pct_start, bool) or not isinstance(pct_start, numbers.Real) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: expected a float between 0 and 1 for pct_start, got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        T = self.total_steps
        if three_phase:
            ends = [float(pct_start * T) - 1, float(2 * pct_start * T) - 2, T - 1]
            lr_path = [("initial_lr", "max_lr"), ("max_lr", "initial_lr"), ("initial_lr", "min_lr")]
            mom_path = [("max_momentum", "base_momentum"), ("base_momentum", "max_momentum"),
                        ("max_momentum", "max_momentum")]
        else:
            ends = [float(pct_start * T) - 1, T - 1]
            lr_path = [("initial_lr", "max_lr"), ("max_lr", "min_lr")]
            mom_path = [("max_momentum", "base_momentum"), ("base_momentum", "max_momentum")]
        self._phases = [dict(end_step=e, start_lr=a, end_lr=b, start_momentum=c, end_momentum=d)
                        for e, (a, b), (c, d) in zip(ends, lr_path, mom_path)]
        self.anneal_strategy, self.cycle_momentum, self.three_phase = anneal_strategy, cycle_momentum, three_phase
        if last_epoch == -1:
            for group, m in zip(groups, self._per_group(max_lr, "max_lr", len(groups))):
                group["initial_lr"] = m / div_factor
                group["max_lr"] = m
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.use_beta1 = "betas" in optimizer.defaults
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and not self.use_beta1:
                raise ValueError(f"OneCycleLR: cycle_momentum=True needs an optimizer with momentum or betas; "
                                 f"{type(optimizer).__name__} has neither (pass cycle_momentum=False)")
            if last_epoch == -1:
                n = len(groups)
                for group, lo, hi in zip(groups, self._per_group(base_momentum, "base_momentum", n),
                                         self._per_group(max_momentum, "max_momentum", n)):
                    self._set_momentum(group, hi)
                    group["max_momentum"], group["base_momentum"] = hi, lo
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _per_group(value, name, n):
        if isinstance(value, (list, tuple)):
            if len(value) != n:
                raise ValueError(f"OneCycleLR: expected {n} values for {name} (one per param group), got {len(value)}")
            return list(value)
        return [value] * n

    def _set_momentum(self, group, m):
        if self.use_beta1:
            group["betas"] = (m,) + tuple(group["betas"][1:])
        else:
            group["momentum"] = m

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; the specified number of total steps is "
                             f"{self.total_steps} (create the scheduler with a larger total_steps or "
                             "epochs * steps_per_epoch)")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0
            for i, ph in enumerate(self._phases):
                end = ph["end_step"]
                if step <= end or i == len(self._phases) - 1:
                    pct = (step - start) / (end - start) if end != start else 1.0
                    lr = _anneal(self.anneal_strategy, group[ph["start_lr"]], group[ph["end_lr"]], pct)
                    if self.cycle_momentum:
                        m = _anneal(self.anneal_strategy, group[ph["start_momentum"]], group[ph["end_momentum"]], pct)
                        self._set_momentum(group, m)
                    break
                start = end
            lrs.append(lr)
        return lrs
