# Origin: tensorflow/tensorflow tensorflow/python/ops/custom_gradient.py, custom_gradient docstring (bar(x, y): one gradient per input).
import tensorflow as tf


@tf.custom_gradient
def bar(x, y):
    def grad(upstream):
        dz_dx = y
        dz_dy = x
        return upstream * dz_dx, upstream * dz_dy

    z = x * y
    return z, grad


x = tf.constant(2.0, dtype=tf.float32)
y = tf.constant(3.0, dtype=tf.float32)
with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    tape.watch(y)
    z = bar(x, y)
print(repr(z))
print(repr(tape.gradient(z, x)))
print(repr(tape.gradient(z, y)))
