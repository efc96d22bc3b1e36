"""用三次多项式拟合 sin(x)（仿 PyTorch 官方教程 "Learning PyTorch with Examples"）：张量 + 手算梯度、
autograd、自定义 autograd.Function（勒让德多项式 P3）、nn.Sequential、optim.RMSprop、自定义 nn.Module。

Fitting sin(x) with a third-order polynomial, every variant of the official tutorial "Learning PyTorch
with Examples": tensors with manual gradients, autograd, a custom autograd.Function, nn, optim, a
custom nn.Module.
"""
import json
import math

import torch

torch.manual_seed(0)
ITERS = 2000
results = {}

dtype = torch.float
device = torch.device("cpu")

x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

# ---- 1. 张量：手算梯度 ----
a = torch.randn((), device=device, dtype=dtype)
b = torch.randn((), device=device, dtype=dtype)
c = torch.randn((), device=device, dtype=dtype)
d = torch.randn((), device=device, dtype=dtype)

learning_rate = 1e-6
losses = []
for t in range(ITERS):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum().item()
    losses.append(loss)
    if t % 500 == 499:
        print(t, loss)
    # 反向传播：手算 a、b、c、d 关于损失的梯度
    grad_y_pred = 2.0 * (y_pred - y)
    grad_a = grad_y_pred.sum()
    grad_b = (grad_y_pred * x).sum()
    grad_c = (grad_y_pred * x ** 2).sum()
    grad_d = (grad_y_pred * x ** 3).sum()
    a -= learning_rate * grad_a
    b -= learning_rate * grad_b
    c -= learning_rate * grad_c
    d -= learning_rate * grad_d
print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
results["tensor"] = {"loss_first": losses[0], "loss_last": losses[-1],
                     "coef": [a.item(), b.item(), c.item(), d.item()]}

# ---- 2. autograd ----
a = torch.randn((), dtype=dtype, requires_grad=True)
b = torch.randn((), dtype=dtype, requires_grad=True)
c = torch.randn((), dtype=dtype, requires_grad=True)
d = torch.randn((), dtype=dtype, requires_grad=True)
losses = []
for t in range(ITERS):
    y_pred = a + b * x + c * x ** 2 + d * x ** 3
    loss = (y_pred - y).pow(2).sum()
    losses.append(loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        # 更新完权重后手动把梯度清零
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None
print(f'Result: y = {a.item()} + {b.item()} x + {c.item()} x^2 + {d.item()} x^3')
results["autograd"] = {"loss_first": losses[0], "loss_last": losses[-1],
                       "coef": [a.item(), b.item(), c.item(), d.item()]}


# ---- 3. 自定义 autograd.Function ----
class LegendrePolynomial3(torch.autograd.Function):
    """P3(x) = 1/2 (5x^3 - 3x)，自己写前向和反向。"""

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)
learning_rate = 5e-6
losses = []
for t in range(ITERS):
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    losses.append(loss.item())
    loss.backward()
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None
print(f'Result: y = {a.item()} + {b.item()} * P3({c.item()} + {d.item()} x)')
results["function"] = {"loss_first": losses[0], "loss_last": losses[-1],
                       "coef": [a.item(), b.item(), c.item(), d.item()]}

# ---- 4. nn ----
# y 是 (x, x^2, x^3) 的线性函数，所以可以当成一个线性层
p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)
model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)
loss_fn = torch.nn.MSELoss(reduction='sum')
learning_rate = 1e-6
losses = []
for t in range(ITERS):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    losses.append(loss.item())
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad
linear_layer = model[0]
print(f'Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + '
      f'{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3')
results["nn"] = {"loss_first": losses[0], "loss_last": losses[-1],
                 "coef": [linear_layer.bias.item()] + [linear_layer.weight[:, i].item() for i in range(3)]}
nn_shapes = {"xx": list(xx.shape), "y_pred": list(y_pred.shape), "weight": list(linear_layer.weight.shape)}

# ---- 5. optim：RMSprop ----
model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)
loss_fn = torch.nn.MSELoss(reduction='sum')
learning_rate = 1e-3
optimizer = torch.optim.RMSprop(model.parameters(), lr=learning_rate)
losses = []
for t in range(ITERS):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    losses.append(loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
linear_layer = model[0]
results["optim"] = {"loss_first": losses[0], "loss_last": losses[-1],
                    "coef": [linear_layer.bias.item()] + [linear_layer.weight[:, i].item() for i in range(3)]}


# ---- 6. 自定义 nn.Module ----
class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        return self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3

    def string(self):
        return f'y = {self.a.item()} + {self.b.item()} x + {self.c.item()} x^2 + {self.d.item()} x^3'


model = Polynomial3()
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
losses = []
for t in range(ITERS):
    y_pred = model(x)
    loss = criterion(y_pred, y)
    losses.append(loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f'Result: {model.string()}')
results["module"] = {"loss_first": losses[0], "loss_last": losses[-1],
                     "coef": [model.a.item(), model.b.item(), model.c.item(), model.d.item()]}

print("RESULT " + json.dumps({
    "loss_first": results["autograd"]["loss_first"], "loss_last": results["autograd"]["loss_last"],
    "variants": results,
    "shapes": {"x": list(x.shape), "a": list(model.a.shape), **nn_shapes},
    "checks": {"param_names": [name for name, _ in model.named_parameters()]},
}))
