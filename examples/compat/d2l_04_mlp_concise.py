"""多层感知机的简洁实现（仿《动手学深度学习》第 4.3 节）：nn.Sequential(Flatten, Linear, ReLU, Linear)。

Multilayer perceptron, concise version (re-creation of d2l-zh, PyTorch edition, section 4.3), on a
small MNIST subset.
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
train_X = torch.from_numpy(train_images).float().div(255).unsqueeze(1)
train_y = torch.from_numpy(train_labels).long()
test_X = torch.from_numpy(test_images).float().div(255).unsqueeze(1)
test_y = torch.from_numpy(test_labels).long()
train_iter = DataLoader(TensorDataset(train_X, train_y), batch_size=256, shuffle=True)
test_iter = DataLoader(TensorDataset(test_X, test_y), batch_size=256, shuffle=False)

net = nn.Sequential(nn.Flatten(),
                    nn.Linear(784, 256),
                    nn.ReLU(),
                    nn.Linear(256, 10))


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)


net.apply(init_weights)

batch_size, lr, num_epochs = 256, 0.1, 5
loss = nn.CrossEntropyLoss(reduction='none')
trainer = torch.optim.SGD(net.parameters(), lr=lr)


def evaluate_accuracy(net, data_iter):
    net.eval()
    right, total = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            right += (net(X).argmax(axis=1) == y).sum().item()
            total += y.numel()
    return right / total


history = []
for epoch in range(num_epochs):
    net.train()
    loss_sum, right, total = 0.0, 0, 0
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
        loss_sum += l.sum().item()
        right += (y_hat.argmax(axis=1) == y).sum().item()
        total += y.numel()
    test_acc = evaluate_accuracy(net, test_iter)
    history.append((loss_sum / total, right / total, test_acc))
    print(f'epoch {epoch + 1}: loss {loss_sum / total:.4f}, train acc {right / total:.3f}, test acc {test_acc:.3f}')

print(net)
print("RESULT " + json.dumps({
    "loss_first": history[0][0], "loss_last": history[-1][0],
    "train_accuracy": history[-1][1], "accuracy": history[-1][2],
    "shapes": {name: list(p.shape) for name, p in net.named_parameters()},
    "checks": {"num_params": sum(p.numel() for p in net.parameters()),
               "param_names": [name for name, _ in net.named_parameters()]},
}))
