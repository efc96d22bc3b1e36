"""循环网络：RNNCell、RNN、LSTMCell、LSTM、GRUCell、GRU（参数名、形状、初始化、输入输出与 torch.nn 相同）。

整层 RNN/LSTM/GRU 的每一层是 **一个** 计算图节点（``ops/rnn.py`` 的 ``RNNLayerFn``、
``ops/lstm.py`` 的 ``LSTMLayerFn``、``ops/gru.py`` 的 ``GRULayerFn``）：一次前向扫过整条序列，
一次反向做完整的 BPTT。
``LSTMCell`` 是单步版本（两次融合的 Linear + 融合的门运算 ``LSTMCellFn``），适合自己写循环。

形状（与 PyTorch 一致）::

    input:       (T, B, D)，batch_first=True 时 (B, T, D)；也可以不带批维 (T, D)
    h0 (, c0):   (num_layers·num_directions, B, H)
    output:      (T, B, num_directions·H)（batch_first 时 (B, T, ·)）
    h_n (, c_n): (num_layers·num_directions, B, H)

截断的 BPTT 与 PyTorch 相同：``state.detach_()``（RNN/GRU）或 ``for s in state: s.detach_()``（LSTM）
把返回的状态从上一个 batch 的计算图上切下来，反向传播就不会一直追溯到序列开头。

English: truncated BPTT as in PyTorch: ``state.detach_()`` (RNN/GRU) or ``for s in state: s.detach_()``
(LSTM) cuts the returned states off the graph of the previous batch.
"""
import math
import numbers
import warnings

from ..ops.gru import GRULayerFn
from ..ops.lstm import LSTMLayerFn, lstm_cell
from ..ops.rnn import NONLINEARITIES, RNNLayerFn
from ..tensor import Tensor, cat, stack
from . import functional as F
from . import init
from .module import Module
from ..errors import TensorError


def _zeros(shape, ref):
    return Tensor._make(ref._xp.zeros(shape, ref.dtype), ref.device, None, 0)


def _check_sizes(name, input_size, hidden_size):
    for arg, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(v, numbers.Integral) or v <= 0:
            raise TensorError(f"{name}: {arg} must be a positive int, got {v!r}")


class _RNNBase(Module):
    """RNN、LSTM、GRU 共用的参数与逐层循环（``gates`` = 1、4 或 3 块，每块 H 行）。"""
    gates = 4
    layer_fn = None

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        _check_sizes(name, input_size, hidden_size)
        if proj_size:
            if name != "LSTM":
                raise TensorError(f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU")
            raise NotImplementedError("LSTM: proj_size (projected hidden states) is not supported")
        self.proj_size = 0
        if not isinstance(num_layers, numbers.Integral) or num_layers < 1:
            raise TensorError(f"{name}: num_layers must be a positive int, got {num_layers!r}")
        if not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise TensorError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional = bool(bidirectional)
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}",
                          stacklevel=2 if type(self).__init__ is _RNNBase.__init__ else 3)
        dirs = 2 if bidirectional else 1
        G, H = self.gates * hidden_size, hidden_size
        self._all_weights = []                    # 与 PyTorch 相同：每层每个方向的参数名
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else H * dirs
            for suffix in ("", "_reverse")[:dirs]:
                s = f"_l{layer}{suffix}"
                names = ["weight_ih" + s, "weight_hh" + s] + (["bias_ih" + s, "bias_hh" + s] if bias else [])
                setattr(self, names[0], init.empty_parameter((G, in_size), dtype, device))
                setattr(self, names[1], init.empty_parameter((G, H), dtype, device))
                if bias:
                    setattr(self, names[2], init.empty_parameter((G,), dtype, device))
                    setattr(self, names[3], init.empty_parameter((G,), dtype, device))
                self._all_weights.append(names)
        self._flat_weights_names = [n for names in self._all_weights for n in names]
        self.reset_parameters()

    @property
    def all_weights(self):
        """每层每个方向的 [weight_ih, weight_hh, bias_ih, bias_hh]（Parameter 本身）组成的列表。"""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    def _layer_kwargs(self):
        return {}

    def flatten_parameters(self):
        """PyTorch 在这里为 cuDNN 整理权重；我们的层不需要，保留它只为兼容。"""

    def reset_parameters(self):
        """每个权重和偏置都服从 U(−1/√H, 1/√H)（PyTorch 循环层的默认初始化）。"""
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -k, k)

    def _layer_params(self, layer, direction):
        s = f"_l{layer}" + ("_reverse" if direction else "")
        ws = [getattr(self, "weight_ih" + s), getattr(self, "weight_hh" + s)]
        if self.bias:
            ws += [getattr(self, "bias_ih" + s), getattr(self, "bias_hh" + s)]
        return ws

    def _prepare(self, input, states):
        """检查输入和状态的形状；没有 batch 维的输入补上 batch 维。返回
        (input, batched, B, [形状为 (L·dirs, B, H) 的状态张量])。"""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (2, 3):
            raise TensorError(f"{name}: expected input of shape (T, B, input_size)"
                             f"{' with batch_first=True: (B, T, input_size)' if self.batch_first else ''}"
                             f" or unbatched (T, input_size), got {input.shape}")
        batched = input.ndim == 3
        if not batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        if input.shape[2] != self.input_size:
            raise TensorError(f"{name}: input has {input.shape[2]} features (shape {input.shape}), "
                             f"expected input_size={self.input_size}")
        if input.dtype != self.weight_ih_l0.dtype:
            raise TypeError(f"{name}: input dtype {input.dtype} does not match the parameters' dtype "
                            f"{self.weight_ih_l0.dtype} (convert one with .to(dtype))")
        B = input.shape[0] if self.batch_first else input.shape[1]
        shape = (self.num_layers * (2 if self.bidirectional else 1), B, self.hidden_size)
        out = []
        for st in states:
            if st is None:
                out.append(None)
                continue
            if not batched:
                if st.ndim != 2:
                    raise TensorError(f"{name}: for unbatched input the initial state must be 2-D "
                                     f"(num_layers*num_directions, hidden_size), got {st.shape}")
                st = st.unsqueeze(1)
            if st.shape != shape:
                raise TensorError(f"{name}: expected initial state of shape {shape}, got {st.shape}")
            out.append(st)
        return input, batched, B, out

    def _run(self, input, states):
        """逐层循环，每层每个方向一个节点。``states``：(L·dirs, B, H) 张量或 None 组成的列表。"""
        input, batched, B, states = self._prepare(input, states)
        dirs = 2 if self.bidirectional else 1
        H = self.hidden_size
        finals = [[] for _ in states]
        x = input
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                idx = layer * dirs + d
                init_states = [_zeros((B, H), x) if st is None else st[idx] for st in states]
                res = self.layer_fn.apply(x, *self._layer_params(layer, d), *init_states,
                                          batch_first=self.batch_first, reverse=bool(d),
                                          **self._layer_kwargs())
                outs.append(res[0])
                for f, r in zip(finals, res[1:]):
                    f.append(r)
            x = outs[0] if dirs == 1 else cat(outs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)     # 只在层与层之间、只在训练时
        finals = [stack(f, 0) for f in finals]
        if not batched:
            x = x.squeeze(0 if self.batch_first else 1)
            finals = [f.squeeze(1) for f in finals]
        return x, finals

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(_RNNBase):
    """多层 Elman RNN：``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``（位置参数的顺序与 PyTorch 相同）。

    hₜ = φ(xₜ Wᵢₕᵀ + bᵢₕ + h₍ₜ₋₁₎ Wₕₕᵀ + bₕₕ)，φ = tanh 或 relu。``output, h_n = rnn(input, h0)``；
    省略 h0 时为 0。Parameters ``weight_ih_l{k}`` (H, in), ``weight_hh_l{k}`` (H, H),
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` (H,), all ~ U(−1/√H, 1/√H); ``_reverse`` for the backward
    direction. ``dropout`` acts on the outputs of every layer except the last, in training mode."""
    gates = 1
    layer_fn = RNNLayerFn

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in NONLINEARITIES:
            raise TensorError(f"RNN: unknown nonlinearity {nonlinearity!r}; select from 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def _layer_kwargs(self):
        return {"nonlinearity": self.nonlinearity}

    def forward(self, input, hx=None):
        out, (h_n,) = self._run(input, [hx])
        return out, h_n


class LSTM(_RNNBase):
    """多层 LSTM：``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``.

    ``output, (h_n, c_n) = lstm(input, (h0, c0))``; omitted states are zeros.  Parameters
    ``weight_ih_l{k}`` (4H, in), ``weight_hh_l{k}`` (4H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (4H,)
    with gate rows in the order i, f, g, o (``_reverse`` for the backward direction).
    ``dropout`` is applied to the outputs of every layer except the last, only in training mode."""
    gates = 4
    layer_fn = LSTMLayerFn

    def forward(self, input, hx=None):
        if hx is None:
            hx = (None, None)
        elif not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError("LSTM: hx must be a tuple (h0, c0) of Tensors")
        out, (h_n, c_n) = self._run(input, list(hx))
        return out, (h_n, c_n)


class GRU(_RNNBase):
    """多层 GRU：``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False)``; ``output, h_n = gru(input, h0)``.

    Gate rows of ``weight_ih_l{k}`` (3H, in) / ``weight_hh_l{k}`` (3H, H) are in the order r, z, n;
    n = tanh(Wᵢₙx + bᵢₙ + r ⊙ (Wₕₙh + bₕₙ)), h' = (1 - z) ⊙ n + z ⊙ h, exactly as in PyTorch."""
    gates = 3
    layer_fn = GRULayerFn

    def forward(self, input, hx=None):
        out, (h_n,) = self._run(input, [hx])
        return out, h_n


class _CellBase(Module):
    gates = 4

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        _check_sizes(type(self).__name__, input_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bool(bias)
        G = self.gates * hidden_size
        self.weight_ih = init.empty_parameter((G, input_size), dtype, device)
        self.weight_hh = init.empty_parameter((G, hidden_size), dtype, device)
        if bias:
            self.bias_ih = init.empty_parameter((G,), dtype, device)
            self.bias_hh = init.empty_parameter((G,), dtype, device)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = _RNNBase.reset_parameters

    def _input(self, input):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise TensorError(f"{name}: expected input of shape (B, {self.input_size}) or "
                             f"({self.input_size},), got {input.shape}")
        return input if input.ndim == 2 else input.unsqueeze(0), input.ndim == 2

    def _state(self, st, B, batched):
        if st is None:
            return None
        st = st if batched else st.unsqueeze(0)
        if st.shape != (B, self.hidden_size):
            raise TensorError(f"{type(self).__name__}: expected a state of shape {(B, self.hidden_size)}, "
                             f"got {st.shape}")
        return st

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class LSTMCell(_CellBase):
    """一步 LSTM：``h', c' = cell(x, (h, c))``；x (B, input_size) 或 (input_size,)，省略状态时为 0。"""
    gates = 4

    def forward(self, input, hx=None):
        x, batched = self._input(input)
        B = x.shape[0]
        if hx is None:
            h = c = _zeros((B, self.hidden_size), x)
        else:
            h, c = (self._state(s, B, batched) for s in hx)
        h, c = lstm_cell(x, (h, c), self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class RNNCell(_CellBase):
    """一步 Elman RNN：``h' = φ(x Wᵢₕᵀ + bᵢₕ + h Wₕₕᵀ + bₕₕ)``，φ = tanh 或 relu；省略 h 时为 0。

    ``RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh')``; weight_ih (H, in),
    weight_hh (H, H), biases (H,), all ~ U(−1/√H, 1/√H) as in PyTorch."""
    gates = 1

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in NONLINEARITIES:
            raise TensorError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; select from 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        x, batched = self._input(input)
        B = x.shape[0]
        h = _zeros((B, self.hidden_size), x) if hx is None else self._state(hx, B, batched)
        params = [self.weight_ih, self.weight_hh] + ([self.bias_ih, self.bias_hh] if self.bias else [])
        _, h_new = RNNLayerFn.apply(x.unsqueeze(0), *params, h, nonlinearity=self.nonlinearity)   # 长度为 1 的序列
        return h_new if batched else h_new.squeeze(0)

    def extra_repr(self):
        s = super().extra_repr()
        return s + ("" if self.nonlinearity == "tanh" else f", nonlinearity={self.nonlinearity}")


class GRUCell(_CellBase):
    """一步 GRU：``h' = cell(x, h)``（与 PyTorch 的 GRUCell 相同）；省略 h 时为 0。"""
    gates = 3

    def forward(self, input, hx=None):
        x, batched = self._input(input)
        B = x.shape[0]
        h = _zeros((B, self.hidden_size), x) if hx is None else self._state(hx, B, batched)
        params = [self.weight_ih, self.weight_hh] + ([self.bias_ih, self.bias_hh] if self.bias else [])
        _, h_new = GRULayerFn.apply(x.unsqueeze(0), *params, h)   # 长度为 1 的序列
        return h_new if batched else h_new.squeeze(0)


__all__ = ["RNN", "RNNCell", "LSTM", "LSTMCell", "GRU", "GRUCell"]
