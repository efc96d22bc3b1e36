"""Packaging for tinygrad_zh: `pip install .` (add extras: .[dev], .[examples], .[notebooks], .[cuda],
.[distributed]).  `pip install ".[notebooks]"` is all a learner needs for the notebooks in docs/notebooks/.

GPU: `pip install ".[cuda]"` installs the prebuilt CuPy wheel for CUDA 12 (cupy-cuda12x); for a
CUDA 13 driver use `pip install ".[cuda13]"` (cupy-cuda13x). Add the CUDA libraries from PyPI
(NVRTC, cuBLAS, ...) with `pip install "cupy-cuda12x[ctk]"` (or 13x) when no CUDA toolkit is
installed; NCCL (backend="nccl"): nvidia-nccl-cu12 / nvidia-nccl-cu13. Without a GPU,
TINYGRAD_ZH_CUDASIM=1 runs device "cuda" on the CUDA simulator (needs g++).
"""
from setuptools import find_packages, setup

setup(
    name="tinygrad_zh",
    version="0.1.0",
    description="A from-scratch deep learning framework for learners: NumPy/CuPy backend, "
                "reverse-mode autograd, Chinese-first docs",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["tinygrad_zh", "tinygrad_zh.*"]) + ["tinygrad_zh.kernels"],
    # the CUDA sources live in the repository's kernels/ and are installed as tinygrad_zh/kernels
    package_dir={"tinygrad_zh.kernels": "kernels"},
    package_data={"tinygrad_zh": ["kernels/*.cu", "kernels/*.cuh"],
                  "tinygrad_zh.kernels": ["*.cu", "*.cuh", "host/*.cpp"],
                  "tinygrad_zh.cuda.sim": ["tgsim.h"]},
    python_requires=">=3.9",
    install_requires=["numpy"],
    extras_require={
        "cuda": ["cupy-cuda12x"],           # prebuilt wheel; never "cupy" (the source package)
        "cuda13": ["cupy-cuda13x"],
        "examples": ["tqdm", "matplotlib", "hypothesis"],    # hypothesis: tutorial page 9
        # everything the tutorial notebooks (docs/notebooks/) need, Jupyter included
        "notebooks": ["notebook", "ipykernel", "nbformat", "nbclient", "tqdm", "matplotlib", "hypothesis"],
        "exercises": ["hypothesis"],        # python -m tinygrad_zh.exercises check (grading)
        # nbformat/nbclient/ipykernel: tests/test_notebooks.py executes the notebooks in a kernel
        "dev": ["pytest", "hypothesis", "tqdm", "matplotlib", "nbformat", "nbclient", "ipykernel"],
        "distributed": ["mpi4py", "mpich"],
    },
)
