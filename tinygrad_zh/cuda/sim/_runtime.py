"""``cupy.cuda`` of the simulator: one device, streams, events, the runtime queries, NVRTC errors.

Everything runs synchronously on the host, so streams and events only keep their API (and the
ordering they promise holds trivially). ``Device`` is unhashable and compares by id, like CuPy's.
"""
import time

from ._array import _PINNED, _POOL, MemoryPool, PinnedMemoryPool
from ._compiler import CompileException

NAME = "tinygrad_zh CUDA simulator (host CPU)"


class CUDARuntimeError(RuntimeError):
    def __init__(self, status, msg=None):
        self.status = status
        super().__init__(msg or f"cudaErrorInvalidDevice: invalid device ordinal ({status})")


class Device:
    """``cupy.cuda.Device(0)``: the simulated GPU (there is exactly one)."""
    __hash__ = None

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        if self.id != 0:
            raise CUDARuntimeError(101)

    def __int__(self):
        return self.id

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def use(self):
        return self

    def synchronize(self):
        pass

    @property
    def compute_capability(self):
        return "80"

    @property
    def mem_info(self):
        return (64 << 30) - _POOL.total_bytes(), 64 << 30

    @property
    def attributes(self):
        return {"MultiProcessorCount": 1, "MaxThreadsPerBlock": 1024, "WarpSize": 32}


class Stream:
    """``cupy.cuda.Stream``: kernels run at once in the simulator; ``synchronize`` is a no-op."""
    _current = None

    def __init__(self, null=False, non_blocking=False, ptds=False, priority=None):
        self.ptr = 0 if null else id(self)
        self.device_id = 0
        self._prev = []

    def synchronize(self):
        pass

    def done(self):
        return True

    def use(self):
        Stream._current = self
        return self

    def __enter__(self):
        self._prev.append(Stream._current)
        Stream._current = self
        return self

    def __exit__(self, *exc):
        Stream._current = self._prev.pop()
        return False

    def record(self, event=None):
        event = event or Event()
        event.record(self)
        return event

    def wait_event(self, event):
        pass

    def __eq__(self, other):
        return isinstance(other, Stream) and other.ptr == self.ptr

    __hash__ = object.__hash__


Stream.null = Stream(null=True)


def get_current_stream(device_id=None):
    return Stream._current or Stream.null


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self._t = None

    def record(self, stream=None):
        self._t = time.perf_counter()

    def synchronize(self):
        pass

    @property
    def done(self):
        return True


def get_elapsed_time(start_event, end_event):
    """Milliseconds between two recorded events."""
    return (end_event._t - start_event._t) * 1e3


class runtime:
    """``cupy.cuda.runtime`` (the queries the library makes)."""
    CUDARuntimeError = CUDARuntimeError

    @staticmethod
    def getDeviceCount():
        return 1

    @staticmethod
    def getDevice():
        return 0

    @staticmethod
    def setDevice(device):
        Device(device)

    @staticmethod
    def deviceSynchronize():
        pass

    @staticmethod
    def runtimeGetVersion():
        return 12080

    @staticmethod
    def driverGetVersion():
        return 12080

    @staticmethod
    def getDeviceProperties(device):
        Device(device)
        return {"name": NAME.encode(), "totalGlobalMem": 64 << 30, "multiProcessorCount": 1,
                "major": 8, "minor": 0, "warpSize": 32, "maxThreadsPerBlock": 1024,
                "sharedMemPerBlock": 48 * 1024, "maxGridSize": (2 ** 31 - 1, 65535, 65535)}

    @staticmethod
    def memGetInfo():
        return Device().mem_info


class compiler:
    CompileException = CompileException


class memory:
    MemoryPool = MemoryPool


from . import _nccl  # noqa: E402


class cuda:
    """The ``cupy.cuda`` namespace of the simulator."""
    nccl = _nccl
    Device = Device
    Stream = Stream
    Event = Event
    runtime = runtime
    compiler = compiler
    memory = memory
    MemoryPool = MemoryPool
    PinnedMemoryPool = PinnedMemoryPool
    get_current_stream = staticmethod(get_current_stream)
    get_elapsed_time = staticmethod(get_elapsed_time)
    is_available = staticmethod(lambda: True)

    @staticmethod
    def get_device_id():
        return 0


def get_default_memory_pool():
    return _POOL


def get_default_pinned_memory_pool():
    return _PINNED
