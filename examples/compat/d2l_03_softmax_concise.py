"""softmax 回归的简洁实现（仿《动手学深度学习》第 3.7 节）：nn.Flatten + nn.Linear、net.apply 初始化、
CrossEntropyLoss(reduction='none')。数据是 MNIST 的一小部分。

Softmax regression, concise version (re-creation of d2l-zh, PyTorch edition, section 3.7), on a
small MNIST subset.
"""
import json
import os
import sys

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _data import load_mnist  # noqa: E402

torch.manual_seed(0)
np.random.seed(0)

train_images, train_labels, test_images, test_labels = load_mnist(5000, 1000)
# torch.from_numpy 与 NumPy 数组共享内存；先转成 float32 再除以 255
train_X = torch.from_numpy(train_images.astype(np.float32) / 255).reshape(-1, 1, 28, 28)
train_y = torch.from_numpy(train_labels.astype(np.int64))
test_X = torch.from_numpy(test_images.astype(np.float32) / 255).reshape(-1, 1, 28, 28)
test_y = torch.from_numpy(test_labels.astype(np.int64))

batch_size = 256
train_iter = DataLoader(TensorDataset(train_X, train_y), batch_size=batch_size, shuffle=True)
test_iter = DataLoader(TensorDataset(test_X, test_y), batch_size=batch_size)

# PyTorch 不会隐式地调整输入的形状，所以在线性层前放一个展平层
net = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)


net.apply(init_weights)

loss = nn.CrossEntropyLoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=0.1)


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net, data_iter):
    net.eval()
    right, total = 0.0, 0
    with torch.no_grad():
        for X, y in data_iter:
            right += accuracy(net(X), y)
            total += y.numel()
    return right / total


def train_epoch(net, train_iter, loss, updater):
    net.train()
    loss_sum, right, total = 0.0, 0.0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)              # 每个样本一个损失，形状 (batch,)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        loss_sum += l.sum().item()
        right += accuracy(y_hat, y)
        total += y.numel()
    return loss_sum / total, right / total


num_epochs = 5
history = []
for epoch in range(num_epochs):
    train_loss, train_acc = train_epoch(net, train_iter, loss, trainer)
    test_acc = evaluate_accuracy(net, test_iter)
    history.append((train_loss, train_acc, test_acc))
    print(f'epoch {epoch + 1}: loss {train_loss:.4f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}')

print(net)
print("RESULT " + json.dumps({
    "loss_first": history[0][0], "loss_last": history[-1][0],
    "train_accuracy": history[-1][1], "accuracy": history[-1][2],
    "shapes": {"weight": list(net[1].weight.shape), "bias": list(net[1].bias.shape),
               "loss_none": list(loss(net(test_X[:7]), test_y[:7]).shape),
               "flatten": list(net[0](test_X[:3]).shape)},
    "checks": {"num_params": len(list(net.parameters())), "training_after_eval": net.training},
}))
