"""TensorFlow, imported once, quietly, in TF1 graph mode."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_quietly():
    """Import tensorflow with fd 2 muted: its C++ side prints CUDA-probe lines before any log level applies."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tensorflow


tf = _import_quietly()
tf.compat.v1.disable_eager_execution()
tf.get_logger().setLevel("ERROR")
v1 = tf.compat.v1
