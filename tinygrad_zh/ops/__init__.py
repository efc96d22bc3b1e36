"""所有运算（Function 子类），按家族分文件：

- ``elementwise``: + − × ÷ 幂 exp log sqrt abs tanh sigmoid relu ... (逐元素)
- ``reduce``:      sum mean max min logsumexp var argmax (归约)
- ``shape``:       reshape permute expand cat stack (形状)
- ``index``:       x[...] 与 Embedding 的散加 (索引)
- ``matmul``:      矩阵乘法与融合的 Linear
- ``softmax``:     softmax / log_softmax / 融合的 softmax 交叉熵
"""
