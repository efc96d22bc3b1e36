"""卷积神经网络 LeNet（仿《动手学深度学习》第 6.6 节）：Conv2d(padding=2)、ReLU、MaxPool2d、Flatten、Linear，28x28 图片。

LeNet (re-creation of d2l-zh, PyTorch edition, section 6.6) on 28x28 MNIST images (small subset).
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

# 原书用 Sigmoid + 平均汇聚；这里按书中练习题的建议换成 ReLU + 最大汇聚，几个 epoch 就能学会。
# （Sigmoid + AvgPool2d 的版本见 d2l_07_lenet_batchnorm.py，有批量规范化时它也训练得很快。）
net = nn.Sequential(
    nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.ReLU(),
    nn.MaxPool2d(kernel_size=2, stride=2),
    nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(),
    nn.MaxPool2d(kernel_size=2, stride=2),
    nn.Flatten(),
    nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
    nn.Linear(120, 84), nn.ReLU(),
    nn.Linear(84, 10))

# 逐层查看输出形状
X = torch.rand(size=(1, 1, 28, 28), dtype=torch.float32)
layer_shapes = {}
for i, layer in enumerate(net):
    X = layer(X)
    layer_shapes[f'{i}:{layer.__class__.__name__}'] = list(X.shape)
    print(layer.__class__.__name__, 'output shape: \t', X.shape)

train_images, train_labels, test_images, test_labels = load_mnist(3000, 1000)
train_iter = DataLoader(TensorDataset(torch.tensor(train_images, dtype=torch.float32).unsqueeze(1) / 255,
                                      torch.tensor(train_labels, dtype=torch.int64)),
                        batch_size=64, shuffle=True)
test_iter = DataLoader(TensorDataset(torch.tensor(test_images, dtype=torch.float32).unsqueeze(1) / 255,
                                     torch.tensor(test_labels, dtype=torch.int64)),
                       batch_size=256)

device = torch.device('cpu')


def evaluate_accuracy(net, data_iter, device=None):
    if isinstance(net, nn.Module):
        net.eval()
        if not device:
            device = next(iter(net.parameters())).device
    right, total = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            X, y = X.to(device), y.to(device)
            right += (net(X).argmax(axis=1) == y).sum().item()
            total += y.numel()
    return right / total


def train(net, train_iter, test_iter, num_epochs, lr, device):
    def init_weights(m):
        if type(m) == nn.Linear or type(m) == nn.Conv2d:
            nn.init.xavier_uniform_(m.weight)
    net.apply(init_weights)
    print('training on', device)
    net.to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss = nn.CrossEntropyLoss()
    history = []
    for epoch in range(num_epochs):
        net.train()
        loss_sum, right, total = 0.0, 0, 0
        for i, (X, y) in enumerate(train_iter):
            optimizer.zero_grad()
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            l = loss(y_hat, y)
            l.backward()
            optimizer.step()
            with torch.no_grad():
                loss_sum += l * X.shape[0]
                right += (y_hat.argmax(axis=1) == y).sum().item()
                total += X.shape[0]
        test_acc = evaluate_accuracy(net, test_iter)
        history.append((float(loss_sum / total), right / total, test_acc))
        print(f'epoch {epoch + 1}: loss {history[-1][0]:.3f}, train acc {history[-1][1]:.3f}, test acc {test_acc:.3f}')
    return history


lr, num_epochs = 0.1, 3
history = train(net, train_iter, test_iter, num_epochs, lr, device)

print("RESULT " + json.dumps({
    "loss_first": history[0][0], "loss_last": history[-1][0],
    "train_accuracy": history[-1][1], "accuracy": history[-1][2],
    "shapes": {**layer_shapes, "conv1.weight": list(net[0].weight.shape), "conv2.bias": list(net[3].bias.shape)},
}))
