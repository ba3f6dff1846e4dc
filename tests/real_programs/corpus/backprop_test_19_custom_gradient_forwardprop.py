# Origin: tensorflow/tensorflow tensorflow/python/eager/backprop_test.py, testCustomGradientForwardprop (nested custom gradients: second order and transpose).
# Changes: tensor_util.constant_value -> tf.get_static_value; array_ops.ones -> tf.ones; asserts
# become prints.
import tensorflow as tf


@tf.custom_gradient
def f(x):
    z = 2.0 * tf.get_static_value(x)

    def g(dz):
        @tf.custom_gradient
        def first_order(unused_x, unused_dz):
            def second_order_and_transpose(unused_ddz):
                return 2.2, 3.1

            return 2.1, second_order_and_transpose

        return first_order(x, dz)

    return z, g


with tf.GradientTape(persistent=True) as t:
    with tf.GradientTape() as tt:
        c = tf.constant(1.0)
        t.watch(c)
        tt.watch(c)
        output_grad = tf.ones([])
        t.watch(output_grad)
        output = f(c)
        print(output)
    gc = tt.gradient(output, c, output_gradients=output_grad)
    print(gc)
ggc = t.gradient(gc, c)
print(ggc)
print(t.gradient(gc, output_grad))
