"""距离与相似度（PyTorch 的 ``nn.CosineSimilarity``）。Distances and similarities between two inputs."""
from . import functional as F
from .module import Module


class CosineSimilarity(Module):
    """沿 ``dim`` 的余弦相似度 Σ(x₁·x₂) / (max(‖x₁‖, eps)·max(‖x₂‖, eps))。"""

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
