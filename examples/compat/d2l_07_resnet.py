"""现代卷积神经网络（仿《动手学深度学习》第 7.3、7.6、7.7 节）：残差块（`Y += X`、1x1 卷积、
批量规范化）组成的小 ResNet，在 MNIST 的前几千张图上训练；再看 NiN 块和稠密块（`torch.cat`）的形状。

Modern CNNs (re-creation of d2l-zh, PyTorch edition, sections 7.3, 7.6, 7.7): a small ResNet built
from Residual blocks (``Y += X``, 1x1 convolutions, batch norm, AdaptiveAvgPool2d) trained on the
first few thousand MNIST images, plus the shapes of a NiN block and a dense block (``torch.cat``).
"""
import json
import os
import sys

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils import data

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _data import load_mnist  # noqa: E402

torch.manual_seed(0)


class Residual(nn.Module):
    """残差块：两个 3x3 卷积；通道数或步幅变化时，捷径上用 1x1 卷积。"""

    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, X):
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


blk = Residual(3, 3)
X = torch.rand(4, 3, 6, 6)
same_shape = list(blk(X).shape)
blk = Residual(3, 6, use_1x1conv=True, strides=2)
half_shape = list(blk(X).shape)


def resnet_block(input_channels, num_channels, num_residuals, first_block=False):
    blk = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blk.append(Residual(input_channels, num_channels, use_1x1conv=True, strides=2))
        else:
            blk.append(Residual(num_channels, num_channels))
    return blk


b1 = nn.Sequential(nn.Conv2d(1, 8, kernel_size=3, stride=1, padding=1),
                   nn.BatchNorm2d(8), nn.ReLU(),
                   nn.MaxPool2d(kernel_size=2, stride=2))
b2 = nn.Sequential(*resnet_block(8, 8, 1, first_block=True))
b3 = nn.Sequential(*resnet_block(8, 16, 1))
net = nn.Sequential(b1, b2, b3, nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(16, 10))

X = torch.rand(size=(1, 1, 28, 28))
layer_shapes = []
for layer in net:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape:\t', X.shape)
    layer_shapes.append(list(X.shape))


# ---- 7.3 NiN 块，7.7 稠密块：只看形状 ----
def nin_block(in_channels, out_channels, kernel_size, strides, padding):
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, kernel_size=1), nn.ReLU())


def conv_block(input_channels, num_channels):
    return nn.Sequential(nn.BatchNorm2d(input_channels), nn.ReLU(),
                         nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1))


class DenseBlock(nn.Module):
    def __init__(self, num_convs, input_channels, num_channels):
        super(DenseBlock, self).__init__()
        layer = []
        for i in range(num_convs):
            layer.append(conv_block(num_channels * i + input_channels, num_channels))
        self.net = nn.Sequential(*layer)

    def forward(self, X):
        for blk in self.net:
            Y = blk(X)
            X = torch.cat((X, Y), dim=1)   # 在通道维上连结每个块的输入和输出
        return X


nin_shape = list(nin_block(1, 6, kernel_size=5, strides=2, padding=1)(torch.rand(2, 1, 12, 12)).shape)
dense_shape = list(DenseBlock(2, 3, 10)(torch.randn(4, 3, 8, 8)).shape)

# ---- 训练 ----
train_images, train_labels, test_images, test_labels = load_mnist(n_train=2000, n_test=500)
to_x = lambda a: torch.tensor(a, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255
train_iter = data.DataLoader(data.TensorDataset(to_x(train_images), torch.tensor(train_labels).long()),
                             batch_size=32, shuffle=True)
test_iter = data.DataLoader(data.TensorDataset(to_x(test_images), torch.tensor(test_labels).long()),
                            batch_size=250)


def init_weights(m):
    if type(m) == nn.Linear or type(m) == nn.Conv2d:
        nn.init.xavier_uniform_(m.weight)


def evaluate_accuracy(net, data_iter):
    net.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for X, y in data_iter:
            correct += (net(X).argmax(dim=1) == y).sum().item()
            total += y.numel()
    return correct / total


net.apply(init_weights)
optimizer = torch.optim.SGD(net.parameters(), lr=0.2)
loss = nn.CrossEntropyLoss()
losses, train_accs = [], []
for epoch in range(3):
    net.train()
    total_loss, correct, n = 0.0, 0, 0
    for X, y in train_iter:
        optimizer.zero_grad()
        y_hat = net(X)
        l = loss(y_hat, y)
        l.backward()
        optimizer.step()
        total_loss += l.item() * y.shape[0]
        correct += (y_hat.argmax(dim=1) == y).sum().item()
        n += y.shape[0]
    losses.append(total_loss / n)
    train_accs.append(correct / n)
    print(f'epoch {epoch + 1}, loss {losses[-1]:.3f}, train acc {train_accs[-1]:.3f}')
test_acc = evaluate_accuracy(net, test_iter)
print(f'test acc {test_acc:.3f}')

print("RESULT " + json.dumps({
    "loss_first": losses[0], "loss_last": losses[-1],
    "train_accuracy": train_accs[-1], "accuracy": test_acc,
    "shapes": {"residual_same": same_shape, "residual_half": half_shape, "layers": layer_shapes,
               "nin": nin_shape, "dense": dense_shape,
               **{name: list(p.shape) for name, p in net.named_parameters()}},
    "checks": {"num_params": sum(p.numel() for p in net.parameters()),
               "buffers": [name for name, _ in net.named_buffers()][:6]},
}))
