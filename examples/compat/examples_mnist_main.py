"""pytorch/examples 仓库 mnist/main.py 的再现：小型 CNN、Adadelta、StepLR、argparse 默认参数。
为了几秒内跑完，默认只用 MNIST 的一小部分、训练 2 个 epoch（可用命令行参数调大）。

Re-creation of pytorch/examples mnist/main.py (small CNN, Adadelta, StepLR, argparse defaults); by
default it trains on a small MNIST subset for 2 epochs so it finishes in seconds.
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _data import load_mnist  # noqa: E402


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    losses = []
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
            if args.dry_run:
                break
    return losses


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # 累加整个批量的损失
            pred = output.argmax(dim=1, keepdim=True)  # 概率最大的类别
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)

    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)))
    return test_loss, correct / len(test_loader.dataset)


def make_dataset(images, labels):
    # 相当于 transforms.ToTensor() 再 transforms.Normalize((0.1307,), (0.3081,))
    x = torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 255.0
    x = (x - 0.1307) / 0.3081
    return TensorDataset(x, torch.tensor(labels, dtype=torch.long))


def main():
    # 训练参数
    parser = argparse.ArgumentParser(description='PyTorch MNIST Example')
    parser.add_argument('--batch-size', type=int, default=64, metavar='N',
                        help='input batch size for training (default: 64)')
    parser.add_argument('--test-batch-size', type=int, default=1000, metavar='N',
                        help='input batch size for testing (default: 1000)')
    parser.add_argument('--epochs', type=int, default=2, metavar='N',
                        help='number of epochs to train (default: 2)')
    parser.add_argument('--lr', type=float, default=1.0, metavar='LR',
                        help='learning rate (default: 1.0)')
    parser.add_argument('--gamma', type=float, default=0.7, metavar='M',
                        help='Learning rate step gamma (default: 0.7)')
    parser.add_argument('--no-accel', action='store_true',
                        help='disables accelerator')
    parser.add_argument('--dry-run', action='store_true',
                        help='quickly check a single pass')
    parser.add_argument('--seed', type=int, default=1, metavar='S',
                        help='random seed (default: 1)')
    parser.add_argument('--log-interval', type=int, default=10, metavar='N',
                        help='how many batches to wait before logging training status')
    parser.add_argument('--save-model', action='store_true',
                        help='For Saving the current Model')
    parser.add_argument('--train-size', type=int, default=960, metavar='N',
                        help='number of training images to use (default: 960)')
    parser.add_argument('--test-size', type=int, default=500, metavar='N',
                        help='number of test images to use (default: 500)')
    args = parser.parse_args()

    use_accel = not args.no_accel and torch.accelerator.is_available()

    torch.manual_seed(args.seed)

    if use_accel:
        device = torch.accelerator.current_accelerator()
    else:
        device = torch.device("cpu")

    train_kwargs = {'batch_size': args.batch_size}
    test_kwargs = {'batch_size': args.test_batch_size}
    loader_kwargs = {'num_workers': 0, 'pin_memory': use_accel, 'shuffle': True}
    train_kwargs.update(loader_kwargs)
    test_kwargs.update({'num_workers': 0, 'pin_memory': use_accel, 'shuffle': False})

    train_images, train_labels, test_images, test_labels = load_mnist(args.train_size, args.test_size)
    dataset1 = make_dataset(train_images, train_labels)
    dataset2 = make_dataset(test_images, test_labels)
    train_loader = DataLoader(dataset1, **train_kwargs)
    test_loader = DataLoader(dataset2, **test_kwargs)

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    train_losses, tests = [], []
    for epoch in range(1, args.epochs + 1):
        train_losses.append(train(args, model, device, train_loader, optimizer, epoch))
        tests.append(test(model, device, test_loader))
        scheduler.step()

    if args.save_model:
        torch.save(model.state_dict(), "mnist_cnn.pt")

    with torch.no_grad():
        sample = dataset2[0][0].unsqueeze(0).to(device)
        shapes = {"input": list(sample.shape)}
        h = F.relu(model.conv1(sample))
        shapes["conv1"] = list(h.shape)
        h = F.max_pool2d(F.relu(model.conv2(h)), 2)
        shapes["pool"] = list(h.shape)
        shapes["flatten"] = list(torch.flatten(h, 1).shape)
        shapes["output"] = list(model(sample).shape)
        log_probs_sum_to_1 = abs(model(sample).exp().sum().item() - 1.0) < 1e-4

    first = sum(train_losses[0][:5]) / 5        # 第一个 epoch 开头几个批量的平均训练损失
    last = sum(train_losses[-1][-5:]) / 5       # 最后一个 epoch 末尾几个批量的平均训练损失
    print("RESULT " + json.dumps({
        "loss_first": first, "loss_last": last,
        "test_loss_first": tests[0][0], "test_loss_last": tests[-1][0], "accuracy": tests[-1][1],
        "lr_final": optimizer.param_groups[0]['lr'],
        "shapes": shapes,
        "checks": {"lr_final": round(scheduler.get_last_lr()[0], 10), "log_probs_sum_to_1": log_probs_sum_to_1,
                   "num_train_batches": len(train_loader), "device": str(device)},
    }))


if __name__ == '__main__':
    main()
