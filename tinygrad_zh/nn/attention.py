"""注意力：函数 ``scaled_dot_product_attention`` 与层 ``MultiheadAttention``（与 PyTorch 同名同参数）。

一个头的数学::

    Attention(Q, K, V) = softmax(Q Kᵀ / √d + M) V

Q: (L, d) 是 L 个查询，K: (S, d) 与 V: (S, d_v) 是 S 个键和值。Q Kᵀ 的第 (i, j) 项是查询 i 与键 j
的点积（相似度）；除以 √d 是因为 d 个独立分量之和的方差随 d 增长，不缩放的话 softmax 会饱和、梯度消失。
对每一行做 softmax 得到注意力权重（每行非负、和为 1），输出的第 i 行就是各个值向量按这些权重的加权平均。
M 是掩码：被遮住的位置加 −∞，softmax 之后权重恰好为 0，等于"看不见"这个键。

多头注意力把 E 维切成 H 个头（每头 d = E/H 维），先用三个线性映射得到 Q、K、V，各头分别做一次上面的
运算，再把 H 个结果拼回 E 维，过一次线性层 ``out_proj``。

求导：这里只组合已有的可微运算（matmul、softmax、masked_fill、加法、reshape/transpose、dropout），
梯度由自动求导得到，不需要新的 Function。记 P = softmax(A)、A = Q Kᵀ·s、O = P V，链式法则给出::

    dV = Pᵀ dO,   dP = dO Vᵀ,   dA = P ⊙ (dP − rowsum(dP ⊙ P)),   dQ = s·dA K,   dK = s·dAᵀ Q

（前两条和后两条来自 matmul 的 backward，中间一条来自 softmax 的 backward；被遮住的位置 P = 0，
所以那里的 dA 也是 0。）

两种布尔掩码的约定相反（与 PyTorch 相同，容易弄混）：

* ``F.scaled_dot_product_attention`` 的布尔 ``attn_mask``：True = 参与注意力（保留）；
* ``nn.MultiheadAttention`` 的布尔 ``attn_mask`` / ``key_padding_mask``：True = 遮住（不许看）。

浮点掩码在两处都是直接加到分数上（0 = 不变，−inf = 遮住）。

English: attention composed from existing differentiable ops. Boolean masks: True means *keep* in
``scaled_dot_product_attention`` but *mask out* in ``MultiheadAttention`` (PyTorch's conventions);
float masks are added to the scores in both.
"""
import math
import numbers
import warnings

import numpy as np

from ..tensor import Tensor, cat
from . import functional as F
from .functional import (AttentionShapeError, _apply_mask, _causal_keep, _check_tensor, _mask_is_bool,  # noqa: F401
                         _pad_last, _softmax_rows, scaled_dot_product_attention)   # 函数形式在 functional.py
from . import init
from .linear import Linear
from .module import Module
from ..errors import TensorError

# ---------------------------------------------------------------------- 层
class NonDynamicallyQuantizableLinear(Linear):
    """``MultiheadAttention.out_proj`` 的类型：就是 Linear（PyTorch 用这个名字只是为了量化工具，
    这里保留名字，让 ``print(model)`` 与 PyTorch 一致）。"""


class MultiheadAttention(Module):
    """多头注意力：``MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
    add_zero_attn=False, kdim=None, vdim=None, batch_first=False)``。

    每个头 h（d = embed_dim / num_heads）::

        Q_h = query W_qₕᵀ + b_qₕ,  K_h = key W_kₕᵀ + b_kₕ,  V_h = value W_vₕᵀ + b_vₕ
        head_h = softmax(Q_h K_hᵀ / √d + M) V_h
        output = concat(head_1, …, head_H) W_oᵀ + b_o                （W_o, b_o 就是 out_proj）

    参数（名字、形状、初始化与 PyTorch 相同，``state_dict`` 的键也相同）：

    * kdim = vdim = embed_dim 时：``in_proj_weight`` (3E, E)，依次是 W_q、W_k、W_v 三块；
      否则 ``q_proj_weight`` (E, E)、``k_proj_weight`` (E, kdim)、``v_proj_weight`` (E, vdim)。
      都用 ``xavier_uniform_`` 初始化。
    * ``in_proj_bias`` (3E,)（bias=False 时没有）：初始化为 0。
    * ``out_proj``：Linear(E, E)，权重保持 Linear 的默认初始化，偏置置 0。
    * add_bias_kv=True 时 ``bias_k``、``bias_v`` (1, 1, E)：作为一个额外的键/值接在序列末尾
      （``xavier_normal_`` 初始化）。add_zero_attn=True 时再接一个全零的键/值。

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` 返回 ``(attn_output, attn_output_weights)``：

    * query (L, N, E)，key (S, N, kdim)，value (S, N, vdim)；batch_first=True 时 (N, L, E) 等；
      不带批维时 (L, E)、(S, kdim)、(S, vdim)。输出与 query 同布局，最后一维是 E。
    * ``key_padding_mask`` (N, S)（不带批维时 (S,)）：遮住补齐（padding）用的键。布尔 **True = 遮住**；
      浮点：加到分数上。
    * ``attn_mask`` (L, S) 或 (N·num_heads, L, S)（第 n 个样本第 h 个头在下标 n·num_heads + h）：
      布尔 **True = 不许看**；浮点：加到分数上。两个掩码可以同时给出，效果叠加。
    * ``need_weights=True`` 时第二个返回值是注意力权重：``average_attn_weights=True`` 为各头的平均
      (N, L, S)，否则 (N, num_heads, L, S)；训练时它是 dropout 之后的权重（与 PyTorch 相同）。
      ``need_weights=False`` 时返回 None。
    * 某一行的键全被遮住时：need_weights=True 这一行是 NaN，need_weights=False 时为 0（都与 PyTorch 相同）。
    * ``is_causal=True`` 只是提示"attn_mask 就是因果掩码"，所以必须同时给 attn_mask；与 PyTorch 相同，
      当 need_weights=False 且没有 key_padding_mask 时直接用因果掩码代替 attn_mask。
    * ``dropout``：训练模式下对注意力权重做 dropout。

    English: PyTorch's nn.MultiheadAttention (same parameters, initialisation, masks and outputs).
    Boolean masks here are True = masked out (the opposite of scaled_dot_product_attention)."""

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        name = "MultiheadAttention"
        for arg, v in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise TypeError(f"{name}: {arg} must be an int, got {type(v).__name__} ({v!r})")
        if embed_dim <= 0 or num_heads <= 0:
            raise TensorError(f"{name}: embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                             f"and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise AttentionShapeError(f"{name}: embed_dim must be divisible by num_heads, got embed_dim="
                                      f"{embed_dim} and num_heads={num_heads}")
        for arg, v in (("kdim", kdim), ("vdim", vdim)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0):
                raise TensorError(f"{name}: {arg} must be a positive int or None, got {v!r}")
        if not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise TensorError(f"{name}: dropout must be a number in [0, 1], got {dropout!r}")
        E = int(embed_dim)
        self.embed_dim, self.num_heads, self.head_dim = E, int(num_heads), E // int(num_heads)
        self.kdim = E if kdim is None else int(kdim)
        self.vdim = E if vdim is None else int(vdim)
        self._qkv_same_embed_dim = self.kdim == E and self.vdim == E
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.add_zero_attn = bool(add_zero_attn)
        # 登记顺序与 PyTorch 相同（parameters() 与 state_dict() 的顺序因此也相同）
        if self._qkv_same_embed_dim:
            self.in_proj_weight = init.empty_parameter((3 * E, E), dtype, device)
            for n in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(n, None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = init.empty_parameter((E, E), dtype, device)
            self.k_proj_weight = init.empty_parameter((E, self.kdim), dtype, device)
            self.v_proj_weight = init.empty_parameter((E, self.vdim), dtype, device)
        if bias:
            self.in_proj_bias = init.empty_parameter((3 * E,), dtype, device)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(E, E, bias=bias, device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = init.empty_parameter((1, 1, E), dtype, device)
            self.bias_v = init.empty_parameter((1, 1, E), dtype, device)
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self):
        """投影权重 xavier_uniform_，全部偏置 0，bias_k/bias_v xavier_normal_（与 PyTorch 相同）。"""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    # ------------------------------------------------------------- 检查输入
    def _check(self, query, key, value, key_padding_mask, attn_mask):
        """检查维数与形状（报错写出各自的形状），返回 (batched, L, S)。"""
        op = "MultiheadAttention"
        for name, t in (("query", query), ("key", key), ("value", value), ("key_padding_mask", key_padding_mask),
                        ("attn_mask", attn_mask)):
            if t is not None:
                _check_tensor(op, name, t)
        if query.ndim not in (2, 3):
            raise AttentionShapeError(f"{op}: query must be unbatched 2-D (L, E) or batched 3-D, got a "
                                      f"{query.ndim}-D query of shape {query.shape}")
        batched = query.ndim == 3
        kind = "batched (3-D)" if batched else "unbatched (2-D)"
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise AttentionShapeError(f"{op}: for {kind} query {query.shape}, key and value must be "
                                      f"{query.ndim}-D too, got key {key.shape} and value {value.shape}")
        if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
            raise AttentionShapeError(f"{op}: for {kind} query, key_padding_mask must be "
                                      f"{'2-D (N, S)' if batched else '1-D (S,)'}, got shape "
                                      f"{key_padding_mask.shape}")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AttentionShapeError(f"{op}: attn_mask must be 2-D (L, S) or 3-D (N*num_heads, L, S), got shape "
                                      f"{attn_mask.shape}")
        seq = 1 if self.batch_first else 0          # 序列维（带批维时）
        if batched:
            L, N, S = query.shape[seq], query.shape[1 - seq], key.shape[seq]
        else:
            L, N, S = query.shape[0], 1, key.shape[0]
        if query.shape[-1] != self.embed_dim:
            raise AttentionShapeError(f"{op}: expected query with embed_dim={self.embed_dim} features (last dim), "
                                      f"got query of shape {query.shape}")
        for name, t, want, arg in (("key", key, self.kdim, "kdim"), ("value", value, self.vdim, "vdim")):
            if t.shape[-1] != want:
                raise AttentionShapeError(f"{op}: expected {name} with {arg}={want} features (last dim), got "
                                          f"{name} of shape {t.shape}")
        if key.shape[:-1] != value.shape[:-1]:
            raise AttentionShapeError(f"{op}: key and value must have the same sequence and batch dims, got key "
                                      f"{key.shape} and value {value.shape}")
        if batched and key.shape[1 - seq] != N:
            raise AttentionShapeError(f"{op}: key/value batch size {key.shape[1 - seq]} (shape {key.shape}) does "
                                      f"not match the query's batch size {N} (shape {query.shape})")
        kinds = []
        for name, m, want in (("key_padding_mask", key_padding_mask, (N, S) if batched else (S,)),
                              ("attn_mask", attn_mask, None)):
            if m is None:
                kinds.append(None)
                continue
            kinds.append(_mask_is_bool(op, name, m, query))
            if want is None:
                want = (L, S) if m.ndim == 2 else (N * self.num_heads, L, S)
            if m.shape != want:
                raise AttentionShapeError(f"{op}: expected {name} of shape {want}, got {m.shape} (query "
                                          f"{query.shape}, key {key.shape}, num_heads={self.num_heads}, "
                                          f"batch_first={self.batch_first})")
        if kinds[0] is not None and kinds[1] is not None and kinds[0] != kinds[1]:
            warnings.warn(f"{op}: key_padding_mask and attn_mask have different types (one bool, one float); "
                          "both are applied, but PyTorch deprecates mixing them: use the same type for both",
                          UserWarning, stacklevel=3)
        return batched, L, S

    # ------------------------------------------------------------- 前向
    def _projection_weights(self):
        """(W_q, W_k, W_v) 与 (b_q, b_k, b_v)：in_proj_weight / in_proj_bias 按行切成三块（切片可求导）。"""
        E = self.embed_dim
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            ws = (w[:E], w[E:2 * E], w[2 * E:])
        else:
            ws = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        b = self.in_proj_bias
        bs = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        return ws, bs

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        batched, L, S = self._check(query, key, value, key_padding_mask, attn_mask)
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: is_causal=True is only a hint that attn_mask is causal, so "
                               f"attn_mask must be given too (for example the ({L}, {S}) bool mask "
                               f"torch.ones({L}, {S}, dtype=torch.bool).triu(1))")
        # 与 PyTorch 相同：不要权重、也没有 key_padding_mask 时相信提示，用因果掩码代替 attn_mask
        causal_hint = is_causal and key_padding_mask is None and not need_weights
        if causal_hint:
            attn_mask = None
        self_attention = query is key and key is value          # 换布局之前判断（换完就是三个新张量了）
        # 内部统一成 batch_first 布局 (N, L, E)
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        N, E = query.shape[0], self.embed_dim
        H, d = self.num_heads, self.head_dim

        # 1. 线性映射得到 Q、K、V。自注意力（三者是同一个张量）时一次乘完整个 in_proj_weight 再切开
        if self._qkv_same_embed_dim and self_attention:
            q, k, v = F.linear(query, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        else:
            (wq, wk, wv), (bq, bk, bv) = self._projection_weights()
            q, k, v = F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

        # 2. add_bias_kv：在序列末尾接上可学习的一对键/值（掩码补一列"不遮住"）
        if self.bias_k is not None:
            k = cat([k, self.bias_k.expand(N, 1, E)], dim=1)
            v = cat([v, self.bias_v.expand(N, 1, E)], dim=1)
            attn_mask = None if attn_mask is None else _pad_last(attn_mask)
            key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)

        # 3. 切成 H 个头：(N, T, E) -> (N, T, H, d) -> (N, H, T, d)
        def heads(t):
            return t.reshape(N, t.shape[1], H, d).transpose(1, 2)

        q, k, v = heads(q), heads(k), heads(v)
        if self.add_zero_attn:                   # 再接一个全零的键/值
            zeros = Tensor(np.zeros((N, H, 1, d), dtype=q.dtype), device=q.device)
            k, v = cat([k, zeros], dim=2), cat([v, zeros], dim=2)
            attn_mask = None if attn_mask is None else _pad_last(attn_mask)
            key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)
        S = k.shape[2]

        # 4. 分数 Q Kᵀ / √d：(N, H, L, S)；再加上两种掩码（布尔：True = 遮住）
        scores = q.matmul(k.transpose(-2, -1)) * (1.0 / math.sqrt(d))
        if causal_hint:                          # 左上角对齐的因果掩码：查询 i 只看键 0..i
            scores = _apply_mask(scores, _causal_keep(L, S, scores), masked_when=False)
        if attn_mask is not None:
            m = attn_mask if attn_mask.ndim == 2 else attn_mask.reshape(N, H, L, S)
            scores = _apply_mask(scores, m, masked_when=True)
        if key_padding_mask is not None:
            scores = _apply_mask(scores, key_padding_mask.reshape(N, 1, 1, S), masked_when=True)

        # 5. 每行 softmax 得到权重，训练时 dropout，再对值加权平均
        weights = _softmax_rows(scores, zero_dead_rows=not need_weights)
        if self.training and self.dropout > 0:
            weights = F.dropout(weights, self.dropout, True)
        out = weights.matmul(v)                                           # (N, H, L, d)

        # 6. 拼回 E 维，过 out_proj，再换回输入的布局
        out = self.out_proj(out.transpose(1, 2).reshape(N, L, E))
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(dim=1)                                 # (N, L, S)
        return out, (weights if batched else weights.squeeze(0))
