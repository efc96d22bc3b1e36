"""批量规范化（仿《动手学深度学习》第 7.5 节）：从零实现 batch_norm 并与 nn.BatchNorm2d 对照，
再训练带 nn.BatchNorm2d / nn.BatchNorm1d 的 LeNet（Sigmoid + AvgPool2d）。

Batch normalization (re-creation of d2l-zh, PyTorch edition, section 7.5): a from-scratch batch_norm
checked against nn.BatchNorm2d, then LeNet with nn.BatchNorm2d / nn.BatchNorm1d, on a small MNIST subset.
"""
import json
import os
import sys

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _data import load_mnist  # noqa: E402

torch.manual_seed(0)


def batch_norm(X, gamma, beta, moving_mean, moving_var, eps, momentum):
    # 用 is_grad_enabled 判断当前是训练模式还是预测模式
    if not torch.is_grad_enabled():
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        X_hat = (X - mean) / torch.sqrt(var + eps)
        moving_mean = momentum * moving_mean + (1.0 - momentum) * mean
        moving_var = momentum * moving_var + (1.0 - momentum) * var
    Y = gamma * X_hat + beta
    return Y, moving_mean.data, moving_var.data


class BatchNorm(nn.Module):
    def __init__(self, num_features, num_dims):
        super().__init__()
        shape = (1, num_features) if num_dims == 2 else (1, num_features, 1, 1)
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.ones(shape)

    def forward(self, X):
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean, self.moving_var, eps=1e-5, momentum=0.9)
        return Y


# ---- 从零实现与 nn.BatchNorm2d 对照（训练模式） ----
X = torch.randn(8, 3, 5, 5) * 2 + 1
mine = BatchNorm(3, num_dims=4)
theirs = nn.BatchNorm2d(3)
theirs.train()
Y_mine = mine(X)
Y_theirs = theirs(X)
bn_max_diff = (Y_mine - Y_theirs).abs().max().item()
# running_mean 同样是 0.9 * 旧值 + 0.1 * 批均值；running_var 用的是无偏方差（除以 n - 1）
mean_diff = (mine.moving_mean.reshape(-1) - theirs.running_mean).abs().max().item()
unbiased = X.var(dim=(0, 2, 3), unbiased=True)
var_diff = (theirs.running_var - (0.9 + 0.1 * unbiased)).abs().max().item()
theirs.eval()
Y_eval = theirs(X)
eval_expected = (X - theirs.running_mean.reshape(1, 3, 1, 1)) / torch.sqrt(theirs.running_var.reshape(1, 3, 1, 1) + 1e-5)
eval_diff = (Y_eval - eval_expected).abs().max().item()
print(f'BatchNorm2d vs scratch: {bn_max_diff:.2e}, running mean {mean_diff:.2e}, running var {var_diff:.2e}, eval {eval_diff:.2e}')

# ---- 带批量规范化的 LeNet ----
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.BatchNorm2d(6), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.BatchNorm2d(16), nn.Sigmoid(),
    nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.BatchNorm1d(120), nn.Sigmoid(),
    nn.Linear(120, 84), nn.BatchNorm1d(84), nn.Sigmoid(),
    nn.Linear(84, 10))

train_images, train_labels, test_images, test_labels = load_mnist(3000, 1000)
train_iter = DataLoader(TensorDataset(torch.tensor(train_images, dtype=torch.float32).unsqueeze(1) / 255,
                                      torch.tensor(train_labels, dtype=torch.int64)),
                        batch_size=64, shuffle=True)
test_iter = DataLoader(TensorDataset(torch.tensor(test_images, dtype=torch.float32).unsqueeze(1) / 255,
                                     torch.tensor(test_labels, dtype=torch.int64)),
                       batch_size=256)


def evaluate_accuracy(net, data_iter):
    net.eval()
    right, total = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            right += (net(X).argmax(axis=1) == y).sum().item()
            total += y.numel()
    return right / total


lr, num_epochs = 1.0, 3
optimizer = torch.optim.SGD(net.parameters(), lr=lr)
loss = nn.CrossEntropyLoss()
history = []
for epoch in range(num_epochs):
    net.train()
    loss_sum, right, total = 0.0, 0, 0
    for X, y in train_iter:
        optimizer.zero_grad()
        y_hat = net(X)
        l = loss(y_hat, y)
        l.backward()
        optimizer.step()
        loss_sum += l.item() * X.shape[0]
        right += (y_hat.argmax(axis=1) == y).sum().item()
        total += X.shape[0]
    test_acc = evaluate_accuracy(net, test_iter)
    history.append((loss_sum / total, right / total, test_acc))
    print(f'epoch {epoch + 1}: loss {history[-1][0]:.3f}, train acc {history[-1][1]:.3f}, test acc {test_acc:.3f}')

print('gamma:', net[1].weight.reshape((-1,)), '\nbeta:', net[1].bias.reshape((-1,)))
print("RESULT " + json.dumps({
    "loss_first": history[0][0], "loss_last": history[-1][0],
    "train_accuracy": history[-1][1], "accuracy": history[-1][2],
    "shapes": {"bn2d_weight": list(net[1].weight.shape), "bn2d_running_mean": list(net[1].running_mean.shape),
               "bn1d_running_var": list(net[10].running_var.shape), "scratch_gamma": list(mine.gamma.shape),
               "out": list(net(X[:2]).shape)},
    "checks": {"scratch_matches_module": bn_max_diff < 1e-4, "running_mean_ok": mean_diff < 1e-5,
               "running_var_unbiased": var_diff < 1e-4, "eval_uses_running_stats": eval_diff < 1e-4,
               "state_dict_keys": list(net[1].state_dict().keys()),
               "num_batches_tracked": int(net[1].num_batches_tracked)},
}))
