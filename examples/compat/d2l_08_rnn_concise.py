"""循环神经网络的简洁实现（仿《动手学深度学习》第 8.6 节）：nn.RNN + nn.Linear 组成的模型，
state.detach_()、梯度裁剪、torch.optim.SGD。语料是 Tiny Shakespeare 的前几千个字符。

RNN language model, concise version (re-creation of d2l-zh, PyTorch edition, section 8.6): nn.RNN
plus nn.Linear in a Module, on characters of Tiny Shakespeare.
"""
import json
import math
import os
import random
import sys

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _data import load_shakespeare  # noqa: E402

torch.manual_seed(0)
random.seed(0)

text = load_shakespeare(12000).lower()
vocab = sorted(set(text))
char_to_idx = {ch: i for i, ch in enumerate(vocab)}
corpus = [char_to_idx[ch] for ch in text]


def seq_data_iter_sequential(corpus, batch_size, num_steps):
    offset = random.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset: offset + num_tokens]).reshape(batch_size, -1)
    Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens]).reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        yield Xs[:, i: i + num_steps], Ys[:, i: i + num_steps]


batch_size, num_steps = 32, 35
num_hiddens = 128
rnn_layer = nn.RNN(len(vocab), num_hiddens)

state = torch.zeros((1, batch_size, num_hiddens))
X = torch.rand(size=(num_steps, batch_size, len(vocab)))
Y, state_new = rnn_layer(X, state)
print(state.shape, Y.shape, state_new.shape)


class RNNModel(nn.Module):
    """循环神经网络模型：RNN 层 + 输出层。"""

    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super(RNNModel, self).__init__(**kwargs)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = self.rnn.hidden_size
        if not self.rnn.bidirectional:
            self.num_directions = 1
            self.linear = nn.Linear(self.num_hiddens, self.vocab_size)
        else:
            self.num_directions = 2
            self.linear = nn.Linear(self.num_hiddens * 2, self.vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size)
        X = X.to(torch.float32)
        Y, state = self.rnn(X, state)
        # 全连接层先把 Y 变成 (时间步数 * 批量大小, 隐藏单元数)
        output = self.linear(Y.reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, device, batch_size=1):
        return torch.zeros((self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens),
                           device=device)


device = torch.device('cpu')
net = RNNModel(rnn_layer, vocab_size=len(vocab))
net = net.to(device)


def predict(prefix, num_preds, net, device):
    state = net.begin_state(batch_size=1, device=device)
    outputs = [char_to_idx[prefix[0]]]
    get_input = lambda: torch.tensor([outputs[-1]], device=device).reshape((1, 1))
    for y in prefix[1:]:
        _, state = net(get_input(), state)
        outputs.append(char_to_idx[y])
    for _ in range(num_preds):
        y, state = net(get_input(), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return ''.join([vocab[i] for i in outputs])


print(predict('first ', 10, net, device))


def grad_clipping(net, theta):
    params = [p for p in net.parameters() if p.requires_grad]
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def train_epoch(net, corpus, loss, updater, device):
    state = None
    loss_sum, n_tokens = 0.0, 0
    for X, Y in seq_data_iter_sequential(corpus, batch_size, num_steps):
        if state is None:
            state = net.begin_state(batch_size=X.shape[0], device=device)
        else:
            if isinstance(net, nn.Module) and not isinstance(state, tuple):
                state.detach_()       # nn.RNN 的状态是一个张量
            else:
                for s in state:
                    s.detach_()
        y = Y.T.reshape(-1)
        X, y = X.to(device), y.to(device)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        updater.zero_grad()
        l.backward()
        grad_clipping(net, 1)
        updater.step()
        loss_sum += l.item() * y.numel()
        n_tokens += y.numel()
    return math.exp(loss_sum / n_tokens)


num_epochs, lr = 30, 1.0
loss = nn.CrossEntropyLoss()
updater = torch.optim.SGD(net.parameters(), lr)
perplexities = []
for epoch in range(num_epochs):
    perplexities.append(train_epoch(net, corpus, loss, updater, device))
    if (epoch + 1) % 5 == 0:
        print(f'epoch {epoch + 1}: perplexity {perplexities[-1]:.2f}, ', predict('first ', 30, net, device))

print("RESULT " + json.dumps({
    "loss_first": math.log(perplexities[0]), "loss_last": math.log(perplexities[-1]),
    "ppl_first": perplexities[0], "ppl_last": perplexities[-1],
    "shapes": {"state": list(state.shape), "Y": list(Y.shape), "state_new": list(state_new.shape),
               **{name: list(p.shape) for name, p in net.named_parameters()}},
    "checks": {"vocab_size": len(vocab), "hidden_size": rnn_layer.hidden_size, "num_layers": rnn_layer.num_layers,
               "param_names": [name for name, _ in net.named_parameters()]},
}))
