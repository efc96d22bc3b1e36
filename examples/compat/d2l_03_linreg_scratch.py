"""线性回归的从零开始实现（仿《动手学深度学习》第 3.2 节）：合成数据、小批量迭代器、手写 SGD。

Linear regression from scratch (re-creation of d2l-zh, PyTorch edition, section 3.2).
"""
import json

import torch

torch.manual_seed(0)


def make_data(w, b, n):
    """生成 y = Xw + b + 噪声。"""
    X = torch.normal(0, 1, (n, len(w)))
    y = torch.matmul(X, w) + b
    y += torch.normal(0, 0.01, y.shape)
    return X, y.reshape((-1, 1))


true_w = torch.tensor([2, -3.4])
true_b = 4.2
features, labels = make_data(true_w, true_b, 1000)
print('features:', features[0], '\nlabel:', labels[0])


def data_iter(batch_size, features, labels):
    """每次随机取出 batch_size 个样本（用 randperm 打乱下标）。"""
    num_examples = len(features)
    indices = torch.randperm(num_examples)
    for i in range(0, num_examples, batch_size):
        batch_indices = indices[i: min(i + batch_size, num_examples)]
        yield features[batch_indices], labels[batch_indices]


batch_size = 10
for X, y in data_iter(batch_size, features, labels):
    print(X, '\n', y)
    break

w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
b = torch.zeros(1, requires_grad=True)


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """小批量随机梯度下降：就地更新参数，然后把梯度清零。"""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


lr = 0.03
num_epochs = 3
net = linreg
loss = squared_loss

with torch.no_grad():
    loss_init = float(loss(net(features, w, b), labels).mean())
epoch_losses = []
for epoch in range(num_epochs):
    for X, y in data_iter(batch_size, features, labels):
        l = loss(net(X, w, b), y)     # 小批量的损失，形状 (batch_size, 1)
        l.sum().backward()
        sgd([w, b], lr, batch_size)
    with torch.no_grad():
        train_l = loss(net(features, w, b), labels)
        epoch_losses.append(float(train_l.mean()))
        print(f'epoch {epoch + 1}, loss {float(train_l.mean()):f}')

print(f'w的估计误差: {true_w - w.reshape(true_w.shape)}')
print(f'b的估计误差: {true_b - b}')

w_err = (true_w - w.detach().reshape(true_w.shape)).abs().max().item()
b_err = abs(true_b - b.item())
print("RESULT " + json.dumps({
    "loss_init": loss_init, "loss_first": epoch_losses[0], "loss_last": epoch_losses[-1],
    "w_err": w_err, "b_err": b_err,
    "shapes": {"features": list(features.shape), "labels": list(labels.shape), "w": list(w.shape),
               "b": list(b.shape), "grad_w": list(w.grad.shape)},
}))
