"""所有运算（Function 子类），按家族分文件：

- ``elementwise``: + − × ÷ // % fmod 幂 exp log sqrt abs tanh sigmoid relu ... (逐元素)
- ``reduce``:      sum mean max min logsumexp var argmax，累加 cumsum / 累乘 cumprod (归约)
- ``shape``:       reshape permute expand cat stack flip triu tril (形状)
- ``index``:       x[...] 与 Embedding 的散加 (索引)
- ``matmul``:      矩阵乘法与融合的 Linear
- ``einsum``:      爱因斯坦求和 einsum("ij,jk->ik", a, b)，反向也是 einsum
- ``softmax``:     softmax / log_softmax / 融合的 softmax 交叉熵
"""
