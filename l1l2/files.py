"""What can be wrong with a file a user hands in, checked before it is opened."""
import os
import stat


def file_problem(path, max_bytes=None):
    """None if path is a regular file (of at most max_bytes), else what is wrong, in a few words.

    FIFOs and devices are refused before open(): reading one can block forever or never end."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "not found"
    except OSError as e:
        return f"cannot be read ({e.strerror})"
    if stat.S_ISDIR(st.st_mode):
        return "is a directory"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file (a FIFO, device or socket)"
    if max_bytes is not None and st.st_size > max_bytes:
        return f"is {st.st_size / 1e6:.0f} MB, larger than the {max_bytes / 1e6:.0f} MB allowed"
    return None
