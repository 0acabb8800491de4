"""``--keep-heap``: restart the current Python process with glibc's malloc told to keep freed memory.

``tools/train.py`` does it by default when it trains on a CPU (``--no-keep-heap`` or ``PJEPA3D_KEEP_HEAP=0`` to
not); ``tools/demo.sh`` exports the variables for every process it starts; ``benchmarks/evidence.py``,
``benchmarks/bench_amp_curve.py``, ``benchmarks/bench_masker.py`` and ``benchmarks/bench_tokenizer.py`` take
``--keep-heap`` (the last two by default on a CPU, as training).

PyTorch's CPU allocator returns every large tensor to glibc, and glibc hands big blocks back to the kernel
(``mmap`` / ``munmap``, heap trimming), so each training step page-faults its activations in afresh. With the
three settings below, freed memory stays in the process's heap and the next step reuses the mapped pages; the
maths is unchanged, only where tensors live. Measured here (``benchmarks/README.md``): before the mini-PointNet ran
in blocks (commit eabf3b6), the ViT-S bfloat16 step 1.76 -> 1.40 s at 0.17 GB more peak memory and the ViT-T demo
config under ``--amp`` 1.28-1.48x faster; since then, the ViT-S bfloat16 step 1.73 -> 1.47 s (median of three
rounds, ``bench_pretrain_step.py --amp --malloc``) at no more peak memory (1.31 GB against 1.33), and the ViT-T demo
config under ``--amp`` 0.427 -> 0.412 s an iteration (``bench_amp_curve.py --keep-heap``, the loss identical).

glibc reads these variables once, when the process starts (``mallopt`` at run time cannot set a trim threshold
above 2 GB and misses what was allocated before it), so the switch is a re-``exec`` of the same command line with
them in the environment: same PID (launchers such as ``torchrun`` keep tracking the worker), same arguments.
Variables the user already set are kept as they are. On a platform other than Linux with glibc the switch does
nothing and says so.
"""
import os
import platform
import shlex
import sys

#: glibc malloc tunables: never serve an allocation with its own mmap, never trim the heap (1 TiB threshold),
#: grow it 256 MiB at a time
HEAP_ENV = dict(MALLOC_MMAP_MAX_='0', MALLOC_TRIM_THRESHOLD_=str(1 << 40), MALLOC_TOP_PAD_=str(1 << 28))


def on_glibc():
    """Whether this is Linux with glibc, the only place the :data:`HEAP_ENV` variables mean anything."""
    return platform.system() == 'Linux' and platform.libc_ver()[0] == 'glibc'


def heap_would_help():
    """Whether :func:`keep_heap` would change anything here: glibc, and not every :data:`HEAP_ENV` variable set."""
    return on_glibc() and any(k not in os.environ for k in HEAP_ENV)


def wants_kept_heap(flag=None, restart=True):
    """Whether a command should call :func:`keep_heap`: as its ``--keep-heap`` / ``--no-keep-heap`` say (``flag``
    True / False); by default (``None``) when it runs on a CPU (no accelerator) with glibc, unless
    ``PJEPA3D_KEEP_HEAP=0``, and only when the process has a command line of its own to restart (``restart``; a
    script's ``main(argv)`` called from Python is left as it is)."""
    if flag is not None:
        return bool(flag)
    if not restart or os.environ.get('PJEPA3D_KEEP_HEAP', '1') == '0' or not on_glibc():
        return False
    from pjepa3d.engine.distributed import has_accelerator  # here: run as a file this module imports no torch
    return not has_accelerator()


def keep_heap(tag='pjepa3d', restart=True):
    """Re-execute this process's command line (``sys.orig_argv``) with :data:`HEAP_ENV` added to its environment,
    unless every variable is already set (then: return ``True``; the re-executed process returns here), the C
    library is not glibc, or ``restart`` is false (a script's ``main(argv)`` called from Python, whose command line
    is someone else's): then print why and what to set, and return ``False``. Call it after argument parsing,
    before training allocates anything."""
    missing = {k: v for k, v in HEAP_ENV.items() if k not in os.environ}
    if not missing:
        print(f'[{tag}] --keep-heap: on (' + ' '.join(f'{k}={os.environ[k]}' for k in HEAP_ENV) + ')', flush=True)
        return True
    if not on_glibc():
        print(f'[{tag}] --keep-heap: ignored on {platform.system()} ({platform.libc_ver()[0] or "no glibc"}): '
              'it sets glibc malloc variables', flush=True)
        return False
    settings = ' '.join(f'{k}={v}' for k, v in missing.items())
    if not restart:
        print(f'[{tag}] --keep-heap: not restarting a process started elsewhere; set {settings} before starting '
              'Python', flush=True)
        return False
    print(f'[{tag}] --keep-heap: restarting with {settings}', flush=True)
    sys.stderr.flush()  # exec discards unwritten buffers
    os.execve(sys.executable, [sys.executable] + sys.orig_argv[1:], {**os.environ, **missing})


def kept_heap_env():
    """The :data:`HEAP_ENV` variables this process runs with (set by :func:`keep_heap` or by hand), for a record."""
    return {k: os.environ[k] for k in HEAP_ENV if k in os.environ}


def heap_note(env):
    """'glibc heap kept (VAR=value ...)' or 'glibc heap not kept', for ``env`` from :func:`kept_heap_env`."""
    return 'glibc heap ' + ('kept (' + ' '.join(f'{k}={v}' for k, v in env.items()) + ')' if env else 'not kept')


def add_keep_heap_argument(parser):
    """``--keep-heap`` / ``--no-keep-heap`` (default None: :func:`wants_kept_heap` decides) on a benchmark's parser."""
    import argparse
    parser.add_argument('--keep-heap', action=argparse.BooleanOptionalAction, default=None,
                        help='glibc malloc told to keep freed memory, by restarting with its variables (Linux), as '
                             'tools/train.py does on a CPU; default: on when no GPU is present, unless '
                             'PJEPA3D_KEEP_HEAP=0')


def keep_heap_as_training(flag, tag, argv=None):
    """For a benchmark that times what training runs: :func:`keep_heap` where :func:`wants_kept_heap` says
    (``flag``: its ``--keep-heap`` / ``--no-keep-heap``; ``argv`` not None: ``main(argv)`` called from Python, not
    restarted) -> :func:`kept_heap_env`, what the timings ran with."""
    if wants_kept_heap(flag, restart=argv is None):
        keep_heap(tag, restart=argv is None)
    return kept_heap_env()


def shell_exports():
    """``export`` lines for :data:`HEAP_ENV` (variables already set are kept), for a shell script to ``eval`` so
    that every Python process it starts keeps its heap (``tools/demo.sh``); empty off Linux / glibc."""
    if not on_glibc():
        return ''
    return ''.join(f'export {k}={shlex.quote(os.environ.get(k, v))}\n' for k, v in HEAP_ENV.items())


if __name__ == '__main__':
    # eval "$(python pjepa3d/utils/cpu_heap.py)": run as a file, it imports neither torch nor pjepa3d
    sys.stdout.write(shell_exports())
