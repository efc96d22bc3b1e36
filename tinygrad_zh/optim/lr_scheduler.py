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
        self._step_count += 1
        if self._step_count == 2 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn("lr_scheduler.step() was called before optimizer.step(): the first value of "
                          "the schedule is skipped. Call optimizer.step() first, then scheduler.step().",
                          UserWarning, stacklevel=2)
        self.last_epoch += 1
        lrs = self.get_lr()
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
