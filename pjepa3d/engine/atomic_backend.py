"""A local file backend whose writes are atomic: a crash mid-save never leaves a truncated checkpoint."""
import os
import os.path as osp
import tempfile

from mmengine.fileio import LocalBackend, register_backend


def _umask():
    """The process's umask (read by setting it and restoring it at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """``put`` / ``put_text`` write to a temporary file in the same folder, fsync, then ``os.replace``.

    Select it with ``CheckpointHook(backend_args=dict(backend='atomic_local'))``
    (pjepa3d's default runtime does), so ``epoch_N.pth`` and ``last_checkpoint``
    are either the old file or the complete new one. The file gets the permissions
    a plain ``open(path, 'wb')`` gives (0o666 less the umask), not the owner-only
    0o600 of the temporary file: a checkpoint in a shared work dir stays readable.
    """

    def put(self, obj, filepath):
        filepath = str(filepath)
        os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(filepath) + '.', suffix='.tmp',
                                   dir=osp.dirname(osp.abspath(filepath)))
        try:
            os.chmod(tmp, 0o666 & ~_umask())
            with os.fdopen(fd, 'wb') as f:
                f.write(obj)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, filepath)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise

    def put_text(self, obj, filepath, encoding='utf-8'):
        self.put(obj.encode(encoding), filepath)
