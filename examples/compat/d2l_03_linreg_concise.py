"""线性回归的简洁实现（仿《动手学深度学习》第 3.3 节）：TensorDataset + DataLoader、nn.Linear、MSELoss、optim.SGD。

Linear regression, concise version (re-creation of d2l-zh, PyTorch edition, section 3.3).
"""
import json

import torch
from torch import nn
from torch.utils import data

torch.manual_seed(0)

true_w = torch.tensor([2, -3.4])
true_b = 4.2
features = torch.normal(0, 1, (1000, 2))
labels = torch.matmul(features, true_w) + true_b
labels += torch.normal(0, 0.01, labels.shape)
labels = labels.reshape((-1, 1))


def load_array(data_arrays, batch_size, is_train=True):
    """把张量包装成 PyTorch 的数据迭代器。"""
    dataset = data.TensorDataset(*data_arrays)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


batch_size = 10
data_iter = load_array((features, labels), batch_size)
first_X, first_y = next(iter(data_iter))
print(first_X.shape, first_y.shape)

net = nn.Sequential(nn.Linear(2, 1))
net[0].weight.data.normal_(0, 0.01)
net[0].bias.data.fill_(0)

loss = nn.MSELoss()
trainer = torch.optim.SGD(net.parameters(), lr=0.03)

loss_init = loss(net(features), labels).item()
epoch_losses = []
num_epochs = 3
for epoch in range(num_epochs):
    for X, y in data_iter:
        l = loss(net(X), y)
        trainer.zero_grad()
        l.backward()
        trainer.step()
    l = loss(net(features), labels)
    epoch_losses.append(l.item())
    print(f'epoch {epoch + 1}, loss {l:f}')

w = net[0].weight.data
print('w的估计误差：', true_w - w.reshape(true_w.shape))
b = net[0].bias.data
print('b的估计误差：', true_b - b)

print("RESULT " + json.dumps({
    "loss_init": loss_init, "loss_first": epoch_losses[0], "loss_last": epoch_losses[-1],
    "w_err": (true_w - w.reshape(true_w.shape)).abs().max().item(), "b_err": abs(true_b - b.item()),
    "shapes": {"batch_X": list(first_X.shape), "batch_y": list(first_y.shape),
               "weight": list(net[0].weight.shape), "bias": list(net[0].bias.shape)},
    "checks": {"num_batches": len(data_iter), "num_params": len(list(net.parameters()))},
}))
