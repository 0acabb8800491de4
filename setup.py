"""Install pjepa3d: ``pip install -e .`` (torch first on CPU: pip install torch==2.13.0)."""
import os.path as osp

from setuptools import find_packages, setup


def read_requirements(name):
    path = osp.join(osp.dirname(__file__), 'requirements', name)
    with open(path) as f:
        return [line.split('#')[0].strip() for line in f if line.split('#')[0].strip()]


def read_version():
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'pjepa3d', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='pjepa3d',
    version=read_version(),
    description='Point-JEPA self-supervised pretraining for point-cloud Transformers (OpenMMLab style)',
    packages=find_packages(include=['pjepa3d', 'pjepa3d.*']),
    license='Apache License 2.0',
    python_requires='>=3.9',
    install_requires=read_requirements('runtime.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    zip_safe=False,
)
