"""PyTorch 官方入门教程 "Quickstart" 的再现：数据 -> 模型 -> train()/test() -> 保存 -> 加载 -> 预测。
教程用 FashionMNIST；这里离线运行，用仓库自带的 MNIST 的一小部分（同样是 28x28 灰度图、10 类）。

Re-creation of the official PyTorch "Quickstart" tutorial (data, model, train/test loops, save, load,
predict), with a small subset of the shipped MNIST standing in for FashionMNIST.
"""
import json
import os
import sys
import tempfile

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _data import load_mnist  # noqa: E402

torch.manual_seed(0)

# ---- 数据：相当于 datasets.FashionMNIST(..., transform=ToTensor()) ----
train_images, train_labels, test_images, test_labels = load_mnist(3000, 1000)
training_data = TensorDataset(torch.tensor(train_images, dtype=torch.float32).unsqueeze(1) / 255.0,
                              torch.tensor(train_labels, dtype=torch.int64))
test_data = TensorDataset(torch.tensor(test_images, dtype=torch.float32).unsqueeze(1) / 255.0,
                          torch.tensor(test_labels, dtype=torch.int64))

batch_size = 64

# 创建数据加载器
train_dataloader = DataLoader(training_data, batch_size=batch_size, shuffle=True)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

for X, y in test_dataloader:
    print(f"Shape of X [N, C, H, W]: {X.shape}")
    print(f"Shape of y: {y.shape} {y.dtype}")
    first_X_shape, first_y_shape, y_is_int64 = list(X.shape), list(y.shape), y.dtype == torch.int64
    break

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(f"Using {device} device")


# 定义模型
class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28*28, 512),
            nn.ReLU(),
            nn.Linear(512, 512),
            nn.ReLU(),
            nn.Linear(512, 10)
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
print(model)

loss_fn = nn.CrossEntropyLoss()
# 教程里 lr=1e-3、跑在 6 万张图上；这里只有 3000 张，学习率取 5e-2 让损失明显下降
optimizer = torch.optim.SGD(model.parameters(), lr=5e-2)


def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)

        # 计算预测误差
        pred = model(X)
        loss = loss_fn(pred, y)

        # 反向传播
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

        if batch % 20 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return test_loss, correct


epochs = 5
history = []
for t in range(epochs):
    print(f"Epoch {t+1}\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    history.append(test(test_dataloader, model, loss_fn))
print("Done!")

# 保存和加载模型
tmpdir = tempfile.mkdtemp()
path = os.path.join(tmpdir, "model.pth")
torch.save(model.state_dict(), path)
print("Saved PyTorch Model State to model.pth")

model2 = NeuralNetwork().to(device)
model2.load_state_dict(torch.load(path, weights_only=True))
os.remove(path)
os.rmdir(tmpdir)

classes = [
    "zero", "one", "two", "three", "four",
    "five", "six", "seven", "eight", "nine",
]

model2.eval()
x, y = test_data[0][0], test_data[0][1]
with torch.no_grad():
    x = x.to(device)
    pred = model2(x)
    predicted, actual = classes[pred[0].argmax(0)], classes[y]
    print(f'Predicted: "{predicted}", Actual: "{actual}"')
    five = torch.stack([test_data[i][0] for i in range(5)]).to(device)
    same = torch.equal(model(five), model2(five))

print("RESULT " + json.dumps({
    "loss_first": history[0][0], "loss_last": history[-1][0], "accuracy": history[-1][1],
    "shapes": {"X": first_X_shape, "y": first_y_shape, "single_pred": list(pred.shape),
               **{k: list(v.shape) for k, v in model.state_dict().items()}},
    "checks": {"y_is_int64": y_is_int64, "device": device, "dataset_len": len(train_dataloader.dataset),
               "num_batches": len(test_dataloader), "reloaded_equal": same, "actual": actual},
}))
