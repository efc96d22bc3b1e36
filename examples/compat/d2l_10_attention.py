"""注意力机制（仿《动手学深度学习》第 10.2、10.3、10.5、10.6 节）：带一个可学习参数的 Nadaraya-Watson
核回归，遮蔽 softmax、加性注意力和缩放点积注意力，从零实现的多头注意力、正弦位置编码，以及
nn.MultiheadAttention(batch_first=True) 的简洁实现。最后用两种多头注意力各训练一个小模型，
解一个“按指针取词”的合成任务：序列第一个词是指针 k，要输出第 k 个内容词。

Attention mechanisms (re-creation of d2l-zh, PyTorch edition, sections 10.2, 10.3, 10.5, 10.6):
Nadaraya-Watson kernel regression with one learnable width, masked softmax, additive and scaled
dot-product attention, multi-head attention from scratch, sinusoidal positional encoding and the
concise nn.MultiheadAttention(batch_first=True). Both multi-head versions then learn a synthetic
pointer task (the first token says which content token to output; sequences have different lengths,
so padding is masked), which one attention layer solves by looking the position up.
"""
import json
import math

import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)

# ================= 10.2 Nadaraya-Watson 核回归 =================
n_train = 50
x_train, _ = torch.sort(torch.rand(n_train) * 5)        # 排好序的训练输入


def f(x):
    return 2 * torch.sin(x) + x ** 0.8


y_train = f(x_train) + torch.normal(0.0, 0.5, (n_train,))   # 带噪声的训练输出
x_test = torch.arange(0, 5, 0.1)
y_truth = f(x_test)
n_test = len(x_test)
print('n_test', n_test)

# 平均汇聚：不看查询，所有预测都是训练输出的平均值
y_avg = torch.repeat_interleave(y_train.mean(), n_test)
avg_mse = ((y_avg - y_truth) ** 2).mean().item()

# 非参数注意力汇聚：高斯核，查询 x_test 与键 x_train 越近，权重越大
X_repeat = x_test.repeat_interleave(n_train).reshape((-1, n_train))   # 每行是同一个查询重复 n_train 次
attention_weights = F.softmax(-(X_repeat - x_train) ** 2 / 2, dim=1)
y_nw = torch.matmul(attention_weights, y_train)
nw_mse = ((y_nw - y_truth) ** 2).mean().item()
print(f'average pooling mse {avg_mse:.3f}, Nadaraya-Watson mse {nw_mse:.3f}')

# 批量矩阵乘法
A = torch.ones((2, 1, 4))
B = torch.ones((2, 4, 6))
bmm_shape = list(torch.bmm(A, B).shape)
weights = torch.ones((2, 10)) * 0.1
values = torch.arange(20.0).reshape((2, 10))
bmm_weighted = torch.bmm(weights.unsqueeze(1), values.unsqueeze(-1)).reshape(-1)   # 每行的平均值


class NWKernelRegression(nn.Module):
    """带参数的注意力汇聚：高斯核的宽度由可学习参数 w 控制。"""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = nn.Parameter(torch.rand((1,), requires_grad=True))

    def forward(self, queries, keys, values):
        # queries: (查询个数,)；keys、values: (查询个数, 键值对个数)
        queries = queries.repeat_interleave(keys.shape[1]).reshape((-1, keys.shape[1]))
        self.attention_weights = F.softmax(-((queries - keys) * self.w) ** 2 / 2, dim=1)
        # (查询个数, 1, 键值对个数) 乘 (查询个数, 键值对个数, 1)
        return torch.bmm(self.attention_weights.unsqueeze(1), values.unsqueeze(-1)).reshape(-1)


# 训练时，每个训练样本的键值对是“除了它自己以外的所有训练样本”
X_tile = x_train.repeat((n_train, 1))
Y_tile = y_train.repeat((n_train, 1))
keep = (torch.ones((n_train, n_train)) - torch.eye(n_train)).type(torch.bool)   # 去掉对角线
keys = X_tile[keep].reshape((n_train, -1))
values = Y_tile[keep].reshape((n_train, -1))
print('keys', keys.shape, 'values', values.shape)
nw_keys_shape = list(keys.shape)

nw_net = NWKernelRegression()
loss = nn.MSELoss(reduction='none')
trainer = torch.optim.SGD(nw_net.parameters(), lr=0.5)
w_init = nw_net.w.item()
nw_losses = []
for epoch in range(8):
    trainer.zero_grad()
    l = loss(nw_net(x_train, keys, values), y_train)
    l.sum().backward()
    trainer.step()
    nw_losses.append(l.sum().item())
print(f'NW kernel regression: loss {nw_losses[0]:.3f} -> {nw_losses[-1]:.3f}, w {w_init:.3f} -> {nw_net.w.item():.3f}')

# 测试：键值对是全部训练样本
test_keys = x_train.repeat((n_test, 1))
test_values = y_train.repeat((n_test, 1))
with torch.no_grad():
    y_hat = nw_net(x_test, test_keys, test_values)
nw_param_mse = ((y_hat - y_truth) ** 2).mean().item()
nw_rows = nw_net.attention_weights.sum(dim=1)


# ================= 10.3 注意力评分函数 =================
def sequence_mask(X, valid_len, value=0):
    """把每行中第 valid_len 个以后的元素换成 value。"""
    maxlen = X.size(1)
    mask = torch.arange((maxlen), dtype=torch.float32, device=X.device)[None, :] < valid_len[:, None]
    X[~mask] = value
    return X


def masked_softmax(X, valid_lens):
    """只在最后一个轴的前 valid_lens 个位置上做 softmax，其余位置权重为 0。"""
    # X: 三维张量；valid_lens: 一维或二维张量
    if valid_lens is None:
        return F.softmax(X, dim=-1)
    shape = X.shape
    if valid_lens.dim() == 1:
        valid_lens = torch.repeat_interleave(valid_lens, shape[1])
    else:
        valid_lens = valid_lens.reshape(-1)
    # 被遮住的位置换成一个很大的负数，指数之后就是 0
    X = sequence_mask(X.reshape(-1, shape[-1]), valid_lens, value=-1e6)
    return F.softmax(X.reshape(shape), dim=-1)


ms1 = masked_softmax(torch.rand(2, 2, 4), torch.tensor([2, 3]))
ms2 = masked_softmax(torch.rand(2, 2, 4), torch.tensor([[1, 3], [2, 4]]))
print(ms1)
print(ms2)


class AdditiveAttention(nn.Module):
    """加性注意力：查询和键长度可以不同。"""

    def __init__(self, key_size, query_size, num_hiddens, dropout, **kwargs):
        super().__init__(**kwargs)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens):
        queries, keys = self.W_q(queries), self.W_k(keys)
        # 广播求和：queries (batch, 查询数, 1, h) + keys (batch, 1, 键数, h)
        features = queries.unsqueeze(2) + keys.unsqueeze(1)
        features = torch.tanh(features)
        # w_v 只有一个输出，squeeze 掉最后一维：scores (batch, 查询数, 键数)
        scores = self.w_v(features).squeeze(-1)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


class DotProductAttention(nn.Module):
    """缩放点积注意力：查询和键长度都是 d。"""

    def __init__(self, dropout, **kwargs):
        super().__init__(**kwargs)
        self.dropout = nn.Dropout(dropout)

    def forward(self, queries, keys, values, valid_lens=None):
        d = queries.shape[-1]
        scores = torch.bmm(queries, keys.transpose(1, 2)) / math.sqrt(d)
        self.attention_weights = masked_softmax(scores, valid_lens)
        return torch.bmm(self.dropout(self.attention_weights), values)


# 所有键都一样，所以有效位置上的权重都相同，输出就是前 valid_len 个值的平均
queries, keys = torch.normal(0, 1, (2, 1, 20)), torch.ones((2, 10, 2))
values = torch.arange(40, dtype=torch.float32).reshape(1, 10, 4).repeat(2, 1, 1)
valid_lens = torch.tensor([2, 6])
additive = AdditiveAttention(key_size=2, query_size=20, num_hiddens=8, dropout=0.1)
additive.eval()
add_out = additive(queries, keys, values, valid_lens)
add_weights = additive.attention_weights
print(add_out)

queries = torch.normal(0, 1, (2, 1, 2))
dot = DotProductAttention(dropout=0.5)
dot.eval()
dot_out = dot(queries, keys, values, valid_lens)
dot_weights = dot.attention_weights

# 加性注意力的梯度也要能穿过被遮蔽的 softmax
additive.train()
add_train_out = additive(torch.normal(0, 1, (2, 3, 20)), torch.normal(0, 1, (2, 10, 2)), values, valid_lens)
add_train_out.sum().backward()
add_grad_shapes = {name: list(p.grad.shape) for name, p in additive.named_parameters()}


# ================= 10.5 多头注意力（从零实现）、10.6 位置编码 =================
def transpose_qkv(X, num_heads):
    """(batch, 个数, num_hiddens) -> (batch * num_heads, 个数, num_hiddens / num_heads)，让各个头并行计算。"""
    X = X.reshape(X.shape[0], X.shape[1], num_heads, -1)
    X = X.permute(0, 2, 1, 3)
    return X.reshape(-1, X.shape[2], X.shape[3])


def transpose_output(X, num_heads):
    """transpose_qkv 的逆操作。"""
    X = X.reshape(-1, num_heads, X.shape[1], X.shape[2])
    X = X.permute(0, 2, 1, 3)
    return X.reshape(X.shape[0], X.shape[1], -1)


class MultiHeadAttention(nn.Module):
    def __init__(self, key_size, query_size, value_size, num_hiddens, num_heads, dropout, bias=False, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.attention = DotProductAttention(dropout)
        self.W_q = nn.Linear(query_size, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)

    def forward(self, queries, keys, values, valid_lens):
        queries = transpose_qkv(self.W_q(queries), self.num_heads)
        keys = transpose_qkv(self.W_k(keys), self.num_heads)
        values = transpose_qkv(self.W_v(values), self.num_heads)
        if valid_lens is not None:
            # 每个头都用同一组有效长度：在第 0 维上把每个元素重复 num_heads 次
            valid_lens = torch.repeat_interleave(valid_lens, repeats=self.num_heads, dim=0)
        output = self.attention(queries, keys, values, valid_lens)
        return self.W_o(transpose_output(output, self.num_heads))


num_hiddens, num_heads = 100, 5
mha = MultiHeadAttention(num_hiddens, num_hiddens, num_hiddens, num_hiddens, num_heads, 0.5)
mha.eval()
batch_size, num_queries, num_kvpairs = 2, 4, 6
X = torch.ones((batch_size, num_queries, num_hiddens))
Y = torch.ones((batch_size, num_kvpairs, num_hiddens))
mha_out = mha(X, Y, Y, torch.tensor([3, 2]))
qkv_shape = list(transpose_qkv(X, num_heads).shape)
roundtrip = torch.equal(transpose_output(transpose_qkv(X, num_heads), num_heads), X)


class PositionalEncoding(nn.Module):
    """正弦/余弦位置编码：偶数列用 sin，奇数列用 cos。"""

    def __init__(self, num_hiddens, dropout, max_len=1000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.P = torch.zeros((1, max_len, num_hiddens))
        X = torch.arange(max_len, dtype=torch.float32).reshape(-1, 1) / torch.pow(
            10000, torch.arange(0, num_hiddens, 2, dtype=torch.float32) / num_hiddens)
        self.P[:, :, 0::2] = torch.sin(X)
        self.P[:, :, 1::2] = torch.cos(X)

    def forward(self, X):
        X = X + self.P[:, :X.shape[1], :].to(X.device)
        return self.dropout(X)


pos_encoding = PositionalEncoding(32, 0)
pos_encoding.eval()
PE_X = pos_encoding(torch.zeros((1, 60, 32)))
P = pos_encoding.P[:, :PE_X.shape[1], :]
pe_value = P[0, 7, 6].item()             # sin(7 / 10000^(6/32))
pe_first_row_ok = bool((P[0, 0, 0::2] == 0).all()) and bool((P[0, 0, 1::2] == 1).all())


# ================= 合成任务：按指针取词 =================
# 序列：[指针 k, 内容词 0, ..., 内容词 n-1, 填充...]，n 在 min_len..max_len 之间，k < n；
# 目标：第 k 个内容词。内容词 0..9，指针是词 10..10+max_len-1，填充是最后一个词。
n_content, min_len, max_len = 10, 4, 8
PAD = n_content + max_len
vocab_size = PAD + 1
seq_len = max_len + 1


def make_batch(batch_size):
    lengths = torch.randint(min_len, max_len + 1, (batch_size,))
    tokens = torch.randint(0, n_content, (batch_size, seq_len))
    pointer = (torch.rand(batch_size) * lengths).long()           # 0 <= k < n
    pos = torch.arange(seq_len)[None, :]
    tokens[pos > lengths[:, None]] = PAD                            # 内容之后都是填充
    tokens[:, 0] = n_content + pointer
    target = tokens[torch.arange(batch_size), pointer + 1]
    return tokens, lengths + 1, target                              # 有效长度包括指针本身


class PointerNet(nn.Module):
    """词嵌入 + 位置编码 + 一层多头自注意力 + 线性输出层，只读第 0 个位置（指针）的输出。"""

    def __init__(self, vocab_size, num_hiddens, num_heads, dropout, concise=False):
        super().__init__()
        self.concise = concise
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout)
        if concise:
            self.attention = nn.MultiheadAttention(num_hiddens, num_heads, dropout=dropout, batch_first=True)
        else:
            self.attention = MultiHeadAttention(num_hiddens, num_hiddens, num_hiddens, num_hiddens,
                                                num_heads, dropout, bias=True)
        self.dense = nn.Linear(num_hiddens, n_content)

    def forward(self, tokens, valid_lens):
        X = self.pos_encoding(self.embedding(tokens))
        if self.concise:
            padding = torch.arange(tokens.shape[1])[None, :] >= valid_lens[:, None]   # True = 遮住
            Y, _ = self.attention(X, X, X, key_padding_mask=padding)
        else:
            Y = self.attention(X, X, X, valid_lens)
        return self.dense(Y[:, 0, :])


def accuracy(net, tokens, valid_lens, target):
    net.eval()
    with torch.no_grad():
        pred = net(tokens, valid_lens).argmax(dim=1)
    net.train()
    return (pred == target).float().mean().item()


def train_pointer(net, num_steps=200, batch_size=64, lr=0.01):
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    losses = []
    for step in range(num_steps):
        tokens, valid_lens, target = make_batch(batch_size)
        l = F.cross_entropy(net(tokens, valid_lens), target)
        optimizer.zero_grad()
        l.backward()
        optimizer.step()
        losses.append(l.item())
    first = sum(losses[:10]) / 10          # 前 10 步和后 10 步的平均损失
    last = sum(losses[-10:]) / 10
    return first, last


test_tokens, test_valid_lens, test_target = make_batch(500)
scratch_net = PointerNet(vocab_size, 32, 4, 0.1)
scratch_first, scratch_last = train_pointer(scratch_net)
scratch_acc = accuracy(scratch_net, test_tokens, test_valid_lens, test_target)
print(f'scratch multi-head attention: loss {scratch_first:.3f} -> {scratch_last:.3f}, test acc {scratch_acc:.3f}')

concise_net = PointerNet(vocab_size, 32, 4, 0.1, concise=True)
concise_first, concise_last = train_pointer(concise_net)
concise_acc = accuracy(concise_net, test_tokens, test_valid_lens, test_target)
print(f'nn.MultiheadAttention: loss {concise_first:.3f} -> {concise_last:.3f}, test acc {concise_acc:.3f}')

# nn.MultiheadAttention 也返回（各头平均的）注意力权重：填充位置的权重是 0
concise_net.eval()
with torch.no_grad():
    X = concise_net.pos_encoding(concise_net.embedding(test_tokens[:8]))
    padding = torch.arange(seq_len)[None, :] >= test_valid_lens[:8, None]
    _, concise_weights = concise_net.attention(X, X, X, key_padding_mask=padding)

print("RESULT " + json.dumps({
    "loss_first": nw_losses[0], "loss_last": nw_losses[-1], "nw_w": nw_net.w.item(),
    "avg_mse": avg_mse, "nw_mse": nw_mse, "nw_param_mse": nw_param_mse,
    "mha_loss_first": scratch_first, "mha_loss_last": scratch_last, "mha_accuracy": scratch_acc,
    "concise_loss_first": concise_first, "concise_loss_last": concise_last, "concise_accuracy": concise_acc,
    "shapes": {"bmm": bmm_shape, "nw_keys": nw_keys_shape,
               "nw_weights": list(nw_net.attention_weights.shape), "masked_softmax": list(ms2.shape),
               "additive": list(add_out.shape), "additive_weights": list(add_weights.shape),
               "dot": list(dot_out.shape), "mha": list(mha_out.shape), "qkv": qkv_shape,
               "pos_encoding": list(PE_X.shape), "concise_weights": list(concise_weights.shape),
               "additive_grads": add_grad_shapes,
               "concise_params": {name: list(p.shape) for name, p in concise_net.named_parameters()},
               "scratch_params": {name: list(p.shape) for name, p in scratch_net.named_parameters()}},
    "checks": {
        "bmm_weighted": [round(v, 4) for v in bmm_weighted.tolist()],
        "nw_rows_sum_to_1": bool(torch.allclose(nw_rows, torch.ones(n_test))),
        "ms1_masked_zero": bool((ms1[0, :, 2:] == 0).all()) and bool((ms1[1, :, 3:] == 0).all()),
        "ms2_masked_zero": bool((ms2[0, 0, 1:] == 0).all()) and bool((ms2[1, 0, 2:] == 0).all()),
        "ms2_rows_sum_to_1": bool(torch.allclose(ms2.sum(dim=-1), torch.ones(2, 2))),
        "ms2_full_row_positive": bool((ms2[1, 1] > 0).all()),
        "additive_out": [[round(v, 3) for v in row] for row in add_out[:, 0, :].tolist()],
        "additive_weights": [[round(v, 3) for v in row] for row in add_weights[:, 0, :].tolist()],
        "dot_out": [[round(v, 3) for v in row] for row in dot_out[:, 0, :].tolist()],
        "concise_weights_masked_zero": bool((concise_weights[padding.unsqueeze(1).expand(-1, seq_len, -1)] == 0).all()),
        "concise_weights_rows_sum_to_1": bool(torch.allclose(concise_weights.sum(dim=-1), torch.ones(8, seq_len))),
        "dot_weights_masked_zero": bool((dot_weights[0, :, 2:] == 0).all())
        and bool((dot_weights[1, :, 6:] == 0).all()),
        "qkv_roundtrip": roundtrip,
        "pe_first_row": pe_first_row_ok,
        "pe_value": round(pe_value, 4),
        "vocab_size": vocab_size,
        "test_batch_valid": bool((test_target < n_content).all()) and bool((test_tokens[:, 0] >= n_content).all()),
    },
}))
