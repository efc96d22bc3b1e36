"""多层感知机的从零开始实现（仿《动手学深度学习》第 4.2 节）：nn.Parameter、手写 ReLU、X @ W1。

Multilayer perceptron from scratch (re-creation of d2l-zh, PyTorch edition, section 4.2), on a small
MNIST subset.
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

train_images, train_labels, test_images, test_labels = load_mnist(5000, 1000)
train_set = TensorDataset(torch.tensor(train_images, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255,
                          torch.tensor(train_labels, dtype=torch.long))
test_set = TensorDataset(torch.tensor(test_images, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255,
                         torch.tensor(test_labels, dtype=torch.long))
batch_size = 256
train_iter = DataLoader(train_set, batch_size=batch_size, shuffle=True)
test_iter = DataLoader(test_set, batch_size=batch_size)

num_inputs, num_outputs, num_hiddens = 784, 10, 256

W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens, requires_grad=True) * 0.01)
b1 = nn.Parameter(torch.zeros(num_hiddens, requires_grad=True))
W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs, requires_grad=True) * 0.01)
b2 = nn.Parameter(torch.zeros(num_outputs, requires_grad=True))
params = [W1, b1, W2, b2]


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def net(X):
    X = X.reshape((-1, num_inputs))
    H = relu(X @ W1 + b1)          # @ 就是矩阵乘法
    return (H @ W2 + b2)


loss = nn.CrossEntropyLoss(reduction='none')


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net, data_iter):
    right, total = 0.0, 0
    with torch.no_grad():
        for X, y in data_iter:
            right += accuracy(net(X), y)
            total += y.numel()
    return right / total


num_epochs, lr = 5, 0.1
updater = torch.optim.SGD(params, lr=lr)
history = []
for epoch in range(num_epochs):
    loss_sum, right, total = 0.0, 0.0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        updater.zero_grad()
        l.mean().backward()
        updater.step()
        with torch.no_grad():
            loss_sum += float(l.sum())
            right += accuracy(y_hat, y)
            total += y.numel()
    test_acc = evaluate_accuracy(net, test_iter)
    history.append((loss_sum / total, right / total, test_acc))
    print(f'epoch {epoch + 1}: loss {loss_sum / total:.4f}, train acc {right / total:.3f}, test acc {test_acc:.3f}')

x = torch.tensor([-2.0, -0.5, 0.0, 1.5])
print('relu:', relu(x))
print("RESULT " + json.dumps({
    "loss_first": history[0][0], "loss_last": history[-1][0],
    "train_accuracy": history[-1][1], "accuracy": history[-1][2],
    "shapes": {"W1": list(W1.shape), "b1": list(b1.shape), "W2": list(W2.shape), "b2": list(b2.shape),
               "grad_W1": list(W1.grad.shape)},
    "checks": {"relu": relu(x).tolist(), "is_parameter": isinstance(W1, nn.Parameter),
               "requires_grad": W1.requires_grad},
}))
