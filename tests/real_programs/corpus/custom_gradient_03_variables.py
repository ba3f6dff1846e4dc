# Origin: tensorflow/tensorflow tensorflow/python/ops/custom_gradient.py, custom_gradient docstring (linear_poly: a grad_fn that takes variables=).
import tensorflow as tf

weights = tf.Variable(tf.ones([2]))


@tf.custom_gradient
def linear_poly(x):
    poly = weights[1] * x + weights[0]

    def grad_fn(dpoly, variables):
        grad_xs = dpoly * weights[1]
        grad_vars = []
        assert variables is not None
        assert len(variables) == 1
        assert variables[0] is weights
        dy_dw = dpoly * tf.stack([x**1, x**0])
        grad_vars.append(tf.reduce_sum(tf.reshape(dy_dw, [2, -1]), axis=1))
        return grad_xs, grad_vars

    return poly, grad_fn


x = tf.constant([1.0, 2.0, 3.0])
with tf.GradientTape(persistent=True) as tape:
    tape.watch(x)
    poly = linear_poly(x)
print(repr(poly))
print(repr(tape.gradient(poly, x)))
print(repr(tape.gradient(poly, weights)))
