"""题目文件（``python -m tinygrad_zh.exercises init DIR`` 把它们复制到 DIR）。由 ``_stubgen`` 从
``solutions/`` 生成，不要手改。"""
