"""softmax 回归的从零开始实现（仿《动手学深度学习》第 3.6 节），用 MNIST 的一小部分代替 Fashion-MNIST。

Softmax regression from scratch (re-creation of d2l-zh, PyTorch edition, section 3.6), on a small
MNIST subset instead of Fashion-MNIST.
"""
import json
import os
import sys

import torch
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # 同目录下的 _data.py
from _data import load_mnist  # noqa: E402

torch.manual_seed(0)

# ---- 数据：uint8 图片 -> [0, 1] 的 float32，形状 (N, 1, 28, 28)，和 ToTensor() 一样 ----
train_images, train_labels, test_images, test_labels = load_mnist(5000, 1000)
train_X = torch.tensor(train_images, dtype=torch.float32).unsqueeze(1) / 255
train_y = torch.tensor(train_labels, dtype=torch.int64)
test_X = torch.tensor(test_images, dtype=torch.float32).unsqueeze(1) / 255
test_y = torch.tensor(test_labels).long()

batch_size = 256
train_iter = DataLoader(TensorDataset(train_X, train_y), batch_size, shuffle=True)
test_iter = DataLoader(TensorDataset(test_X, test_y), batch_size, shuffle=False)

num_inputs = 784
num_outputs = 10
W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
b = torch.zeros(num_outputs, requires_grad=True)


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition          # 广播：每一行除以该行的和


X = torch.normal(0, 1, (2, 5))
X_prob = softmax(X)
print(X_prob, X_prob.sum(1))


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


def cross_entropy(y_hat, y):
    return - torch.log(y_hat[range(len(y_hat)), y])


y = torch.tensor([0, 2])
y_hat = torch.tensor([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]])
print(y_hat[[0, 1], y], cross_entropy(y_hat, y))


def accuracy(y_hat, y):
    """预测正确的个数。"""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


class Accumulator:
    """在 n 个变量上累加。"""

    def __init__(self, n):
        self.data = [0.0] * n

    def add(self, *args):
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self):
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx):
        return self.data[idx]


def evaluate_accuracy(net, data_iter):
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)        # 正确预测数、预测总数
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


print('untrained accuracy:', evaluate_accuracy(net, test_iter))


def train_epoch(net, train_iter, loss, updater):
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)        # 损失总和、正确数、样本数
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.mean().backward()
            updater.step()
        else:
            l.sum().backward()
            updater(X.shape[0])
        metric.add(float(l.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


lr = 0.1


def updater(batch_size):
    with torch.no_grad():
        for param in [W, b]:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


num_epochs = 5
history = []
for epoch in range(num_epochs):
    train_loss, train_acc = train_epoch(net, train_iter, cross_entropy, updater)
    test_acc = evaluate_accuracy(net, test_iter)
    history.append((train_loss, train_acc, test_acc))
    print(f'epoch {epoch + 1}: loss {train_loss:.4f}, train acc {train_acc:.3f}, test acc {test_acc:.3f}')

X, y = next(iter(test_iter))
preds = net(X).argmax(axis=1)
print('labels:', y[:8].tolist(), 'preds:', preds[:8].tolist())

print("RESULT " + json.dumps({
    "loss_first": history[0][0], "loss_last": history[-1][0],
    "train_accuracy": history[-1][1], "accuracy": history[-1][2],
    "shapes": {"X": list(train_X.shape), "W": list(W.shape), "b": list(b.shape),
               "y_hat": list(net(X).shape), "partition_sum": list(X_prob.sum(1).shape)},
    "checks": {"softmax_rows_sum_to_1": bool(torch.allclose(X_prob.sum(1), torch.ones(2))),
               "label_dtype": str(train_y.dtype).replace("torch.", "")},
}))
