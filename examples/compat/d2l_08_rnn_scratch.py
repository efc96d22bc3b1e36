"""循环神经网络的从零开始实现（仿《动手学深度学习》第 8.5 节）：字符级语言模型，独热编码、手写 RNN、
梯度裁剪、困惑度。语料是 Tiny Shakespeare 的前几千个字符。

RNN language model from scratch (re-creation of d2l-zh, PyTorch edition, section 8.5): characters of
Tiny Shakespeare, one-hot inputs, hand-written RNN cell, gradient clipping, perplexity.
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

# ---- 语料和词表（字符级，全部小写） ----
text = load_shakespeare(12000).lower()
idx_to_token = sorted(set(text))
token_to_idx = {ch: i for i, ch in enumerate(idx_to_token)}
corpus = [token_to_idx[ch] for ch in text]
vocab_size = len(idx_to_token)
print('vocab size', vocab_size, 'corpus length', len(corpus))


def seq_data_iter_sequential(corpus, batch_size, num_steps):
    """顺序分区：相邻小批量在原始序列上也是相邻的。"""
    offset = random.randint(0, num_steps)
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    Xs = torch.tensor(corpus[offset: offset + num_tokens])
    Ys = torch.tensor(corpus[offset + 1: offset + 1 + num_tokens])
    Xs, Ys = Xs.reshape(batch_size, -1), Ys.reshape(batch_size, -1)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_steps * num_batches, num_steps):
        X = Xs[:, i: i + num_steps]
        Y = Ys[:, i: i + num_steps]
        yield X, Y


print(F.one_hot(torch.tensor([0, 2]), vocab_size))
X = torch.arange(10).reshape((2, 5))
onehot_shape = list(F.one_hot(X.T, 28).shape)


def get_params(vocab_size, num_hiddens, device):
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.randn(size=shape, device=device) * 0.01

    W_xh = normal((num_inputs, num_hiddens))
    W_hh = normal((num_hiddens, num_hiddens))
    b_h = torch.zeros(num_hiddens, device=device)
    W_hq = normal((num_hiddens, num_outputs))
    b_q = torch.zeros(num_outputs, device=device)
    params = [W_xh, W_hh, b_h, W_hq, b_q]
    for param in params:
        param.requires_grad_(True)
    return params


def init_rnn_state(batch_size, num_hiddens, device):
    return (torch.zeros((batch_size, num_hiddens), device=device), )


def rnn(inputs, state, params):
    # inputs 的形状：(时间步数量, 批量大小, 词表大小)
    W_xh, W_hh, b_h, W_hq, b_q = params
    H, = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        Y = torch.mm(H, W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


class RNNModelScratch:
    """从零实现的循环神经网络模型。"""

    def __init__(self, vocab_size, num_hiddens, device, get_params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = get_params(vocab_size, num_hiddens, device)
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size, device):
        return self.init_state(batch_size, self.num_hiddens, device)


device = torch.device('cpu')
num_hiddens = 128
net = RNNModelScratch(vocab_size, num_hiddens, device, get_params, init_rnn_state, rnn)
state = net.begin_state(X.shape[0], device)
Y, new_state = net(X.to(device), state)
print(Y.shape, len(new_state), new_state[0].shape)
demo_shapes = {"Y": list(Y.shape), "state": list(new_state[0].shape), "one_hot": onehot_shape}


def predict(prefix, num_preds, net, device):
    """在 prefix 后面生成新字符。"""
    state = net.begin_state(batch_size=1, device=device)
    outputs = [token_to_idx[prefix[0]]]
    get_input = lambda: torch.tensor([outputs[-1]], device=device).reshape((1, 1))
    for y in prefix[1:]:              # 预热期
        _, state = net(get_input(), state)
        outputs.append(token_to_idx[y])
    for _ in range(num_preds):        # 预测 num_preds 步
        y, state = net(get_input(), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return ''.join([idx_to_token[i] for i in outputs])


print(predict('first ', 10, net, device))


def grad_clipping(net, theta):
    """裁剪梯度。"""
    if isinstance(net, nn.Module):
        params = [p for p in net.parameters() if p.requires_grad]
    else:
        params = net.params
    norm = torch.sqrt(sum(torch.sum((p.grad ** 2)) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm
    return float(norm)


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def train_epoch(net, corpus, batch_size, num_steps, loss, updater, device):
    state = None
    loss_sum, n_tokens, norms = 0.0, 0, []
    for X, Y in seq_data_iter_sequential(corpus, batch_size, num_steps):
        if state is None:
            state = net.begin_state(batch_size=X.shape[0], device=device)
        else:
            for s in state:
                s.detach_()           # 顺序分区：保留隐状态的值，但切断与之前小批量的计算图
        y = Y.T.reshape(-1)
        X, y = X.to(device), y.to(device)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        l.backward()
        norms.append(grad_clipping(net, 1))
        updater(batch_size=1)         # 因为已经调用了 mean
        loss_sum += l.item() * y.numel()
        n_tokens += y.numel()
    return math.exp(loss_sum / n_tokens), max(norms)


batch_size, num_steps = 32, 35
num_epochs, lr = 30, 1.0
loss = nn.CrossEntropyLoss()
perplexities = []
for epoch in range(num_epochs):
    ppl, max_norm = train_epoch(net, corpus, batch_size, num_steps, loss,
                                lambda batch_size: sgd(net.params, lr, batch_size), device)
    perplexities.append(ppl)
    if (epoch + 1) % 5 == 0:
        print(f'epoch {epoch + 1}: perplexity {ppl:.2f}, ', predict('first ', 30, net, device))

# 裁剪后梯度的范数不超过 theta
for p in net.params:
    p.grad = torch.ones_like(p) * 3
grad_clipping(net, 1)
clipped_norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in net.params)).item()

print("RESULT " + json.dumps({
    "loss_first": math.log(perplexities[0]), "loss_last": math.log(perplexities[-1]),
    "ppl_first": perplexities[0], "ppl_last": perplexities[-1],
    "clipped_norm": clipped_norm,
    "shapes": {**demo_shapes, **{f"param{i}": list(p.shape) for i, p in enumerate(net.params)}},
    "checks": {"vocab_size": vocab_size, "sample_len": len(predict('first ', 10, net, device))},
}))
