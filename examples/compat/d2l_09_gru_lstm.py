"""现代循环神经网络（仿《动手学深度学习》第 9.1-9.4 节）：从零实现门控循环单元（GRU），
用 nn.LSTM 的简洁实现，以及深层（num_layers=2）和双向（bidirectional=True）循环网络的形状。
语料是 Tiny Shakespeare 的前几千个字符。

Modern recurrent networks (re-creation of d2l-zh, PyTorch edition, sections 9.1-9.4): a GRU written
by hand (sigmoid gates, ``@`` and ``*``), the concise nn.LSTM language model, and the shapes of a deep
(num_layers=2) and a bidirectional network, on characters of Tiny Shakespeare.
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

text = load_shakespeare(8000).lower()
idx_to_token = sorted(set(text))
token_to_idx = {ch: i for i, ch in enumerate(idx_to_token)}
corpus = [token_to_idx[ch] for ch in text]
vocab_size = len(idx_to_token)


def seq_data_iter_random(corpus, batch_size, num_steps):
    """随机抽样：每个小批量的子序列来自语料中随机的位置。"""
    corpus = corpus[random.randint(0, num_steps - 1):]
    num_subseqs = (len(corpus) - 1) // num_steps
    initial_indices = list(range(0, num_subseqs * num_steps, num_steps))
    random.shuffle(initial_indices)
    num_batches = num_subseqs // batch_size
    for i in range(0, batch_size * num_batches, batch_size):
        starts = initial_indices[i: i + batch_size]
        X = [corpus[j: j + num_steps] for j in starts]
        Y = [corpus[j + 1: j + 1 + num_steps] for j in starts]
        yield torch.tensor(X), torch.tensor(Y)


# ---- 9.1 门控循环单元，从零实现 ----
def get_gru_params(vocab_size, num_hiddens, device):
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    def three():
        return (normal((num_inputs, num_hiddens)), normal((num_hiddens, num_hiddens)),
                torch.zeros(num_hiddens, device=device))

    W_xz, W_hz, b_z = three()      # 更新门
    W_xr, W_hr, b_r = three()      # 重置门
    W_xh, W_hh, b_h = three()      # 候选隐状态
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    params = [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


def init_gru_state(batch_size, num_hiddens, device):
    return (torch.zeros((batch_size, num_hiddens), device=device), )


def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z)
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r)
        H_tilda = torch.tanh((X @ W_xh) + ((R * H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        Y = H @ W_hq + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


class RNNModelScratch:
    def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size, device):
        return self.init_state(batch_size, self.num_hiddens, device)


# ---- 9.2 长短期记忆网络，简洁实现 ----
class RNNModel(nn.Module):
    def __init__(self, rnn_layer, vocab_size, **kwargs):
        super().__init__(**kwargs)
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = self.rnn.hidden_size
        self.num_directions = 2 if self.rnn.bidirectional else 1
        self.linear = nn.Linear(self.num_hiddens * self.num_directions, self.vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size)
        X = X.to(torch.float32)
        Y, state = self.rnn(X, state)
        output = self.linear(Y.reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, device, batch_size=1):
        shape = (self.num_directions * self.rnn.num_layers, batch_size, self.num_hiddens)
        if not isinstance(self.rnn, nn.LSTM):
            return torch.zeros(shape, device=device)
        return (torch.zeros(shape, device=device), torch.zeros(shape, device=device))


def grad_clipping(net, theta):
    if isinstance(net, nn.Module):
        params = [p for p in net.parameters() if p.requires_grad]
    else:
        params = net.params
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def predict(prefix, num_preds, net, device):
    state = net.begin_state(batch_size=1, device=device)
    outputs = [token_to_idx[prefix[0]]]
    get_input = lambda: torch.tensor([outputs[-1]], device=device).reshape((1, 1))
    for y in prefix[1:]:
        _, state = net(get_input(), state)
        outputs.append(token_to_idx[y])
    for _ in range(num_preds):
        y, state = net(get_input(), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return ''.join([idx_to_token[i] for i in outputs])


def train_epoch(net, loss, updater, batch_size, num_steps, device):
    loss_sum, n_tokens = 0.0, 0
    for X, Y in seq_data_iter_random(corpus, batch_size, num_steps):
        state = net.begin_state(batch_size=X.shape[0], device=device)   # 随机抽样：每个小批量重新初始化
        y = Y.T.reshape(-1)
        X, y = X.to(device), y.to(device)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            l.backward()
            grad_clipping(net, 1)
            updater.step()
        else:
            l.backward()
            grad_clipping(net, 1)
            updater(batch_size=1)
        loss_sum += l.item() * y.numel()
        n_tokens += y.numel()
    return math.exp(loss_sum / n_tokens)


device = torch.device('cpu')
batch_size, num_steps, num_hiddens = 32, 35, 64
loss = nn.CrossEntropyLoss()

gru_net = RNNModelScratch(vocab_size, num_hiddens, device, get_gru_params, init_gru_state, gru)
gru_ppl = []
for epoch in range(12):
    gru_ppl.append(train_epoch(gru_net, loss, lambda batch_size: sgd(gru_net.params, 2.0, batch_size),
                               batch_size, num_steps, device))
print(f'GRU (scratch) perplexity {gru_ppl[0]:.2f} -> {gru_ppl[-1]:.2f}', predict('the ', 20, gru_net, device))

lstm_layer = nn.LSTM(vocab_size, num_hiddens)
lstm_net = RNNModel(lstm_layer, vocab_size).to(device)
updater = torch.optim.SGD(lstm_net.parameters(), lr=4.0)
lstm_ppl = []
for epoch in range(12):
    lstm_ppl.append(train_epoch(lstm_net, loss, updater, batch_size, num_steps, device))
print(f'LSTM (concise) perplexity {lstm_ppl[0]:.2f} -> {lstm_ppl[-1]:.2f}', predict('the ', 20, lstm_net, device))

# ---- 9.3 / 9.4 深层和双向：只看形状 ----
X = torch.randint(0, vocab_size, (4, 7))
deep = RNNModel(nn.GRU(vocab_size, 16, num_layers=2), vocab_size)
Y_deep, H_deep = deep(X, deep.begin_state(device, batch_size=4))
bi = RNNModel(nn.LSTM(vocab_size, 16, num_layers=2, bidirectional=True), vocab_size)
Y_bi, (H_bi, C_bi) = bi(X, bi.begin_state(device, batch_size=4))

print("RESULT " + json.dumps({
    "loss_first": math.log(gru_ppl[0]), "loss_last": math.log(gru_ppl[-1]),
    "lstm_loss_first": math.log(lstm_ppl[0]), "lstm_loss_last": math.log(lstm_ppl[-1]),
    "shapes": {"Y_deep": list(Y_deep.shape), "H_deep": list(H_deep.shape), "Y_bi": list(Y_bi.shape),
               "H_bi": list(H_bi.shape), "C_bi": list(C_bi.shape),
               **{f"gru_param{i}": list(p.shape) for i, p in enumerate(gru_net.params)},
               **{name: list(p.shape) for name, p in lstm_net.named_parameters()},
               **{"bi." + name: list(p.shape) for name, p in bi.named_parameters()}},
    "checks": {"vocab_size": vocab_size, "sample_len": len(predict('the ', 10, lstm_net, device)),
               "lstm_param_names": [name for name, _ in lstm_net.named_parameters()],
               "deep_param_count": sum(p.numel() for p in deep.parameters())},
}))
