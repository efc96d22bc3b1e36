"""暂退法（Dropout）的从零开始实现和简洁实现（仿《动手学深度学习》第 4.6 节），含 net.train() / net.eval()。

Dropout from scratch and concise (re-creation of d2l-zh, PyTorch edition, section 4.6), with
net.train() / net.eval(), on a small MNIST subset.
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


def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    if dropout == 1:                 # 全部丢弃
        return torch.zeros_like(X)
    if dropout == 0:                 # 全部保留
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
print(X)
print(dropout_layer(X, 0.))
print(dropout_layer(X, 0.5))
print(dropout_layer(X, 1.))

big = torch.ones(200, 500)
kept = dropout_layer(big, 0.5)
kept_fraction = (kept != 0).float().mean().item()
kept_value = kept.max().item()

train_images, train_labels, test_images, test_labels = load_mnist(5000, 1000)
train_iter = DataLoader(TensorDataset(torch.tensor(train_images).float().unsqueeze(1) / 255,
                                      torch.tensor(train_labels).long()), batch_size=256, shuffle=True)
test_iter = DataLoader(TensorDataset(torch.tensor(test_images).float().unsqueeze(1) / 255,
                                     torch.tensor(test_labels).long()), batch_size=256)

num_inputs, num_outputs, num_hiddens1, num_hiddens2 = 784, 10, 256, 256
dropout1, dropout2 = 0.2, 0.5


class Net(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2, is_training=True):
        super(Net, self).__init__()
        self.num_inputs = num_inputs
        self.training = is_training
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        if self.training == True:    # 只在训练时使用暂退法
            H1 = dropout_layer(H1, dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training == True:
            H2 = dropout_layer(H2, dropout2)
        out = self.lin3(H2)
        return out


def evaluate_accuracy(net, data_iter):
    net.eval()
    right, total = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            right += (net(X).argmax(1) == y).sum().item()
            total += len(y)
    return right / total


def train(net, num_epochs, lr):
    loss = nn.CrossEntropyLoss(reduction='none')
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    losses = []
    for epoch in range(num_epochs):
        net.train()
        loss_sum, total = 0.0, 0
        for X, y in train_iter:
            l = loss(net(X), y)
            trainer.zero_grad()
            l.mean().backward()
            trainer.step()
            loss_sum += l.sum().item()
            total += y.shape[0]
        losses.append(loss_sum / total)
        print(f'epoch {epoch + 1}: loss {losses[-1]:.4f}')
    return losses, evaluate_accuracy(net, test_iter)


num_epochs, lr = 6, 0.5
net = Net(num_inputs, num_outputs, num_hiddens1, num_hiddens2)
scratch_losses, scratch_acc = train(net, num_epochs, lr)
print('scratch test acc', scratch_acc)

# ---- 简洁实现：nn.Dropout ----
net2 = nn.Sequential(nn.Flatten(),
                     nn.Linear(784, 256),
                     nn.ReLU(),
                     nn.Dropout(dropout1),
                     nn.Linear(256, 256),
                     nn.ReLU(),
                     nn.Dropout(dropout2),
                     nn.Linear(256, 10))


def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)


net2.apply(init_weights)
concise_losses, concise_acc = train(net2, num_epochs, lr)
print('concise test acc', concise_acc)

# 评估模式下 Dropout 什么也不做：两次前向结果相同；训练模式下两次结果不同
x = torch.tensor(test_images[:4]).float().unsqueeze(1) / 255
net2.eval()
with torch.no_grad():
    same_in_eval = torch.equal(net2(x), net2(x))
net2.train()
with torch.no_grad():
    differ_in_train = not torch.equal(net2(x), net2(x))
    layer = nn.Dropout(0.5)
    y_train = layer(torch.ones(1000))
    layer.eval()
    y_eval = layer(torch.ones(1000))

print("RESULT " + json.dumps({
    "loss_first": scratch_losses[0], "loss_last": scratch_losses[-1], "accuracy": scratch_acc,
    "concise_loss_first": concise_losses[0], "concise_loss_last": concise_losses[-1],
    "concise_accuracy": concise_acc,
    "kept_fraction": kept_fraction,
    "shapes": {"X": list(X.shape), "dropout_out": list(dropout_layer(X, 0.5).shape),
               "net_out": list(net(x).shape)},
    "checks": {"p0_is_identity": torch.equal(dropout_layer(X, 0.), X),
               "p1_all_zero": bool((dropout_layer(X, 1.) == 0).all()),
               "kept_value_is_2": abs(kept_value - 2.0) < 1e-6,
               "module_dropout_values": sorted(set(y_train.tolist())),
               "module_dropout_eval_identity": bool((y_eval == 1).all()),
               "same_in_eval": same_in_eval, "differ_in_train": differ_in_train,
               "training_flags": [net2.training, net2[3].training]},
}))
