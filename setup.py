"""Packaging for tinygrad_zh: `pip install .` (add extras: .[dev], .[examples], .[cuda], .[distributed])."""
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
                  "tinygrad_zh.kernels": ["*.cu", "*.cuh", "host/*.cpp"]},
    python_requires=">=3.9",
    install_requires=["numpy"],
    extras_require={
        "cuda": ["cupy"],
        "examples": ["tqdm", "matplotlib"],
        "dev": ["pytest", "hypothesis", "tqdm", "matplotlib"],
        "distributed": ["mpi4py", "mpich"],
    },
)
