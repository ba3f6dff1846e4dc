# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testOverrideSecondOrderWithCustomGradient (a custom first-order gradient whose own
# gradient is custom too).
# Changes: assertAllClose becomes prints.
import tensorflow as tf


@tf.custom_gradient
def f(x):
    def first_order_grad(dz):
        @tf.custom_gradient
        def first_order_custom(unused_x):
            def h(ddz):
                return -2.1 * ddz

            return -1.1, h

        return dz * first_order_custom(x)

    return x + 10.0, first_order_grad


c = tf.constant(1.0)
with tf.GradientTape() as outer:
    outer.watch(c)
    with tf.GradientTape() as inner:
        inner.watch(c)
        d = f(c) ** 4.0
    dd = inner.gradient(d, c)
    print(dd.numpy(), (4.0 * f(c) ** 3.0 * -1.1).numpy())
print(outer.gradient(dd, c).numpy())
print((3.0 * 4.0 * f(c) ** 2.0 * -1.1 * -1.1 + 4.0 * f(c) ** 3.0 * -2.1).numpy())
