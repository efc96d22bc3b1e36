"""参数管理、参数初始化、参数共享和读写文件（仿《动手学深度学习》第 5.2、5.5 节）。

Parameter access, initialization, sharing and saving/loading (re-creation of d2l-zh, PyTorch edition,
sections 5.2 and 5.5).
"""
import json
import math
import os
import tempfile

import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)

net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
X = torch.rand(size=(2, 4))
print(net(X))

# ---- 参数访问 ----
print(net[2].state_dict())
print(type(net[2].bias))
print(net[2].bias)
print(net[2].bias.data)
grad_is_none = net[2].weight.grad == None
print(*[(name, param.shape) for name, param in net[0].named_parameters()])
print(*[(name, param.shape) for name, param in net.named_parameters()])
print(net.state_dict()['2.bias'].data)


def block1():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(),
                         nn.Linear(8, 4), nn.ReLU())


def block2():
    net = nn.Sequential()
    for i in range(4):
        net.add_module(f'block {i}', block1())   # 在这里嵌套
    return net


rgnet = nn.Sequential(block2(), nn.Linear(4, 1))
print(rgnet(X))
print(rgnet)
nested_bias = rgnet[0][1][0].bias.data
rgnet_names = [name for name, _ in rgnet.named_parameters()]


# ---- 参数初始化 ----
def init_normal(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, mean=0, std=0.01)
        nn.init.zeros_(m.bias)


net.apply(init_normal)
print(net[0].weight.data[0], net[0].bias.data[0])
normal_std = net[0].weight.data.std().item()
bias_zero = bool((net[0].bias.data == 0).all())


def init_constant(m):
    if type(m) == nn.Linear:
        nn.init.constant_(m.weight, 1)
        nn.init.zeros_(m.bias)


net.apply(init_constant)
constant_ok = bool((net[0].weight.data == 1).all())


def init_xavier(m):
    if type(m) == nn.Linear:
        nn.init.xavier_uniform_(m.weight)


def init_42(m):
    if type(m) == nn.Linear:
        nn.init.constant_(m.weight, 42)


net[0].apply(init_xavier)
net[2].apply(init_42)
print(net[0].weight.data[0])
print(net[2].weight.data)
xavier_bound = math.sqrt(6.0 / (4 + 8))
xavier_ok = bool((net[0].weight.data.abs() <= xavier_bound).all())
all_42 = bool((net[2].weight.data == 42).all())


def my_init(m):
    if type(m) == nn.Linear:
        print("Init", *[(name, param.shape) for name, param in m.named_parameters()][0])
        nn.init.uniform_(m.weight, -10, 10)
        m.weight.data *= m.weight.data.abs() >= 5     # 绝对值小于 5 的置零


net.apply(my_init)
w = net[0].weight
my_init_ok = bool(((w.data == 0) | (w.data.abs() >= 5)).all())
print(net[0].weight[:2])

net[0].weight.data[:] += 1
net[0].weight.data[0, 0] = 42
print(net[0].weight.data[0])
set_value = net[0].weight.data[0, 0].item()

# ---- 参数共享 ----
shared = nn.Linear(8, 8)
net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(),
                    shared, nn.ReLU(),
                    shared, nn.ReLU(),
                    nn.Linear(8, 1))
net(X)
print(net[2].weight.data[0] == net[4].weight.data[0])
net[2].weight.data[0, 0] = 100
shared_same = bool((net[2].weight.data[0] == net[4].weight.data[0]).all())
shared_is = net[2].weight is net[4].weight
num_param_tensors = len(list(net.parameters()))       # 共享的参数只算一次

# 用共享参数的网络拟合一个小回归问题：共享层的梯度是两处使用的梯度之和
features = torch.randn(256, 4)
targets = (features.sum(dim=1, keepdim=True) > 0).float()
net.apply(init_xavier)
optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
loss_fn = nn.MSELoss()
losses = []
for step in range(150):
    optimizer.zero_grad()
    l = loss_fn(net(features), targets)
    l.backward()
    optimizer.step()
    losses.append(l.item())
print(f'loss {losses[0]:.4f} -> {losses[-1]:.4f}')

# ---- 读写文件 ----
tmpdir = tempfile.mkdtemp()
x = torch.arange(4)
torch.save(x, os.path.join(tmpdir, 'x-file'))
x2 = torch.load(os.path.join(tmpdir, 'x-file'))
y = torch.zeros(4)
torch.save([x, y], os.path.join(tmpdir, 'x-files'))
x3, y3 = torch.load(os.path.join(tmpdir, 'x-files'))
mydict = {'x': x, 'y': y}
torch.save(mydict, os.path.join(tmpdir, 'mydict'))
mydict2 = torch.load(os.path.join(tmpdir, 'mydict'))
print(x2, (x3, y3), mydict2)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(20, 256)
        self.output = nn.Linear(256, 10)

    def forward(self, x):
        return self.output(F.relu(self.hidden(x)))


mlp = MLP()
Xm = torch.randn(size=(2, 20))
Y = mlp(Xm)
params_path = os.path.join(tmpdir, 'mlp.params')
torch.save(mlp.state_dict(), params_path)
clone = MLP()
clone.load_state_dict(torch.load(params_path))
clone.eval()
Y_clone = clone(Xm)
print(Y_clone == Y)
for name in os.listdir(tmpdir):
    os.remove(os.path.join(tmpdir, name))
os.rmdir(tmpdir)

print("RESULT " + json.dumps({
    "loss_first": losses[0], "loss_last": losses[-1],
    "normal_std": normal_std,
    "shapes": {**{k: list(v.shape) for k, v in mlp.state_dict().items()},
               "nested_bias": list(nested_bias.shape)},
    "checks": {"state_dict_keys": list(net.state_dict().keys()),
               "rgnet_names": rgnet_names,
               "bias_type": type(net[2].bias).__name__,
               "grad_is_none": grad_is_none, "bias_zero": bias_zero, "constant_ok": constant_ok,
               "xavier_ok": xavier_ok, "all_42": all_42, "my_init_ok": my_init_ok, "set_value": set_value,
               "shared_same": shared_same, "shared_is": shared_is, "num_param_tensors": num_param_tensors,
               "saved_tensor": x2.tolist(), "saved_list": [x3.tolist(), y3.tolist()],
               "saved_dict_keys": sorted(mydict2), "clone_equal": bool((Y_clone == Y).all())},
}))
