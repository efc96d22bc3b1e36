"""参考答案（先自己做！）。每个文件和 ``stubs/`` 里的同名题目文件相同，只是 ``# >>> 答案`` 与
``# <<< 答案`` 之间填上了答案；``stubs/`` 由 ``python -m tinygrad_zh.exercises._stubgen`` 从这里生成。"""
