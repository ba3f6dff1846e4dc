# Origin: tensorflow/tensorflow tensorflow/python/ops/custom_gradient.py, custom_gradient docstring (log1pexp: the naive gradient is NaN at x = 100).
import tensorflow as tf


def log1pexp_naive(x):
    return tf.math.log(1 + tf.exp(x))


@tf.custom_gradient
def log1pexp(x):
    e = tf.exp(x)

    def grad(upstream):
        return upstream * (1 - 1 / (1 + e))

    return tf.math.log(1 + e), grad


x = tf.constant(100.0)
for f in (log1pexp_naive, log1pexp):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    print(f.__name__, y.numpy(), tape.gradient(y, x).numpy())
